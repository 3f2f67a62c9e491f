// Batches points from many MQTT messages into bounded sink writes; each submit resolves once all its points are stored.
import type { Logger } from 'pino';
import { HubError } from './errors.ts';
import type { HubMetrics } from './metrics.ts';
import { SinkError, type HubPoint, type Sink } from './sink.ts';

export interface IngestOptions {
  sink: Sink;
  metrics: HubMetrics;
  logger: Logger;
  /** Most points in one sink write. */
  batchSize: number;
  /** Longest a point waits for its batch to fill. */
  flushIntervalMs: number;
  /** Sink writes running at once. */
  maxInflightWrites: number;
  /** Points queued or being written; past it, submit waits (back-pressure on the publishers). */
  maxPendingPoints: number;
  /** Called with every batch the sink accepted. */
  onWritten?: (points: readonly HubPoint[]) => void;
}

interface Submission {
  remaining: number;
  failed: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Entry {
  points: readonly HubPoint[];
  offset: number;
  sub: Submission;
}

interface Batch {
  points: HubPoint[];
  parts: { sub: Submission; count: number }[];
}

export class Ingest {
  private readonly queue: Entry[] = [];
  private queuedPoints = 0;
  private inflight = 0;
  private inflightPoints = 0;
  private due = false;
  private draining = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly log: Logger;

  constructor(private readonly opts: IngestOptions) {
    this.log = opts.logger.child({ component: 'ingest' });
  }

  /** Points queued or in a write that has not finished. */
  get pendingPoints(): number {
    return this.queuedPoints + this.inflightPoints;
  }

  /** Resolves when every point is in the sink; rejects when a write containing them failed. */
  async submit(points: readonly HubPoint[]): Promise<void> {
    if (points.length === 0) return;
    // The room check and the enqueue run without an await in between, so concurrent submits cannot overshoot.
    if (this.stopped) throw new HubError('E_INGEST_STOPPED', 'ingest is stopped');
    while (this.mustWait(points.length)) {
      this.opts.metrics.backpressureWaits.inc();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.stopped) throw new HubError('E_INGEST_STOPPED', 'ingest is stopped');
    }
    await new Promise<void>((resolve, reject) => {
      const sub: Submission = { remaining: points.length, failed: false, resolve, reject };
      this.queue.push({ points, offset: 0, sub });
      this.queuedPoints += points.length;
      this.pump();
    });
  }

  private mustWait(count: number): boolean {
    return this.pendingPoints > 0 && this.pendingPoints + count > this.opts.maxPendingPoints;
  }

  private pump(): void {
    while (this.inflight < this.opts.maxInflightWrites && this.queuedPoints > 0 && (this.due || this.draining || this.queuedPoints >= this.opts.batchSize)) {
      this.write(this.take());
    }
    if (this.queuedPoints === 0) this.due = false;
    else if (!this.due && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.pump();
      }, this.opts.flushIntervalMs);
    }
  }

  private take(): Batch {
    const batch: Batch = { points: [], parts: [] };
    while (batch.points.length < this.opts.batchSize) {
      const entry = this.queue[0];
      if (entry === undefined) break;
      const count = Math.min(entry.points.length - entry.offset, this.opts.batchSize - batch.points.length);
      for (let i = entry.offset; i < entry.offset + count; i++) {
        const p = entry.points[i];
        if (p !== undefined) batch.points.push(p);
      }
      batch.parts.push({ sub: entry.sub, count });
      entry.offset += count;
      if (entry.offset >= entry.points.length) this.queue.shift();
    }
    this.queuedPoints -= batch.points.length;
    return batch;
  }

  private write(batch: Batch): void {
    const n = batch.points.length;
    this.inflight++;
    this.inflightPoints += n;
    const started = performance.now();
    this.opts.sink
      .write(batch.points)
      .then(
        () => this.onWriteOk(batch, (performance.now() - started) / 1000),
        (err: unknown) => this.onWriteFailed(batch, err),
      )
      .finally(() => {
        this.inflight--;
        this.inflightPoints -= n;
        this.wake();
        this.pump();
      });
  }

  private onWriteOk(batch: Batch, seconds: number): void {
    this.opts.metrics.writeLatency.observe(seconds);
    this.opts.metrics.pointsWritten.inc(batch.points.length);
    this.settle(batch, undefined);
    try {
      this.opts.onWritten?.(batch.points);
    } catch (err: unknown) {
      this.log.error({ err }, 'onWritten hook failed');
    }
  }

  private onWriteFailed(batch: Batch, err: unknown): void {
    if (err instanceof SinkError && !err.retryable) {
      // The store refused some points themselves (type conflict, bad value): resending cannot help, so acknowledge.
      const dropped = /dropped=(\d+)/.exec(err.message)?.[1];
      this.opts.metrics.pointsRejected.inc(dropped === undefined ? batch.points.length : Number(dropped));
      this.log.warn({ err, points: batch.points.length }, 'sink refused points; dropped');
      this.settle(batch, undefined);
      return;
    }
    this.opts.metrics.writeErrors.inc();
    this.log.warn({ err, points: batch.points.length }, 'sink write failed');
    this.settle(batch, err);
  }

  private settle(batch: Batch, err: unknown): void {
    for (const { sub, count } of batch.parts) {
      if (sub.failed) continue;
      if (err !== undefined) {
        sub.failed = true;
        sub.reject(err);
        continue;
      }
      sub.remaining -= count;
      if (sub.remaining === 0) sub.resolve();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    if (this.pendingPoints === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
    }
  }

  /** Writes everything queued and waits for it; later submits are refused. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.draining = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake();
    this.pump();
    if (this.pendingPoints > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
