// Starts project programs as child processes with their output in a log file, and stops them by PID.
// Every child runs in its own process group and, through `setpriv --pdeathsig`, dies with the process that
// started it, even when that process is SIGKILLed (a vitest worker, the demo): no server outlives its starter.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, appendFileSync, closeSync, constants, openSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The program's path on PATH, or undefined. */
export function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return join(dir, bin);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function runnable(file: string): boolean {
  if (!file.includes('/')) return onPath(file) !== undefined;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let setprivPath: string | null | undefined;
/** `setpriv` (util-linux) on PATH, looked up once; null where there is none (then only the exit hook guards). */
function setpriv(): string | null {
  setprivPath ??= process.platform === 'linux' ? (onPath('setpriv') ?? null) : null;
  return setprivPath;
}

/**
 * Under the test suite (testkit/global-setup.ts sets it): the file where every child started here is recorded
 * when it starts and when it exits while this process still runs. A child with no exit record outlived the
 * code that started it — it was killed only by the exit hook or by `--pdeathsig` — and the suite fails on it.
 */
export const CHILD_LOG_ENV = 'IOC_TEST_CHILD_LOG';

function recordChild(line: string): void {
  const log = process.env[CHILD_LOG_ENV];
  if (log === undefined || log === '') return;
  try {
    appendFileSync(log, `${line}\n`);
  } catch {
    // the run is over (its folder removed): nothing left to tell
  }
}

/** Children started here and not yet exited: SIGKILLed (with their groups) when this process exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILL the child's whole process group (it leads one: spawned detached); ignores what has already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/**
 * Spawns `file args…` the way every server of the demo, the tests and the benchmarks is started: in its own
 * process group (so a stop reaches what it started, e.g. the agent's ping), killed when this process exits,
 * and — where `setpriv` exists — SIGKILLed by the kernel when this process dies by any means, SIGKILL
 * included (`PR_SET_PDEATHSIG`, inherited by `setpriv`'s exec of `file`, so `child.pid` is the program's
 * own PID). The parent is the thread that spawned: call this from the main thread, not a worker thread.
 */
export function spawnGuarded(file: string, args: readonly string[], opts: Omit<SpawnOptions, 'detached'> = {}): ChildProcess {
  // A program that cannot be found is spawned as it is, so that the caller still gets its ENOENT `error`.
  const wrapper = setpriv();
  const child =
    wrapper === null || !runnable(file)
      ? spawn(file, args, { ...opts, detached: true })
      : spawn(wrapper, ['--pdeathsig', 'KILL', '--', file, ...args], { ...opts, detached: true });
  if (child.pid !== undefined) {
    live.add(child);
    const pid = child.pid;
    recordChild(`start ${pid} ${process.pid} ${JSON.stringify([file, ...args].join(' ').slice(0, 400))}`);
    // What the program left in its group goes with it. Only here, at once: once reaped, its PID (and so the
    // group's ID) may be reused by an unrelated process, so a later group kill could hit a stranger.
    child.once('exit', () => {
      live.delete(child);
      killGroup(pid);
      recordChild(`exit ${pid}`);
    });
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const c of live) killGroup(c.pid);
      });
    }
  }
  return child;
}

export class ManagedProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `ownGroup`: the child leads its own process group (started by `spawnGuarded`); stop and kill reach all of it. */
  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
    private readonly ownGroup = false,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * SIGTERM to the program, then SIGKILL (to its whole group) after `graceMs`. Whatever it left in its group
   * is SIGKILLed when it exits (`spawnGuarded`). Resolves with how the program ended.
   */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.hardKill(), graceMs);
      const res = await this.exited;
      clearTimeout(timer);
      return res;
    }
    return await this.exited;
  }

  async kill(): Promise<void> {
    this.hardKill();
    await this.exited;
  }

  /** Only while not reaped: until then its PID, and so its group's ID, cannot belong to anyone else. */
  private hardKill(): void {
    if (!this.running) return;
    if (this.ownGroup) killGroup(this.child.pid);
    else this.child.kill('SIGKILL');
  }
}

/** Runs `node bin/<program>.js args…` from the project root. */
export function startProgram(program: 'ioc-hub' | 'ioc-edge', args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawnGuarded(process.execPath, [join(PROJECT_ROOT, 'bin', `${program}.js`), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  return new ManagedProcess(`${program} ${args[0] ?? ''}`.trim(), child, logFile, true);
}

/** Runs a TypeScript entry point (`node --import tsx file args…`) from the project root. */
export function startTsEntry(name: string, file: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawnGuarded(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, file), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  return new ManagedProcess(name, child, logFile, true);
}

/** Runs a program to completion, returning its exit code and output. */
export async function runProgram(
  program: 'ioc-hub' | 'ioc-edge',
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnGuarded(process.execPath, [join(PROJECT_ROOT, 'bin', `${program}.js`), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) killGroup(child.pid);
  }, opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
