import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultGatewayOf, defaultRoutes, hexToIpv4, parseNetRoute } from './net-route.ts';

// Recorded from a Debian 12 host (eth0, default route via 192.0.2.1); the kernel pads lines with spaces.
const recorded = readFileSync(new URL('./fixtures/proc-net-route.txt', import.meta.url), 'utf8');
const HEAD = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';

describe('/proc/net/route', () => {
  it('reads a recorded table', () => {
    expect(parseNetRoute(recorded)).toEqual([
      { iface: 'eth0', destination: '0.0.0.0', gateway: '192.0.2.1', mask: '0.0.0.0', flags: 3, metric: 0 },
      { iface: 'eth0', destination: '192.0.2.0', gateway: '0.0.0.0', mask: '255.255.255.0', flags: 1, metric: 0 },
    ]);
    expect(defaultRoutes(recorded).map((r) => r.iface)).toEqual(['eth0']);
    expect(defaultGatewayOf(recorded)).toBe('192.0.2.1');
  });

  it('orders default routes by metric, skips routes that are down, and knows a table without one', () => {
    const text = `${HEAD}eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\nwwan0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\nppp0\t00000000\t00000000\t0000\t0\t0\t10\t00000000\t0\t0\t0\n`;
    expect(defaultRoutes(text).map((r) => r.iface)).toEqual(['wwan0', 'eth0']);
    // wwan0 is point-to-point (no gateway): the gateway is the one of the next default route.
    expect(defaultGatewayOf(text)).toBe('192.168.1.1');
    expect(defaultRoutes(HEAD)).toEqual([]);
    expect(defaultGatewayOf('')).toBeUndefined();
    expect(hexToIpv4('0101A8C0')).toBe('192.168.1.1');
    expect(hexToIpv4('zz')).toBeUndefined();
  });
});
