// CPU and memory of every process of a benchmark phase, read from /proc: the whole process (all threads) and
// its main thread (the one that runs JavaScript in a Node process), so a figure can say what limited it — a
// process whose main thread is near 100% of a core, or the machine's cores all busy.
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';

// /proc/<pid>/stat counts in USER_HZ, which Linux fixes at 100 for user space.
const CLK_TCK = 100;

interface Ticks {
  /** utime + stime of the process (all threads), seconds. */
  all: number;
  /** utime + stime of the main thread, seconds. */
  main: number;
  /** Seconds the main thread spent runnable but waiting for a core (schedstat), NaN where the kernel keeps none. */
  mainWait: number;
}

function statTicks(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // fields after the command name (which may hold spaces): state(3) … utime(14) stime(15)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined; // gone
  }
}

function waitSeconds(pid: number): number {
  try {
    // run time (ns), time waiting on a run queue (ns), time slices
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

function processTicks(pid: number): Ticks | undefined {
  const all = statTicks(`/proc/${pid}/stat`);
  if (all === undefined) return undefined;
  return { all, main: statTicks(`/proc/${pid}/task/${pid}/stat`) ?? all, mainWait: waitSeconds(pid) };
}

/** Busy and total jiffies of the whole machine (/proc/stat), every process included (also work outside the bench). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** CPU seconds (all threads) a process has used so far; NaN once it has gone. */
export function cpuSecondsOf(pid: number): number {
  return statTicks(`/proc/${pid}/stat`) ?? Number.NaN;
}

export function rssMiBOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

export interface ProcessCpu {
  name: string;
  /** Cores used over the span: CPU seconds of all its threads / wall seconds. */
  cores: number;
  /** Share of one core its main thread used over the span (0..1). */
  mainThread: number;
  /** Highest main-thread share over any 1 s window of the span. */
  mainThreadPeak: number;
  /** Share of the span its main thread was ready to run but waited for a core (others had them all). */
  mainThreadWait: number;
  cpuSeconds: number;
  rssPeakMiB: number;
}

export interface CpuReport {
  seconds: number;
  processes: ProcessCpu[];
  /** Cores busy on the whole machine over the span (the bench's processes and everything else). */
  machineCores: number;
  /** Cores the machine spent outside the processes tracked here (other work on a shared machine, the bench's own process). */
  otherCores: number;
  /** Cores of the machine. */
  machineCapacity: number;
  /** What limited the phase, in words. */
  limit: string;
}

interface Tracked {
  name: string;
  pid: number;
  first: Ticks | undefined;
  last: Ticks | undefined;
  prevMain: { t: number; main: number } | undefined;
  mainPeak: number;
  rssPeak: number;
}

/** Samples named processes every `everyMs` until stopped; `stop()` returns each one's CPU over the span. */
export class CpuSampler {
  private readonly tracked: Tracked[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private readonly machine0 = machineTicks();

  constructor(processes: readonly { name: string; pid: number | undefined }[], everyMs = 250) {
    for (const p of processes) {
      if (p.pid === undefined) continue;
      const first = processTicks(p.pid);
      this.tracked.push({ name: p.name, pid: p.pid, first, last: first, prevMain: first === undefined ? undefined : { t: this.t0, main: first.main }, mainPeak: 0, rssPeak: rssMiBOf(p.pid) || 0 });
    }
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const now = performance.now();
    for (const p of this.tracked) {
      const t = processTicks(p.pid);
      if (t === undefined) continue;
      p.last = t;
      p.rssPeak = Math.max(p.rssPeak, rssMiBOf(p.pid) || 0);
      if (p.prevMain === undefined) p.prevMain = { t: now, main: t.main };
      else if (now - p.prevMain.t >= 1000) {
        p.mainPeak = Math.max(p.mainPeak, (t.main - p.prevMain.main) / ((now - p.prevMain.t) / 1000));
        p.prevMain = { t: now, main: t.main };
      }
    }
  }

  stop(): CpuReport {
    this.sample();
    clearInterval(this.timer);
    const seconds = (performance.now() - this.t0) / 1000;
    const m1 = machineTicks();
    const capacity = cpus().length;
    const machineCores = ((m1.busy - this.machine0.busy) / Math.max(1e-9, m1.total - this.machine0.total)) * capacity;
    const processes = this.tracked.map((p): ProcessCpu => {
      const cpuSeconds = p.first !== undefined && p.last !== undefined ? p.last.all - p.first.all : Number.NaN;
      const main = p.first !== undefined && p.last !== undefined ? (p.last.main - p.first.main) / seconds : Number.NaN;
      const wait = p.first !== undefined && p.last !== undefined ? (p.last.mainWait - p.first.mainWait) / seconds : Number.NaN;
      return { name: p.name, cores: cpuSeconds / seconds, mainThread: main, mainThreadPeak: Math.max(p.mainPeak, main), mainThreadWait: wait, cpuSeconds, rssPeakMiB: p.rssPeak };
    });
    const ours = processes.reduce((n, p) => n + (Number.isFinite(p.cores) ? p.cores : 0), 0);
    const otherCores = Math.max(0, machineCores - ours);
    return { seconds, processes, machineCores, otherCores, machineCapacity: capacity, limit: judgeLimit(processes, machineCores, capacity, otherCores) };
  }
}

/**
 * What limited a phase. A Node process runs its JavaScript on one thread, so the main thread's demand — the
 * share of the span it ran plus the share it was ready but waited for a core — says whether a process could
 * have gone faster: ≥ 90% of a core is a saturated process. If it mostly ran, that process's own CPU is the
 * limit; if it mostly waited, the machine's cores were (the bench's other processes, or other work on a shared
 * machine). Below 90% nothing was saturated: the offered load or the in-flight window set the pace.
 */
export function judgeLimit(processes: readonly ProcessCpu[], machineCores: number, capacity: number, otherCores = 0): string {
  const demand = (p: ProcessCpu): number => p.mainThread + (Number.isFinite(p.mainThreadWait) ? p.mainThreadWait : 0);
  const saturated = processes.filter((p) => demand(p) >= 0.9).sort((a, b) => demand(b) - demand(a));
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const other = otherCores >= 0.2 ? `, ${otherCores.toFixed(2)} of them other work` : '';
  const top = saturated[0];
  if (top !== undefined) {
    const what = top.mainThread >= top.mainThreadWait ? `${top.name} CPU` : `the machine's ${capacity} cores (${machineCores.toFixed(2)} busy${other})`;
    return `${what}: ${top.name}'s main thread ran ${pct(top.mainThread)} and waited for a core ${pct(Number.isFinite(top.mainThreadWait) ? top.mainThreadWait : 0)} of the time`;
  }
  if (machineCores >= 0.9 * capacity) {
    const most = [...processes].sort((a, b) => b.cores - a.cores)[0];
    return `the machine's ${capacity} cores (${machineCores.toFixed(2)} busy${other}; most of the bench's: ${most === undefined ? 'n/a' : `${most.name} ${most.cores.toFixed(2)}`})`;
  }
  return `no process saturated (machine ${machineCores.toFixed(2)} of ${capacity} cores busy): the offered load or in-flight window set the pace`;
}

/** One line: every process's cores and main-thread share, the machine, the limit. */
export function formatCpu(r: CpuReport): string {
  const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');
  const parts = r.processes.map((p) => `${p.name} ${Number.isFinite(p.cores) ? p.cores.toFixed(2) : 'n/a'} (main ${pct(p.mainThread)}, waited ${pct(p.mainThreadWait)})`);
  return `CPU cores: ${parts.join(', ')} · machine ${r.machineCores.toFixed(2)}/${r.machineCapacity} (other work ${r.otherCores.toFixed(2)})\n      limit: ${r.limit}`;
}
