// /proc/stat: the CPU time counters behind the host collector's cpu_pct.

export interface CpuSample {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line. iowait counts as idle. */
export function parseProcStat(text: string): CpuSample | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const idleAll = idle + iowait;
  const total = user + nice + system + idleAll + irq + softirq + steal;
  return { busy: total - idleAll, total };
}

/** Busy share between two samples, in percent with 0.01 resolution; undefined when no time passed. */
export function cpuPct(prev: CpuSample, cur: CpuSample): number | undefined {
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  return Math.round(((cur.busy - prev.busy) / dt) * 10_000) / 100;
}
