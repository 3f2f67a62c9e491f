import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetDev } from './net-dev.ts';

// Recorded from a Debian 12 host: lo, two ifb devices and eth0.
const recorded = readFileSync(new URL('./fixtures/proc-net-dev.txt', import.meta.url), 'utf8');

describe('/proc/net/dev', () => {
  it('reads every interface of a recorded file', () => {
    const m = parseNetDev(recorded);
    expect([...m.keys()]).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(m.get('eth0')).toEqual({ rxBytes: 722663721, rxErrors: 0, rxDrops: 0, txBytes: 3967853, txErrors: 0, txDrops: 0 });
  });

  it('skips lines that are not counters', () => {
    expect(parseNetDev('h1\nh2\n  x: 1 2 3\nbad line\n').size).toBe(0);
  });
});
