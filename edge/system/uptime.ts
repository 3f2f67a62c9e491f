// /proc/uptime and a thermal zone's `temp` in /sys: the host collector's uptime_s and temp_c.

/** `/proc/uptime` (`10092.25 6085.33`: seconds since boot, idle seconds) → whole seconds since boot. */
export function parseUptime(text: string): number | undefined {
  const up = Number.parseFloat(text);
  return Number.isFinite(up) ? Math.round(up) : undefined;
}

/** `/sys/class/thermal/thermal_zone0/temp` (millidegrees: `48312`) → °C with 0.1 resolution. */
export function parseThermalTemp(text: string): number | undefined {
  const t = text.trim();
  if (!/^-?\d+/.test(t)) return undefined;
  return Math.round(Number.parseInt(t, 10) / 100) / 10;
}
