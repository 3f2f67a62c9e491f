import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUptime } from './uptime.ts';

describe('/proc/uptime', () => {
  it('reads whole seconds since boot from a recorded /proc/uptime', () => {
    // Recorded: "10092.25 6085.33"
    expect(parseUptime(readFileSync(new URL('./fixtures/proc-uptime.txt', import.meta.url), 'utf8'))).toBe(10092);
    expect(parseUptime('')).toBeUndefined();
  });
});
