import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { cpuPct, hostConfigSchema, hostPlugin, parseMeminfo, parseProcStat, parseThrottled } from './host.ts';

describe('host collector parsers', () => {
  it('computes cpu_pct from /proc/stat deltas (iowait idle)', () => {
    const a = parseProcStat('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n');
    const b = parseProcStat('cpu  150 0 150 750 150 0 0 0 0 0\n');
    expect(a).toEqual({ busy: 200, total: 1000 });
    expect(a && b ? cpuPct(a, b) : undefined).toBe(50);
    expect(a ? cpuPct(a, a) : 0).toBeUndefined();
  });
  it('computes mem_pct from MemAvailable', () => {
    expect(parseMeminfo('MemTotal:        1000 kB\nMemFree:  100 kB\nMemAvailable:     250 kB\n')).toBe(75);
    expect(parseMeminfo('MemTotal: 1000 kB\n')).toBeUndefined();
  });
  it('parses vcgencmd get_throttled', () => {
    expect(parseThrottled('throttled=0x50005\n')).toBe(0x50005);
    expect(parseThrottled('throttled=0x0')).toBe(0);
    expect(parseThrottled('error')).toBeUndefined();
  });
});

describe.skipIf(!existsSync('/proc/stat'))('host collector on this machine', () => {
  it('reports mem, disk, uptime, and cpu from the second gather on', async () => {
    const c = hostPlugin.create(hostConfigSchema.parse({ type: 'host' }), { logger: silentLogger() });
    const acc = new RecordingAccumulator();
    await c.gather(acc, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    await c.gather(acc, new AbortController().signal);
    const [first, second] = acc.readings;
    expect(first?.m).toBe('host');
    expect(first?.fields.cpu_pct).toBeUndefined();
    expect(second?.fields).toMatchObject({ mem_pct: expect.any(Number), disk_pct: expect.any(Number), uptime_s: expect.any(Number) });
    expect(typeof second?.fields.cpu_pct).toBe('number');
    expect(first?.tags).toBeUndefined();
  });
});

describe('host collector on a Pi (a stand-in vcgencmd on PATH)', () => {
  it('decodes the throttled bits', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ioc-vcgencmd-'));
    writeFileSync(join(dir, 'vcgencmd'), '#!/bin/sh\necho throttled=0x50005\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ''}`;
    try {
      const acc = new RecordingAccumulator();
      await hostPlugin.create(hostConfigSchema.parse({ type: 'host' }), { logger: silentLogger() }).gather(acc, new AbortController().signal);
      expect(acc.only().fields).toMatchObject({ throttled: 0x50005, under_voltage: 1, freq_capped: 0, throttled_now: 1, soft_temp_limit: 0, under_voltage_seen: 1, throttled_seen: 1 });
    } finally {
      process.env.PATH = path;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
