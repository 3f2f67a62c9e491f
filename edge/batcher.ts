// Cuts accumulated points into batches (≤ maxPoints, ≤ the payload limit, or every flushIntervalMs) and appends them to the outbox.
import { LIMITS, pointSchema, type FieldValue, type Point } from '../protocol/index.ts';
import type { Accumulator } from './collectors/types.ts';
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
}

const INVALID_LOG_INTERVAL_MS = 60_000;
/** Room for `{"seq":…,"sentAt":…,"points":}` around the points array. */
const ENVELOPE_BYTES = 64;

export class Batcher implements Accumulator {
  private points: Point[] = [];
  /** Discrete events: cut into batches of their own with `channel: 'event'`, in the same seq order. */
  private events: Point[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private lastInvalidLog = 0;
  collected = 0;
  invalid = 0;
  batches = 0;

  constructor(private readonly opts: BatcherOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'batcher' });
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
    return this.points.length + this.events.length;
  }

  add(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = Date.now()): void {
    this.push(this.points, measurement, fields, tags, t);
  }

  event(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = Date.now()): void {
    this.push(this.events, measurement, fields, tags, t);
  }

  private push(list: Point[], measurement: string, fields: Record<string, FieldValue>, tags: Record<string, string> | undefined, t: number): void {
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
    this.collected += 1;
    if (list.length >= this.opts.maxPoints) this.cut();
  }

  /** Cuts what is pending into a batch now. Resolves once every batch so far is in the outbox. */
  async flush(): Promise<void> {
    this.cut();
    await this.chain;
  }

  private cut(): void {
    const points = this.points;
    const events = this.events;
    this.points = [];
    this.events = [];
    // One chain for both channels: the outbox sees seqs in order.
    if (points.length > 0) this.append(points, 'telemetry');
    if (events.length > 0) this.append(events, 'event');
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

/** Splits a batch in halves until each serializes under the hub's payload limit. */
export function splitBySize(points: Point[], maxBytes: number = LIMITS.maxPayloadBytes - ENVELOPE_BYTES): Point[][] {
  if (points.length <= 1 || Buffer.byteLength(JSON.stringify(points)) <= maxBytes) return [points];
  const mid = Math.ceil(points.length / 2);
  return [...splitBySize(points.slice(0, mid), maxBytes), ...splitBySize(points.slice(mid), maxBytes)];
}
