// The journal's files: a segment (records + its ack file) opened new or recovered from disk, the folder's segment
// list, and state.json. Recovery cuts a torn or corrupt tail of either file.
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeUnlink } from './files.ts';
import { ACK_FILE, scanRecords, scanResolutions, SEG_FILE, segName } from './format.ts';

export interface Segment {
  readonly no: number;
  readonly path: string;
  readonly ackPath: string;
  fd: number;
  ackFd: number | undefined;
  bytes: number;
  ackBytes: number;
  live: number;
  dirty: boolean;
  ackDirty: boolean;
  /** fsyncs running on its files: it is not deleted under them. */
  syncing: number;
}

export interface Meta {
  readonly id: number;
  readonly at: number;
  readonly seg: Segment;
  readonly offset: number;
  readonly size: number;
}

/** Creates segment `no` (an ack file left from an earlier life of that number is removed first). */
export function createSegment(dir: string, no: number): Segment {
  const path = join(dir, segName(no, 'seg'));
  const ackPath = join(dir, segName(no, 'ack'));
  safeUnlink(ackPath);
  const fd = openSync(path, 'w+');
  return { no, path, ackPath, fd, ackFd: undefined, bytes: 0, ackBytes: 0, live: 0, dirty: true, ackDirty: false, syncing: 0 };
}

/** Segment numbers in the folder, oldest first; ack files without their segment are removed. */
export function listSegments(dir: string): number[] {
  const names = readdirSync(dir);
  const segNos = names.filter((n) => SEG_FILE.test(n)).map((n) => Number(n.slice(0, 16))).sort((a, b) => a - b);
  const segSet = new Set(segNos);
  for (const n of names) {
    if (ACK_FILE.test(n) && !segSet.has(Number(n.slice(0, 16)))) safeUnlink(join(dir, n));
  }
  return segNos;
}

export interface RecoveredSegment {
  seg: Segment;
  /** Intact records in file order (resolved ones included). */
  records: Meta[];
  resolved: Set<number>;
  truncatedBytes: number;
}

/** Opens segment `no` for appending after reading it back; torn tails of the segment and its ack file are cut. */
export function recoverSegment(dir: string, no: number): RecoveredSegment {
  const path = join(dir, segName(no, 'seg'));
  const ackPath = join(dir, segName(no, 'ack'));
  const data = readFileSync(path);
  const fd = openSync(path, 'r+');
  const seg: Segment = { no, path, ackPath, fd, ackFd: undefined, bytes: 0, ackBytes: 0, live: 0, dirty: false, ackDirty: false, syncing: 0 };
  let truncatedBytes = 0;
  const scanned = scanRecords(data);
  if (scanned.end < data.length) {
    // Torn (or corrupt) tail: everything from the first bad record on is cut.
    ftruncateSync(fd, scanned.end);
    fsyncSync(fd);
    truncatedBytes += data.length - scanned.end;
  }
  seg.bytes = scanned.end;
  let resolved = new Set<number>();
  try {
    const acks = readFileSync(ackPath);
    const r = scanResolutions(acks);
    resolved = r.resolved;
    seg.ackBytes = r.end;
    if (r.end < acks.length) {
      const afd = openSync(ackPath, 'r+');
      try {
        ftruncateSync(afd, r.end);
        fsyncSync(afd);
      } finally {
        closeSync(afd);
      }
      truncatedBytes += acks.length - r.end;
    }
  } catch (err: unknown) {
    if (!(typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT')) {
      closeSync(fd);
      throw err;
    }
  }
  return { seg, records: scanned.records.map((r) => ({ ...r, seg })), resolved, truncatedBytes };
}

/** droppedTotal from state.json (0 when there is none yet, or only a torn tmp). */
export function loadDroppedTotal(dir: string): number {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { droppedTotal?: unknown };
    if (typeof state.droppedTotal === 'number' && Number.isSafeInteger(state.droppedTotal)) return state.droppedTotal;
  } catch {
    // no state yet (or a torn tmp): drops start from zero
  }
  return 0;
}

/** Writes state.json atomically (tmp, fsync, rename). */
export function saveDroppedTotal(dir: string, value: number): void {
  const file = join(dir, 'state.json');
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ droppedTotal: value })}\n`);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
