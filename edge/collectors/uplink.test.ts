import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { createUplinkCollector, defaultRouteIface, uplinkConfigSchema, uplinkKind } from './uplink.ts';

const HEAD = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
const route = (...defaults: [string, number][]) =>
  HEAD + defaults.map(([iface, metric]) => `${iface}\t00000000\t0101A8C0\t0003\t0\t0\t${metric}\t00000000\t0\t0\t0\n`).join('') + 'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';

const dir = mkdtempSync(join(tmpdir(), 'ioc-route-'));
mkdirSync(join(dir, 'net'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uplink collector', () => {
  it('finds the default route with the lowest metric and maps it to a kind', () => {
    expect(defaultRouteIface(route(['eth0', 100], ['wwan0', 50]))).toBe('wwan0');
    expect(defaultRouteIface(HEAD)).toBeUndefined();
    const kinds = uplinkConfigSchema.parse({ type: 'uplink' }).kinds;
    expect([uplinkKind('eth0', kinds), uplinkKind('ppp0', kinds), uplinkKind('usb1', kinds), uplinkKind('enx01', kinds)]).toEqual(['fibre', '4g', '4g', 'other']);
  });

  it('reports the uplink and since when; an event when it changes', async () => {
    let t = Date.UTC(2025, 0, 6, 1, 0);
    const c = createUplinkCollector(uplinkConfigSchema.parse({ type: 'uplink', procDir: dir }), { logger: silentLogger() }, { now: () => t });
    const acc = new RecordingAccumulator();
    writeFileSync(join(dir, 'net', 'route'), route(['eth0', 0]));
    await c.gather(acc, new AbortController().signal);
    const t0 = t;
    t += 70 * 60_000; // 08:10 Hanoi: the fibre drops, the 4G modem takes over
    writeFileSync(join(dir, 'net', 'route'), route(['wwan0', 0]));
    await c.gather(acc, new AbortController().signal);
    const t1 = t;
    t += 60_000;
    await c.gather(acc, new AbortController().signal);
    expect(acc.of('uplink').map((r) => r.fields)).toEqual([
      { uplink: 'fibre', iface: 'eth0', uplink_since: t0, since_s: 0, on_4g: 0 },
      { uplink: '4g', iface: 'wwan0', uplink_since: t1, since_s: 0, on_4g: 1 },
      { uplink: '4g', iface: 'wwan0', uplink_since: t1, since_s: 60, on_4g: 1 },
    ]);
    expect(acc.of('uplink_event')).toMatchObject([{ channel: 'event', t: t1, fields: { uplink: '4g', previous: 'fibre', iface: 'wwan0', previous_iface: 'eth0' } }]);
    writeFileSync(join(dir, 'net', 'route'), HEAD);
    await c.gather(acc, new AbortController().signal);
    expect(acc.of('uplink').at(-1)?.fields).toMatchObject({ uplink: 'none', iface: 'none' });
  });

  it('reads the real routing table', async () => {
    const acc = new RecordingAccumulator();
    await createUplinkCollector(uplinkConfigSchema.parse({ type: 'uplink' }), { logger: silentLogger() }).gather(acc, new AbortController().signal);
    expect(typeof acc.only().fields.uplink).toBe('string');
  });
});
