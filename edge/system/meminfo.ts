// /proc/meminfo: memory in use (the host collector's mem_pct).

/** Share of memory not available to new programs (MemTotal − MemAvailable), in percent with 0.01 resolution. */
export function parseMeminfo(text: string): number | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === undefined || available === undefined || total === 0) return undefined;
  return Math.round(((total - available) / total) * 10_000) / 100;
}
