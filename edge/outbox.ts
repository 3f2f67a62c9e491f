// The outbox: batches waiting for the hub's PUBACK. A narrow interface so a durable on-disk log can replace the memory one.

export interface OutboxEntry {
  /** The batch's seq: rises by one per batch, and is the entry's identity. */
  readonly seq: number;
  /** The serialized points array (JSON); the link wraps it as `{seq, sentAt, points}` at send time. */
  readonly payload: string;
  /** Points in the batch (for stats). */
  readonly points: number;
  /** Topic the batch goes to: periodic readings or discrete events. Default 'telemetry'. */
  readonly channel?: 'telemetry' | 'event';
}

/**
 * Contract (run by `outbox-contract.ts` against every implementation):
 * - entries come out in append (= seq) order;
 * - `peek(n)` returns up to n of the oldest entries that are not in flight and marks them in flight
 *   (a lease); `release()` returns leased entries to the pending set (connection lost);
 * - `ack(seq)` removes an entry for good (only on PUBACK); acking an unknown seq is a no-op;
 * - at `maxBatches` the OLDEST entry is dropped (even if in flight) and `droppedTotal` counts it.
 */
export interface Outbox {
  append(entry: OutboxEntry): Promise<void>;
  peek(n: number): Promise<OutboxEntry[]>;
  ack(seq: number): Promise<void>;
  /** Returns the given (or all) in-flight entries to pending. */
  release(seqs?: readonly number[]): void;
  /** Entries not yet acked, in flight or not. */
  readonly depth: number;
  readonly inflight: number;
  /** Entries dropped because the outbox was full, since creation (or since the log began). */
  readonly droppedTotal: number;
  close(): Promise<void>;
}

export interface MemoryOutboxOptions {
  maxBatches: number;
}

export class MemoryOutbox implements Outbox {
  // Map iteration order is insertion order, which is seq order.
  private readonly entries = new Map<number, OutboxEntry>();
  private readonly leased = new Set<number>();
  private dropped = 0;
  private readonly maxBatches: number;

  constructor(opts: MemoryOutboxOptions) {
    if (!Number.isInteger(opts.maxBatches) || opts.maxBatches < 1) throw new RangeError('maxBatches must be a positive integer');
    this.maxBatches = opts.maxBatches;
  }

  async append(entry: OutboxEntry): Promise<void> {
    while (this.entries.size >= this.maxBatches) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.leased.delete(oldest.value);
      this.dropped += 1;
    }
    this.entries.set(entry.seq, entry);
  }

  async peek(n: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    if (n <= 0) return out;
    for (const entry of this.entries.values()) {
      if (this.leased.has(entry.seq)) continue;
      this.leased.add(entry.seq);
      out.push(entry);
      if (out.length >= n) break;
    }
    return out;
  }

  async ack(seq: number): Promise<void> {
    this.entries.delete(seq);
    this.leased.delete(seq);
  }

  release(seqs?: readonly number[]): void {
    if (seqs === undefined) {
      this.leased.clear();
      return;
    }
    for (const s of seqs) this.leased.delete(s);
  }

  get depth(): number {
    return this.entries.size;
  }

  get inflight(): number {
    return this.leased.size;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  async close(): Promise<void> {
    // nothing to flush in memory
  }
}
