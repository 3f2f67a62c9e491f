// File helpers of the journal: full writes, fdatasync as a promise, close/unlink that tolerate what is gone.
import { closeSync, fdatasync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** fdatasync; EBADF (the segment was dropped whole while its fsync ran: nothing left to sync) is success. */
export function datasync(fd: number, wrap: (err: NodeJS.ErrnoException) => Error): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err && err.code !== 'EBADF' ? reject(wrap(err)) : resolve())));
}

export function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Size of a journal folder's files (for benchmarks and reports). */
export function journalBytes(dir: string): number {
  let total = 0;
  for (const n of readdirSync(dir)) {
    try {
      total += statSync(join(dir, n)).size;
    } catch {
      // deleted meanwhile
    }
  }
  return total;
}
