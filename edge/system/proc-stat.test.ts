import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuPct, parseProcStat } from './proc-stat.ts';

// Recorded from a 2-core Debian 12 host.
const recorded = readFileSync(new URL('./fixtures/proc-stat.txt', import.meta.url), 'utf8');

describe('/proc/stat', () => {
  it('reads the aggregate cpu line of a recorded file (not cpu0/cpu1)', () => {
    // cpu  1181496 0 207848 608533 3862 0 4112 1637 0 0: idle = 608533 + 3862 (iowait)
    expect(parseProcStat(recorded)).toEqual({ busy: 1181496 + 207848 + 4112 + 1637, total: 1181496 + 207848 + 608533 + 3862 + 4112 + 1637 });
  });

  it('gives the busy share between two samples', () => {
    expect(cpuPct({ busy: 200, total: 1000 }, { busy: 300, total: 1200 })).toBe(50);
    expect(cpuPct({ busy: 1, total: 10 }, { busy: 1, total: 10 })).toBeUndefined();
    expect(parseProcStat('intr 1 2\n')).toBeUndefined();
  });
});
