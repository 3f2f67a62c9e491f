// Which outbox batches are in flight: the lease logic both lanes of the link share, over any Outbox store.
// A leased batch is not handed out again until it is acked (gone for good) or released (its
// connection died, its publish failed); the store knows nothing of it, so a restart starts unleased.
import type { Outbox, OutboxEntry } from '../outbox.ts';

export class OutboxLeases {
  private readonly leased = new Set<number>();

  constructor(private readonly store: Outbox) {}

  /** Leases up to n of the OLDEST entries not in flight (the replay lane), in seq order. */
  async peek(n: number): Promise<OutboxEntry[]> {
    if (n <= 0) return [];
    const picked: number[] = [];
    for (const seq of this.store.oldest()) {
      if (this.leased.has(seq)) continue;
      picked.push(seq);
      if (picked.length >= n) break;
    }
    return this.lease(picked);
  }

  /** Leases up to n of the NEWEST entries not in flight with seq ≥ minSeq (the live lane), in seq order. */
  async peekNewest(n: number, minSeq = 0): Promise<OutboxEntry[]> {
    if (n <= 0) return [];
    const picked: number[] = [];
    for (const seq of this.store.newest()) {
      if (seq < minSeq) break;
      if (this.leased.has(seq)) continue;
      picked.push(seq);
      if (picked.length >= n) break;
    }
    return this.lease(picked.reverse());
  }

  /** Removes the entry for good (on PUBACK); an unknown seq is a no-op. */
  async ack(seq: number): Promise<void> {
    this.leased.delete(seq);
    await this.store.ack(seq);
  }

  /** Returns the given (or all) leased entries to pending. */
  release(seqs?: readonly number[]): void {
    if (seqs === undefined) {
      this.leased.clear();
      return;
    }
    for (const s of seqs) this.leased.delete(s);
  }

  /** Leased entries still in the store (a dropped one no longer counts). */
  get inflight(): number {
    let n = 0;
    for (const s of this.leased) {
      if (this.store.has(s)) n += 1;
      else this.leased.delete(s);
    }
    return n;
  }

  /** Marks `picked` leased before reading them, so a concurrent peek cannot hand them out twice. */
  private async lease(picked: readonly number[]): Promise<OutboxEntry[]> {
    for (const seq of picked) this.leased.add(seq);
    const out: OutboxEntry[] = [];
    for (let i = 0; i < picked.length; i += 1) {
      const seq = picked[i] ?? -1;
      let entry: OutboxEntry | undefined;
      try {
        entry = await this.store.get(seq);
      } catch (err: unknown) {
        this.release(picked);
        throw err;
      }
      if (entry === undefined) this.leased.delete(seq);
      else out.push(entry);
    }
    return out;
  }
}
