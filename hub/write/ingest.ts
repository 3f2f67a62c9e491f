// Batches points from many MQTT messages into bounded sink writes; each submit resolves once all its points are stored.
// A batch goes out as soon as a write slot is free (submits of the same tick are combined, nothing waits for a
// timer): at low load a point is written at once, and while every slot is busy points accumulate, so that when one
// frees everything queued goes in one write, cut only at batchSize. Load sets the batch size, not a clock.
// Fair: each agent (submit key) has its own queue and a batch is filled round-robin over them (deficit
// round-robin with a quantum of batchSize / active agents), and each agent has its own pending bound,
// so one agent's flood waits behind its own points and never in front of another agent's.
import type { Logger } from 'pino';
import { HubError } from '../errors.ts';
import type { HubMetrics } from '../metrics.ts';
import { SinkError, type HubPoint, type Sink } from './sink.ts';

export interface IngestOptions {
  sink: Sink;
  metrics: HubMetrics;
  logger: Logger;
  /** Most points in one sink write. */
  batchSize: number;
  /**
   * No longer delays a write: a batch goes out as soon as a slot is free. Accepted so that existing
   * configurations (`influx.flushIntervalMs`) keep working.
   */
  flushIntervalMs?: number;
  /** Sink writes running at once. */
  maxInflightWrites: number;
  /** Points queued or being written; past it, submit waits (back-pressure on the publishers). */
  maxPendingPoints: number;
  /** Points of one submit key (agent) queued or being written; past it, that key's submits wait. Default: maxPendingPoints. */
  maxPendingPointsPerKey?: number;
  /** Called when the sink refused points of a batch for good (InfluxDB 400): the alarm and the agents' counters. */
  onRejected?: (points: readonly HubPoint[], err: SinkError) => void;
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

interface KeyQueue {
  entries: Entry[];
  /** Queued + in a write, of this key. */
  pending: number;
}

interface Batch {
  points: HubPoint[];
  parts: { sub: Submission; count: number; key: string }[];
}

/** Submit key of the hub's own points (status, delivery, alerts). */
export const HUB_KEY = 'hub';

export class Ingest {
  private readonly queues = new Map<string, KeyQueue>();
  /** Keys with queued points, in round-robin order. */
  private active: string[] = [];
  private queuedPoints = 0;
  private inflight = 0;
  private inflightPoints = 0;
  /** A pump is queued as a microtask: submits of the same tick go in one write. */
  private pumpQueued = false;
  private stopped = false;
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
  /** Points of one key queued or being written. */
  pendingOf(key: string): number {
    return this.queues.get(key)?.pending ?? 0;
  }

  async submit(points: readonly HubPoint[], key: string = HUB_KEY): Promise<void> {
    if (points.length === 0) return;
    // The room check and the enqueue run without an await in between, so concurrent submits cannot overshoot.
    if (this.stopped) throw new HubError('E_INGEST_STOPPED', 'ingest is stopped');
    while (this.mustWait(key, points.length)) {
      this.opts.metrics.backpressureWaits.inc();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.stopped) throw new HubError('E_INGEST_STOPPED', 'ingest is stopped');
    }
    await new Promise<void>((resolve, reject) => {
      const sub: Submission = { remaining: points.length, failed: false, resolve, reject };
      let q = this.queues.get(key);
      if (q === undefined) {
        q = { entries: [], pending: 0 };
        this.queues.set(key, q);
      }
      if (q.entries.length === 0) this.active.push(key);
      q.entries.push({ points, offset: 0, sub });
      q.pending += points.length;
      this.queuedPoints += points.length;
      this.schedulePump();
    });
  }

  private mustWait(key: string, count: number): boolean {
    const own = this.pendingOf(key);
    const perKey = this.opts.maxPendingPointsPerKey ?? this.opts.maxPendingPoints;
    if (own > 0 && own + count > perKey) return true;
    return this.pendingPoints > 0 && this.pendingPoints + count > this.opts.maxPendingPoints;
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Starts writes while a slot is free and points are queued. */
  private pump(): void {
    while (this.inflight < this.opts.maxInflightWrites && this.queuedPoints > 0) {
      const batch = this.take();
      // size_bound: the batch was cut at batchSize with points left queued; slot_free: it took everything queued.
      this.opts.metrics.writesStarted.inc(1, this.queuedPoints > 0 ? 'size_bound' : 'slot_free');
      this.opts.metrics.writeBatchPoints.observe(batch.points.length);
      this.write(batch);
    }
  }

  /** Fills one batch round-robin over the keys with queued points, at most a quantum per key per turn. */
  private take(): Batch {
    const batch: Batch = { points: [], parts: [] };
    const size = this.opts.batchSize;
    const quantum = Math.max(1, Math.ceil(size / Math.max(1, this.active.length)));
    while (batch.points.length < size) {
      const key = this.active.shift();
      if (key === undefined) break;
      const q = this.queues.get(key);
      if (q === undefined) continue;
      let turn = Math.min(quantum, size - batch.points.length);
      while (turn > 0) {
        const entry = q.entries[0];
        if (entry === undefined) break;
        const count = Math.min(entry.points.length - entry.offset, turn);
        for (let i = entry.offset; i < entry.offset + count; i++) {
          const p = entry.points[i];
          if (p !== undefined) batch.points.push(p);
        }
        batch.parts.push({ sub: entry.sub, count, key });
        entry.offset += count;
        turn -= count;
        if (entry.offset >= entry.points.length) q.entries.shift();
      }
      if (q.entries.length > 0) this.active.push(key);
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
        for (const part of batch.parts) {
          const q = this.queues.get(part.key);
          if (q === undefined) continue;
          q.pending -= part.count;
          if (q.pending <= 0 && q.entries.length === 0) this.queues.delete(part.key);
        }
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
      try {
        this.opts.onRejected?.(batch.points, err);
      } catch (hookErr: unknown) {
        this.log.error({ err: hookErr }, 'onRejected hook failed');
      }
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
    this.wake();
    this.pump();
    if (this.pendingPoints > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
