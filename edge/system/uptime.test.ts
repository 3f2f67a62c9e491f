import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseThermalTemp, parseUptime } from './uptime.ts';

describe('/proc/uptime and the thermal zone', () => {
  it('reads whole seconds since boot from a recorded /proc/uptime', () => {
    // Recorded: "10092.25 6085.33"
    expect(parseUptime(readFileSync(new URL('./fixtures/proc-uptime.txt', import.meta.url), 'utf8'))).toBe(10092);
    expect(parseUptime('')).toBeUndefined();
  });

  it('reads millidegrees as °C with one decimal', () => {
    // A Raspberry Pi 4's /sys/class/thermal/thermal_zone0/temp (this machine has no thermal zone to record).
    expect(parseThermalTemp('48312\n')).toBe(48.3);
    expect(parseThermalTemp('-2500\n')).toBe(-2.5);
    expect(parseThermalTemp('n/a')).toBeUndefined();
  });
});
