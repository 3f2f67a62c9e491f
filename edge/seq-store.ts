// The batch sequence number: rises by one per batch and survives restarts, with few writes to the SD card.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic-file.ts';
import { SEQ_BLOCK } from '../protocol/index.ts';
import { EdgeError, errorCode } from './errors.ts';

export const SEQ_FILE = 'seq';
export const DEFAULT_SEQ_BLOCK = SEQ_BLOCK;

/**
 * `dataDir/seq` holds a reservation R: every seq below R may have been used, none at or above it.
 * On open we continue at R and reserve R+block; when `next()` reaches the reservation we reserve
 * the next block (one atomic tmp+fsync+rename per `block` batches). A crash loses at most the
 * unused rest of a block: seq jumps forward, never backwards.
 */
export class SeqStore {
  private nextSeq: number;
  private reserved: number;

  private constructor(
    private readonly file: string,
    start: number,
    private readonly block: number,
  ) {
    this.nextSeq = start;
    this.reserved = start;
    this.reserve();
  }

  static open(dataDir: string, block = DEFAULT_SEQ_BLOCK): SeqStore {
    if (!Number.isInteger(block) || block < 1) throw new RangeError('block must be a positive integer');
    const file = join(dataDir, SEQ_FILE);
    let start = 0;
    try {
      mkdirSync(dataDir, { recursive: true });
      const text = readFileSync(file, 'utf8').trim();
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 0) throw new EdgeError('E_SEQ_STORE', `corrupt seq file ${file}: ${JSON.stringify(text.slice(0, 40))}`);
      start = n;
    } catch (err: unknown) {
      if (err instanceof EdgeError) throw err;
      if (errorCode(err) !== 'ENOENT') throw new EdgeError('E_SEQ_STORE', `cannot read ${file}`, { cause: err });
    }
    return new SeqStore(file, start, block);
  }

  /** The next seq to use (without taking it). */
  get peekNext(): number {
    return this.nextSeq;
  }

  next(): number {
    if (this.nextSeq >= this.reserved) this.reserve();
    const seq = this.nextSeq;
    this.nextSeq += 1;
    return seq;
  }

  private reserve(): void {
    const reservation = this.nextSeq + this.block;
    try {
      writeFileAtomicSync(this.file, `${reservation}\n`, { mode: 0o644, tmp: 'fixed' });
    } catch (err: unknown) {
      throw new EdgeError('E_SEQ_STORE', `cannot write ${this.file}`, { cause: err });
    }
    this.reserved = reservation;
  }
}
