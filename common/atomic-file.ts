// Atomic file replacement: write a temp file, fsync it, rename it over the target, fsync the folder (so the
// rename itself survives a power cut). A reader sees the old content or the new one, never a torn file.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o600: state files may hold secrets). */
  mode?: number;
  /**
   * `unique` (default): a temp name of its own per write, for files several processes may replace (the
   * registry). `fixed`: always `<path>.tmp`, for a file with one owner, so a crash leaves at most one behind.
   */
  tmp?: 'unique' | 'fixed';
}

function tmpPath(path: string, opts: AtomicWriteOptions): string {
  return opts.tmp === 'fixed' ? `${path}.tmp` : `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

export async function writeFileAtomic(path: string, data: string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = tmpPath(path, opts);
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o600);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err: unknown) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** The same, synchronous: for the journal's state and the agent's seq store, written on their own paths. */
export function writeFileAtomicSync(path: string, data: string, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = tmpPath(path, opts);
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err: unknown) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDirSync(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

function syncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}
