// Finds the processes a test run started that are still alive. The run puts a marker in its environment
// (`IOC_TEST_RUN=<uuid>`, see testkit/global-setup.ts); every child inherits it — through vitest's workers,
// the servers they start, and what those start — and it survives re-parenting to PID 1 when a worker dies.
// Limit: a process started with an environment that drops the marker (`env: { PATH }` without
// `...process.env`) is not seen; everything in this project passes `process.env` on.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_MARKER = 'IOC_TEST_RUN';

export interface RunProcess {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmdline: string;
}

function readProc(procDir: string, pid: number): RunProcess | undefined {
  try {
    const stat = readFileSync(join(procDir, String(pid), 'stat'), 'utf8');
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(join(procDir, String(pid), 'cmdline'), 'utf8').split('\0').filter(Boolean).join(' ');
    return { pid, ppid: Number(rest[1]), pgid: Number(rest[2]), state: rest[0] ?? '?', cmdline };
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/** Every live (non-zombie) process whose environment holds `marker=value`, except those `exclude` names. */
export function findMarkedProcesses(value: string, opts: { marker?: string; procDir?: string; exclude?: (p: RunProcess) => boolean } = {}): RunProcess[] {
  const procDir = opts.procDir ?? '/proc';
  const needle = `${opts.marker ?? RUN_MARKER}=${value}`;
  const found: RunProcess[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let environ: string;
    try {
      environ = readFileSync(join(procDir, entry, 'environ'), 'utf8');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(needle)) continue;
    const p = readProc(procDir, pid);
    if (p === undefined || p.state === 'Z' || p.state === 'X') continue;
    if (opts.exclude?.(p) === true) continue;
    found.push(p);
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * vitest's own processes, seen from its main process: itself, and its direct children that are vitest
 * workers or vite's esbuild service. Tests run in the workers, so nothing a test starts is a direct child of
 * the main process.
 */
export function isRunnerProcess(p: RunProcess, mainPid = process.pid): boolean {
  if (p.pid === mainPid) return true;
  return p.ppid === mainPid && /[/\\](vitest|esbuild)[/\\]|\besbuild\b.*--service/.test(p.cmdline);
}

/** SIGKILL each process and the group it leads, if it leads one. */
export function killProcesses(procs: readonly RunProcess[]): void {
  for (const p of procs) {
    try {
      process.kill(p.pgid === p.pid ? -p.pid : p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The run's leftovers once the processes that are exiting right now have had `graceMs` to go. Kills what is
 * left and returns it (empty: nothing leaked).
 */
export async function reapLeftovers(value: string, opts: { marker?: string; graceMs?: number; exclude?: (p: RunProcess) => boolean } = {}): Promise<RunProcess[]> {
  const deadline = Date.now() + (opts.graceMs ?? 2000);
  const find = (): RunProcess[] => findMarkedProcesses(value, { ...(opts.marker === undefined ? {} : { marker: opts.marker }), ...(opts.exclude === undefined ? {} : { exclude: opts.exclude }) });
  let left = find();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = find();
  }
  killProcesses(left);
  return left;
}

export function describeLeftovers(procs: readonly RunProcess[]): string {
  return procs.map((p) => `  pid ${p.pid} (parent ${p.ppid}${p.ppid === 1 ? ': orphaned' : ''}, group ${p.pgid}): ${p.cmdline.slice(0, 300)}`).join('\n');
}

export interface UnstoppedChild {
  pid: number;
  /** The process that started it. */
  parent: number;
  command: string;
}

/**
 * The children in a child log (scripts/lib/child-process.ts, CHILD_LOG_ENV) that never exited while their
 * starter ran: the code that started them did not stop them, and only the exit hook or `--pdeathsig` did.
 */
export function unstoppedChildren(log: string): UnstoppedChild[] {
  const open = new Map<number, UnstoppedChild>();
  for (const line of log.split('\n')) {
    const m = /^(start|exit) (\d+)(?: (\d+) (.*))?$/.exec(line);
    if (m === null) continue;
    const pid = Number(m[2]);
    if (m[1] === 'exit') open.delete(pid);
    else {
      let command = m[4] ?? '';
      try {
        command = String(JSON.parse(command));
      } catch {
        // keep it as written
      }
      open.set(pid, { pid, parent: Number(m[3]), command });
    }
  }
  return [...open.values()];
}

export function describeUnstopped(children: readonly UnstoppedChild[]): string {
  return children.map((c) => `  pid ${c.pid} (started by pid ${c.parent}, which ended without stopping it): ${c.command.slice(0, 300)}`).join('\n');
}
