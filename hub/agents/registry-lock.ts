// A lock file beside the registry (`<registry>.lock`, holding the holder's pid), taken around every
// read-merge-write of the file so that the CLI and a running hub never lose each other's changes. Held for one
// read and one atomic write (milliseconds). A lock whose holder is dead (kill -9 mid-write) is taken over.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { errorCode } from '../../common/errors.ts';
import { HubError } from '../errors.ts';

export interface LockOptions {
  /** Longest wait for a live holder (default 10 s). */
  timeoutMs?: number;
}

export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let wait = 2;
  for (;;) {
    if (await tryCreate(lockPath)) break;
    if (await isStale(lockPath)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new HubError('E_REGISTRY_LOCKED', `${lockPath} is held by another process (pid ${await holderPid(lockPath) ?? '?'})`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 50);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const fh = await open(lockPath, 'wx', 0o600);
    try {
      await fh.writeFile(`${process.pid}\n`, 'utf8');
    } finally {
      await fh.close();
    }
    return true;
  } catch (err: unknown) {
    if (errorCode(err) === 'EEXIST') return false;
    throw new HubError('E_REGISTRY_IO', `cannot create ${lockPath}`, { cause: err });
  }
}

async function holderPid(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(lockPath, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The holder is gone: its pid no longer runs, or it never wrote one and the file is over 5 s old. */
async function isStale(lockPath: string): Promise<boolean> {
  const pid = await holderPid(lockPath);
  if (pid === undefined) {
    try {
      return Date.now() - (await stat(lockPath)).mtimeMs > 5000;
    } catch {
      return false; // released meanwhile: the next try takes it
    }
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err: unknown) {
    return errorCode(err) === 'ESRCH';
  }
}
