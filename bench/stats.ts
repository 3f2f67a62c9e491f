// Small statistics helpers for the benchmarks.
import { readdirSync, readFileSync } from 'node:fs';
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export function rssMiB(pid: number): number {
  // VmRSS from /proc: the resident set of another process, without extra dependencies.
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m?.[1] === undefined ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}


export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
}

/** CPU seconds (user + system) of every live process in a process group, from /proc (the hub runs as a group: tsx + node). */
export function groupCpuSeconds(pgid: number | undefined): number {
  if (pgid === undefined) return Number.NaN;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // fields after the command name (which may hold spaces): state ppid pgrp … utime(14) stime(15)
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) !== pgid) continue;
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // the process has gone
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}
