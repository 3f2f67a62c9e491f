import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMeminfo } from './meminfo.ts';

// Recorded from a Debian 12 host: MemTotal 24684092 kB, MemAvailable 21137144 kB.
const recorded = readFileSync(new URL('./fixtures/proc-meminfo.txt', import.meta.url), 'utf8');

describe('/proc/meminfo', () => {
  it('reads memory in use from a recorded file', () => {
    expect(parseMeminfo(recorded)).toBe(Math.round(((24684092 - 21137144) / 24684092) * 10_000) / 100);
  });

  it('needs MemTotal and MemAvailable', () => {
    expect(parseMeminfo('MemTotal:       1000 kB\n')).toBeUndefined();
    expect(parseMeminfo('MemTotal: 0 kB\nMemAvailable: 0 kB\n')).toBeUndefined();
  });
});
