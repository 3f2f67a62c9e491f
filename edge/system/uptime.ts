// /proc/uptime: the host collector's uptime_s.

/** `/proc/uptime` (`10092.25 6085.33`: seconds since boot, idle seconds) → whole seconds since boot. */
export function parseUptime(text: string): number | undefined {
  const up = Number.parseFloat(text);
  return Number.isFinite(up) ? Math.round(up) : undefined;
}
