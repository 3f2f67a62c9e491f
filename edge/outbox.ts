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
 * - `peekNewest(n, minSeq)` leases up to n of the NEWEST entries not in flight with seq ≥ minSeq
 *   (the link's live lane), returned in seq order;
 * - `ack(seq)` removes an entry for good (only on PUBACK); acking an unknown seq is a no-op;
 * - at `maxBatches` the OLDEST entry is dropped (even if in flight) and `droppedTotal` counts it.
 * Seqs are appended in rising order (the batcher's seq store guarantees it).
 */
export interface Outbox {
  append(entry: OutboxEntry): Promise<void>;
  peek(n: number): Promise<OutboxEntry[]>;
  peekNewest(n: number, minSeq?: number): Promise<OutboxEntry[]>;
  ack(seq: number): Promise<void>;
  /** Returns the given (or all) in-flight entries to pending. */
  release(seqs?: readonly number[]): void;
  /** Entries not yet acked, in flight or not. */
  readonly depth: number;
  readonly inflight: number;
  /** Entries dropped because the outbox was full, since creation (or since the log began). */
  readonly droppedTotal: number;
  /** Highest seq ever appended (acked or not), -1 before the first append. */
  readonly lastSeq: number;
  /** Append time (epoch ms) of the oldest entry not yet acked; undefined when empty. */
  readonly oldestAppendedAt: number | undefined;
  close(): Promise<void>;
}

/**
 * Seqs in append order with lazy removal at both ends, so the newest entries are found without
 * walking a backlog of thousands. `isLive` tells whether a seq is still in the outbox.
 */
export class SeqOrder {
  private seqs: number[] = [];
  private head = 0;

  push(seq: number): void {
    this.seqs.push(seq);
  }

  /** Up to n seqs, newest first, with seq ≥ minSeq, live and accepted by `eligible`. */
  newest(n: number, minSeq: number, isLive: (seq: number) => boolean, eligible: (seq: number) => boolean): number[] {
    const out: number[] = [];
    if (n <= 0) return out;
    this.compact(isLive);
    for (let i = this.seqs.length - 1; i >= this.head && out.length < n; i -= 1) {
      const seq = this.seqs[i];
      if (seq === undefined || seq < minSeq) break;
      if (isLive(seq) && eligible(seq)) out.push(seq);
    }
    return out;
  }

  private compact(isLive: (seq: number) => boolean): void {
    for (let last = this.seqs.at(-1); this.seqs.length > this.head && last !== undefined && !isLive(last); last = this.seqs.at(-1)) this.seqs.pop();
    while (this.head < this.seqs.length && !isLive(this.seqs[this.head] ?? -1)) this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

export interface MemoryOutboxOptions {
  maxBatches: number;
  now?: () => number;
}

export class MemoryOutbox implements Outbox {
  // Map iteration order is insertion order, which is seq order.
  private readonly entries = new Map<number, OutboxEntry>();
  private readonly appendedAt = new Map<number, number>();
  private readonly leased = new Set<number>();
  private readonly order = new SeqOrder();
  private dropped = 0;
  private last = -1;
  private readonly maxBatches: number;
  private readonly now: () => number;

  constructor(opts: MemoryOutboxOptions) {
    if (!Number.isInteger(opts.maxBatches) || opts.maxBatches < 1) throw new RangeError('maxBatches must be a positive integer');
    this.maxBatches = opts.maxBatches;
    this.now = opts.now ?? Date.now;
  }

  async append(entry: OutboxEntry): Promise<void> {
    while (this.entries.size >= this.maxBatches) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.appendedAt.delete(oldest.value);
      this.leased.delete(oldest.value);
      this.dropped += 1;
    }
    this.entries.set(entry.seq, entry);
    this.appendedAt.set(entry.seq, this.now());
    this.order.push(entry.seq);
    if (entry.seq > this.last) this.last = entry.seq;
  }

  async peekNewest(n: number, minSeq = 0): Promise<OutboxEntry[]> {
    const seqs = this.order.newest(n, minSeq, (s) => this.entries.has(s), (s) => !this.leased.has(s));
    const out: OutboxEntry[] = [];
    for (let i = seqs.length - 1; i >= 0; i -= 1) {
      const seq = seqs[i] ?? -1;
      const entry = this.entries.get(seq);
      if (entry === undefined) continue;
      this.leased.add(seq);
      out.push(entry);
    }
    return out;
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
    this.appendedAt.delete(seq);
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

  get lastSeq(): number {
    return this.last;
  }

  get oldestAppendedAt(): number | undefined {
    for (const at of this.appendedAt.values()) return at;
    return undefined;
  }

  async close(): Promise<void> {
    // nothing to flush in memory
  }
}
