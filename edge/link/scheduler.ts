// The two-lane scheduler of the link: which outbox batches may go out now, on which lane, and when the
// replay lane next has room. Pure: no timers, no I/O; time comes from the injected `now` (ms, monotonic).
//
// Two lanes share maxInflight after a (re)connect. The LIVE lane sends the newest batches appended
// since the connection came up, at once, so walls see the present while a day of backlog is still
// queued. The REPLAY lane sends the oldest batches in seq order at a bounded rate (replayBatchesPerS,
// a token bucket) and never takes the last liveReserve slots, so a rural uplink is not flooded and
// live batches always find room. Batches below `liveFrom` (in the outbox when the connection came up)
// are late, whichever lane sends them.

/** Token bucket of the replay lane: `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.at = this.now();
  }

  /** Whole tokens there now (refilled for the time since the last call). */
  available(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    return Math.floor(this.tokens);
  }

  take(): void {
    this.tokens -= 1;
  }

  /** ms until one whole token is there. */
  msToNext(): number {
    return Math.max(1, Math.ceil(((1 - Math.min(1, this.tokens)) * 1000) / this.rate));
  }
}

export type Lane = 'live' | 'replay';

export interface LaneSchedulerOptions {
  /** Batches awaiting PUBACK at once, both lanes. */
  maxInflight: number;
  /** Replay lane: batches a second (burst: one second's worth). */
  replayBatchesPerS: number;
  /** Monotonic ms (performance.now in the link, a fake clock in tests). */
  now: () => number;
}

/** What the replay lane may send now: `count` batches; `starved`: it had room but no token. */
export interface ReplayGrant {
  count: number;
  starved: boolean;
}

export class LaneScheduler {
  readonly maxInflight: number;
  /** Slots of maxInflight the replay lane may use: the rest is kept for live batches. */
  readonly maxReplayInflight: number;
  private readonly bucket: TokenBucket;
  private readonly inflight = new Set<number>();
  private readonly replayInflight = new Set<number>();
  private liveFromSeq = 0;
  /** Backlog batches (below liveFrom) not yet acknowledged; an estimate bounded by the outbox depth. */
  private backlogLeft = 0;

  constructor(opts: LaneSchedulerOptions) {
    if (!(opts.replayBatchesPerS > 0)) throw new RangeError(`replayBatchesPerS must be > 0, got ${opts.replayBatchesPerS}`);
    this.maxInflight = opts.maxInflight;
    this.maxReplayInflight = Math.max(1, opts.maxInflight - Math.ceil(opts.maxInflight / 4));
    this.bucket = new TokenBucket(opts.replayBatchesPerS, Math.max(1, Math.ceil(opts.replayBatchesPerS)), opts.now);
  }

  /** A connection came up: whatever is in the outbox now (up to `lastSeq`, `depth` batches) is backlog. */
  begin(lastSeq: number, depth: number): void {
    this.liveFromSeq = lastSeq + 1;
    this.backlogLeft = depth;
  }

  /** The connection is gone: nothing is in flight any more (the batches go back to the outbox). */
  end(): void {
    this.inflight.clear();
    this.replayInflight.clear();
  }

  /** Seqs at or above this were appended after the connection came up: the live lane's. */
  get liveFrom(): number {
    return this.liveFromSeq;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  isLate(seq: number): boolean {
    return seq < this.liveFromSeq;
  }

  /** Backlog batches not yet acknowledged, never more than the outbox holds. */
  backlog(depth: number): number {
    this.backlogLeft = Math.min(this.backlogLeft, depth);
    return this.backlogLeft;
  }

  /** Batches the live lane may lease now. */
  liveRoom(): number {
    return this.maxInflight - this.inflight.size;
  }

  /** Batches the replay lane may lease now: free slots outside the live reserve, and tokens. */
  replayGrant(): ReplayGrant {
    const room = Math.min(this.maxInflight - this.inflight.size, this.maxReplayInflight - this.replayInflight.size);
    const tokens = room > 0 ? this.bucket.available() : 0;
    return { count: Math.max(0, Math.min(room, tokens)), starved: room > 0 && tokens === 0 };
  }

  /** A batch goes out on `lane` (a replay one takes a token); returns whether it is late. */
  sent(seq: number, lane: Lane): boolean {
    this.inflight.add(seq);
    if (lane === 'replay') {
      this.replayInflight.add(seq);
      this.bucket.take();
    }
    return this.isLate(seq);
  }

  /** Its PUBACK came (`acked`) or its publish failed: the slot is free again. */
  settled(seq: number, acked: boolean): void {
    this.inflight.delete(seq);
    this.replayInflight.delete(seq);
    if (acked && this.isLate(seq) && this.backlogLeft > 0) this.backlogLeft -= 1;
  }

  /** When a starved replay lane should be woken (ms), or undefined when no batch waits outside the flight. */
  replayWakeInMs(depth: number): number | undefined {
    if (depth <= this.inflight.size) return undefined;
    return this.bucket.msToNext();
  }
}
