// A thermal zone's `temp` in /sys: the host collector's temp_c (the SoC on a Raspberry Pi).

/** `/sys/class/thermal/thermal_zone0/temp` (millidegrees: `48312`) → °C with 0.1 resolution. */
export function parseThermalTemp(text: string): number | undefined {
  const t = text.trim();
  if (!/^-?\d+/.test(t)) return undefined;
  return Math.round(Number.parseInt(t, 10) / 100) / 10;
}
