import { describe, expect, it } from 'vitest';
import { parseThermalTemp } from './thermal.ts';

describe('the thermal zone', () => {
  it('reads millidegrees as °C with one decimal', () => {
    // A Raspberry Pi 4's /sys/class/thermal/thermal_zone0/temp (this machine has no thermal zone to record).
    expect(parseThermalTemp('48312\n')).toBe(48.3);
    expect(parseThermalTemp('-2500\n')).toBe(-2.5);
    expect(parseThermalTemp('n/a')).toBeUndefined();
  });
});
