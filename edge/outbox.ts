// The outbox: batches waiting for the hub's PUBACK. Plain storage verbs (the shape of MQTT.js's Store and
// Telegraf's buffer), so a durable on-disk log can replace the memory one; which batches are in flight
// is the link's business (edge/link/leases.ts), not the store's.

export interface OutboxEntry {
  /** The batch's seq: rises by one per batch, and is the entry's identity. */
  readonly seq: number;
  /** The serialized points array (JSON); the link wraps it in the batch envelope at send time. */
  readonly payload: string;
  /** Points in the batch (for stats). */
  readonly points: number;
  /** Topic the batch goes to: periodic readings or discrete events. Default 'telemetry'. */
  readonly channel?: 'telemetry' | 'event';
}

/**
 * Contract (run by `testkit/outbox-contract.ts` against every implementation):
 * - entries are kept in append (= seq) order; `oldest()` walks their seqs oldest first, `newest()`
 *   newest first, both without reading a payload and skipping what is acked or dropped;
 * - `get(seq)` reads one entry (undefined once acked or dropped), `has(seq)` tells whether it is there;
 * - `ack(seq)` removes an entry for good (only on PUBACK); acking an unknown seq is a no-op;
 * - at the store's bound the OLDEST entry is dropped and `droppedTotal` counts it.
 * Seqs are appended in rising order (the batcher's seq store guarantees it). The walks are lazy:
 * take what is needed and stop; do not append or ack while one is under way.
 */
export interface Outbox {
  append(entry: OutboxEntry): Promise<void>;
  oldest(): Iterable<number>;
  newest(): Iterable<number>;
  get(seq: number): Promise<OutboxEntry | undefined>;
  has(seq: number): boolean;
  ack(seq: number): Promise<void>;
  /** Entries not yet acked. */
  readonly depth: number;
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

  /** Live seqs, newest first. */
  *newest(isLive: (seq: number) => boolean): Generator<number> {
    this.compact(isLive);
    for (let i = this.seqs.length - 1; i >= this.head; i -= 1) {
      const seq = this.seqs[i];
      if (seq !== undefined && isLive(seq)) yield seq;
    }
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
      this.dropped += 1;
    }
    this.entries.set(entry.seq, entry);
    this.appendedAt.set(entry.seq, this.now());
    this.order.push(entry.seq);
    if (entry.seq > this.last) this.last = entry.seq;
  }

  oldest(): Iterable<number> {
    return this.entries.keys();
  }

  newest(): Iterable<number> {
    return this.order.newest((s) => this.entries.has(s));
  }

  async get(seq: number): Promise<OutboxEntry | undefined> {
    return this.entries.get(seq);
  }

  has(seq: number): boolean {
    return this.entries.has(seq);
  }

  async ack(seq: number): Promise<void> {
    this.entries.delete(seq);
    this.appendedAt.delete(seq);
  }

  get depth(): number {
    return this.entries.size;
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

/** Up to n of the oldest entries, in seq order (a read: nothing is leased or removed). */
export async function readOldest(store: Outbox, n: number): Promise<OutboxEntry[]> {
  const seqs: number[] = [];
  for (const seq of store.oldest()) {
    if (seqs.length >= n) break;
    seqs.push(seq);
  }
  const out: OutboxEntry[] = [];
  for (const seq of seqs) {
    const entry = await store.get(seq);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}
