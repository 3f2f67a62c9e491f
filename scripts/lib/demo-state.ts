// Where the demo keeps its state (outside the checkout: it holds tokens), and the lock that lets one demo at a time use it.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stateHome } from '../../hub/state-dir.ts';

/**
 * `$IOC_DEMO_DIR`, else `$XDG_STATE_HOME/ioc-edge/demo/<hash of the checkout path>` (`~/.local/state/…` when unset):
 * one folder per checkout, never inside it.
 */
export function demoStateDir(projectRoot: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const explicit = env.IOC_DEMO_DIR;
  if (explicit !== undefined && explicit !== '') return explicit;
  const id = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  return join(stateHome(env), 'ioc-edge', 'demo', id);
}

export class DemoLockedError extends Error {
  readonly code = 'E_DEMO_LOCKED';
  constructor(
    readonly pid: number,
    readonly dir: string,
  ) {
    super(`another demo (pid ${pid === 0 ? '?' : pid}) is running on ${dir}: stop it first (Ctrl-C in its terminal, or kill ${pid}), or give this one its own --data-dir`);
    this.name = 'DemoLockedError';
  }
}

export interface DemoLock {
  readonly path: string;
  /** The pid of a dead demo whose lock was taken over, if any. */
  readonly staleFrom: number | undefined;
  release(): void;
}

/** Is `pid` alive, and (where /proc says) a demo? A reused pid of another program does not hold the lock. */
function demoAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('demo');
  } catch {
    return true; // no /proc: trust the signal test
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<dir>/demo.pid` with O_EXCL. A live demo's lock is refused (DemoLockedError); a dead one's is taken over.
 * Two demos racing for a stale lock: both unlink, one wins the O_EXCL create, the other is refused.
 */
export function acquireDemoLock(dir: string, pid = process.pid): DemoLock {
  const path = join(dir, 'demo.pid');
  let staleFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return {
        path,
        staleFrom,
        release: () => {
          if (readPid(path) === pid) unlinkSync(path);
        },
      };
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(path);
    if (holder !== undefined && holder !== pid && demoAlive(holder)) throw new DemoLockedError(holder, dir);
    // No pid in it yet: another demo is between its create and its write.
    if (holder === undefined && youngerThan(path, 5000)) throw new DemoLockedError(0, dir);
    staleFrom = holder;
    try {
      unlinkSync(path);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const holder = readPid(path);
  throw new DemoLockedError(holder ?? 0, dir);
}
