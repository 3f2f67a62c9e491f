// Cuts accumulated points into batches (≤ maxPoints, ≤ the payload limit, or every flushIntervalMs) and appends them to the outbox.
import { LIMITS, maxPointsBytes, pointSchema, type FieldValue, type Point } from '../protocol/index.ts';
import type { Accumulator } from './collectors/types.ts';
import { systemClock, type EdgeClock } from './clock.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { Outbox } from './outbox.ts';

export interface BatcherOptions {
  outbox: Outbox;
  maxPoints: number;
  flushIntervalMs: number;
  /** Gives the next batch seq (SeqStore.next, or a counter in the simulator). */
  nextSeq: () => number;
  /** Called after each batch reached the outbox (the link's kick). */
  onBatch?: () => void;
  /** Check every point against pointSchema (the agent does; the flood simulator skips it). */
  validate?: boolean;
  logger?: Logger;
  /** Wall + monotonic clock and sync state (default: the system's). */
  clock?: EdgeClock;
  /** While the clock is not synced, points are held in memory (not appended) for up to this long… */
  holdUnsyncedMs?: number;
  /** …and up to this many points; past either bound they are appended with the time they have. */
  maxHoldPoints?: number;
  /** A wall-clock step against the monotonic clock at least this large counts as the clock being set. */
  jumpThresholdMs?: number;
}

export interface BatcherClockStats {
  /** Points held now, waiting for the clock. */
  held: number;
  /** Points whose t was corrected before they reached the outbox. */
  corrected: number;
  /** Points appended with an unsynced time because a hold bound was reached. */
  uncorrected: number;
}

const INVALID_LOG_INTERVAL_MS = 60_000;
/** Offsets (wall − monotonic) drift by a few ms; only a real step is corrected. */
const MIN_CORRECTION_MS = 1000;

// Clock correction. A Pi has no RTC: until NTP sets it, its wall clock can be hours or years off.
// Every point remembers the wall−monotonic offset when it was collected; just before a batch is
// appended to the outbox, a point whose offset differs from today's by ≥ 1 s gets t += the
// difference (its monotonic time mapped through the corrected clock). While the clock is known to be
// unsynced, points are held here instead of appended, until the sync (or a step ≥ jumpThresholdMs)
// arrives, bounded by holdUnsyncedMs and maxHoldPoints. A point's t is fixed once it is in the outbox,
// so every delivery of it carries the same t (the idempotent-write guarantee); the trade-offs: points
// already appended (hold bound reached, or collected before a step on an 'unknown' clock and cut
// before it) keep their t, held points are lost by a power cut, and nothing from a previous boot can
// be corrected (the monotonic clock starts again).

export class Batcher implements Accumulator {
  private points: Point[] = [];
  /** Discrete events: cut into batches of their own with `channel: 'event'`, in the same seq order. */
  private events: Point[] = [];
  /** Wall − monotonic offset at collection of each point (parallel to `points` / `events`). */
  private pointOffsets: number[] = [];
  private eventOffsets: number[] = [];
  private held: { points: Point[]; offsets: number[]; channel: 'telemetry' | 'event' }[] = [];
  private heldPoints = 0;
  private heldSince: number | undefined;
  /** The clock was seen to step: trusted from then on, whatever the sync flag says. */
  private stepped = false;
  private readonly clock: EdgeClock;
  private readonly clockCounts = { corrected: 0, uncorrected: 0 };
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private lastInvalidLog = 0;
  collected = 0;
  invalid = 0;
  batches = 0;

  constructor(private readonly opts: BatcherOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'batcher' });
    this.clock = opts.clock ?? systemClock;
  }

  clockStats(): BatcherClockStats {
    return { held: this.heldPoints, ...this.clockCounts };
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.cut(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get pending(): number {
    return this.points.length + this.events.length + this.heldPoints;
  }

  add(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = this.clock.now()): void {
    this.push(this.points, this.pointOffsets, measurement, fields, tags, t);
  }

  event(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = this.clock.now()): void {
    this.push(this.events, this.eventOffsets, measurement, fields, tags, t);
  }

  private push(list: Point[], offsets: number[], measurement: string, fields: Record<string, FieldValue>, tags: Record<string, string> | undefined, t: number): void {
    const point: Point = tags === undefined || Object.keys(tags).length === 0 ? { m: measurement, t, fields } : { m: measurement, t, tags, fields };
    if (this.opts.validate !== false) {
      const parsed = pointSchema.safeParse(point);
      if (!parsed.success) {
        this.invalid += 1;
        const now = Date.now();
        if (now - this.lastInvalidLog >= INVALID_LOG_INTERVAL_MS) {
          this.lastInvalidLog = now;
          this.log.warn({ measurement, invalid: this.invalid, issue: parsed.error.issues[0]?.message }, 'invalid point dropped');
        }
        return;
      }
    }
    list.push(point);
    offsets.push(this.clock.now() - this.clock.mono());
    this.collected += 1;
    if (list.length >= this.opts.maxPoints) this.cut();
  }

  /** Cuts what is pending (held points too: a stopping agent must not lose them) into a batch now. Resolves once every batch so far is in the outbox. */
  async flush(): Promise<void> {
    this.cut(true);
    await this.chain;
  }

  private cut(force = false): void {
    const parts = [
      { points: this.points, offsets: this.pointOffsets, channel: 'telemetry' as const },
      { points: this.events, offsets: this.eventOffsets, channel: 'event' as const },
    ].filter((p) => p.points.length > 0);
    this.points = [];
    this.events = [];
    this.pointOffsets = [];
    this.eventOffsets = [];
    const offsetNow = this.clock.now() - this.clock.mono();
    if (!this.stepped && this.held.some((h) => h.offsets.some((o) => Math.abs(offsetNow - o) >= (this.opts.jumpThresholdMs ?? 30_000)))) {
      this.stepped = true;
      this.log.info({ held: this.heldPoints }, 'wall clock stepped: held points corrected');
    }
    if (parts.length > 0 && !force && this.mustHold()) {
      this.heldSince ??= this.clock.mono();
      for (const p of parts) this.heldPoints += p.points.length;
      this.held.push(...parts);
      return;
    }
    const released = this.held;
    const expired = this.heldPoints > 0 && !this.clockTrusted();
    this.held = [];
    this.heldPoints = 0;
    this.heldSince = undefined;
    if (expired) this.log.warn({ points: released.reduce((n, h) => n + h.points.length, 0) }, 'clock still not synced: held points sent with their unsynced time');
    // One chain for both channels: the outbox sees seqs in order.
    for (const p of [...released, ...parts]) {
      if (expired && released.includes(p)) this.clockCounts.uncorrected += p.points.length;
      else this.correct(p.points, p.offsets, offsetNow);
      this.append(p.points, p.channel);
    }
  }

  private clockTrusted(): boolean {
    return this.stepped || this.clock.syncState() !== 'unsynced';
  }

  /** Hold while the clock is known to be unsynced, within the bounds. */
  private mustHold(): boolean {
    const holdMs = this.opts.holdUnsyncedMs ?? 0;
    if (holdMs <= 0 || this.clockTrusted()) return false;
    if (this.heldSince !== undefined && this.clock.mono() - this.heldSince >= holdMs) return false;
    return this.heldPoints < (this.opts.maxHoldPoints ?? 20_000);
  }

  /** Maps each point's time through the offset the clock has now (before it reaches the outbox). */
  private correct(points: Point[], offsets: readonly number[], offsetNow: number): void {
    for (let i = 0; i < points.length; i += 1) {
      const delta = offsetNow - (offsets[i] ?? offsetNow);
      const p = points[i];
      if (p === undefined || Math.abs(delta) < MIN_CORRECTION_MS) continue;
      p.t = Math.round(p.t + delta);
      this.clockCounts.corrected += 1;
    }
  }

  private append(points: Point[], channel: 'telemetry' | 'event'): void {
    for (const part of splitBySize(points)) {
      const seq = this.opts.nextSeq();
      const payload = JSON.stringify(part);
      this.batches += 1;
      this.chain = this.chain
        .then(() => this.opts.outbox.append({ seq, payload, points: part.length, ...(channel === 'event' ? { channel } : {}) }))
        .then(() => this.opts.onBatch?.())
        .catch((err: unknown) => this.log.error({ err, seq }, 'outbox append failed'));
    }
  }
}

/** Splits a batch in halves until each serializes under the hub's payload limit, with room for the widest envelope the link may add. */
export function splitBySize(points: Point[], maxBytes: number = maxPointsBytes(LIMITS.maxPayloadBytes)): Point[][] {
  if (points.length <= 1 || Buffer.byteLength(JSON.stringify(points)) <= maxBytes) return [points];
  const mid = Math.ceil(points.length / 2);
  return [...splitBySize(points.slice(0, mid), maxBytes), ...splitBySize(points.slice(mid), maxBytes)];
}
