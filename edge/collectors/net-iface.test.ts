import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { createNetIfaceCollector, netIfaceConfigSchema, parseProcNetDev } from './net-iface.ts';

const HEADER = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
const dev = (rx: number, tx: number, errs = 0) =>
  `${HEADER}    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: ${rx} 10 ${errs} 1 0 0 0 0 ${tx} 10 2 0 0 0 0 0\n`;

const dir = mkdtempSync(join(tmpdir(), 'ioc-netdev-'));
mkdirSync(join(dir, 'net'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('net_iface collector', () => {
  it('parses /proc/net/dev', () => {
    expect(parseProcNetDev(dev(1000, 500, 3)).get('eth0')).toEqual({ rxBytes: 1000, txBytes: 500, rxErrors: 3, txErrors: 2, rxDrops: 1, txDrops: 0 });
  });

  it('turns counters into bytes per second from the second gather on', async () => {
    let t = 1_700_000_000_000;
    const c = createNetIfaceCollector(netIfaceConfigSchema.parse({ type: 'net_iface', procDir: dir }), { logger: silentLogger() }, { now: () => t });
    const acc = new RecordingAccumulator();
    writeFileSync(join(dir, 'net', 'dev'), dev(1000, 500));
    await c.gather(acc, new AbortController().signal);
    expect(acc.only()).toMatchObject({ tags: { iface: 'eth0' }, fields: { present: 1, errors: 2, drops: 1 } });
    expect(acc.only().fields.rx_bps).toBeUndefined();
    t += 10_000;
    writeFileSync(join(dir, 'net', 'dev'), dev(21_000, 2500, 1));
    await c.gather(acc, new AbortController().signal);
    expect(acc.readings[1]?.fields).toMatchObject({ rx_bps: 2000, tx_bps: 200, errors: 3 });
  });

  it('reports a configured interface that is missing, and reads the real /proc', async () => {
    const acc = new RecordingAccumulator();
    const c = createNetIfaceCollector(netIfaceConfigSchema.parse({ type: 'net_iface', interfaces: ['lo', 'wwan9'] }), { logger: silentLogger() });
    await c.gather(acc, new AbortController().signal);
    expect(acc.readings.map((r) => [r.tags?.iface, r.fields.present])).toEqual([
      ['lo', 1],
      ['wwan9', 0],
    ]);
  });
});
