// Rollup windows that late points touched, recomputed. The continuous queries recompute only their RESAMPLE FOR
// window (1-minute rollup: the last 15 min, 1-hour: the last 3 h); a point older than that (an agent's backlog after
// an outage, the spool draining after InfluxDB was away) would never reach the rollups the long-range walls read.
// Each written point older than a rollup's resample window marks its bucket of that rollup; after the writes settle
// (debounced, with a longest wait) exactly those buckets are recomputed — consecutive ones coalesced into one
// SELECT … INTO with a time range, never "since X" — one query at a time, off the ingest path (onWritten only records).
import type { InfluxDB } from 'influx';
import type { Logger } from 'pino';
import { fullJitterDelay } from '../../common/backoff.ts';
import { errorMessage } from '../../common/errors.ts';
import type { HubConfig } from '../config.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import type { HubPoint } from '../write/sink.ts';
import { influxClient, ROLLUP_MEASUREMENTS, ROLLUPS, rollupSelect, type InfluxSchemaOptions, type RollupSpec } from './influx-schema.ts';

export interface RollupBackfillOptions {
  influx: Pick<InfluxDB, 'query'>;
  schema: InfluxSchemaOptions;
  logger: Logger;
  /** Recompute once no new window was touched for this long (a replay touches the same windows many times), ms. */
  debounceMs?: number;
  /** …but at the latest this long after the first window of a round was touched (a long replay), ms. */
  maxDelayMs?: number;
  /** Windows waiting, all rollups together; a new one past it is dropped and counted. */
  maxWindows?: number;
  /** Most buckets one query recomputes (a long run of touched buckets is cut into several queries). */
  maxBucketsPerQuery?: number;
  rollups?: readonly RollupSpec[];
  now?: () => number;
}

/** InfluxQL duration literal (`15m`, `3h`, `1d`) in ms. */
export function influxDurationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(d);
  if (m === null) throw new Error(`not an InfluxQL duration: ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

interface Rollup {
  spec: RollupSpec;
  everyMs: number;
  resampleMs: number;
  /** Bucket starts (epoch ms) waiting to be recomputed. */
  pending: Set<number>;
}

/** A run of consecutive buckets: [start, end). */
export interface Window {
  start: number;
  end: number;
  buckets: number;
}

/** Consecutive buckets coalesced into ranges of at most `maxBuckets`, in time order. */
export function coalesce(buckets: Iterable<number>, everyMs: number, maxBuckets: number): Window[] {
  const sorted = [...buckets].sort((a, b) => a - b);
  const out: Window[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.end === b && last.buckets < maxBuckets) {
      last.end = b + everyMs;
      last.buckets++;
    } else {
      out.push({ start: b, end: b + everyMs, buckets: 1 });
    }
  }
  return out;
}

const MEASUREMENTS: ReadonlySet<string> = new Set(ROLLUP_MEASUREMENTS);

export class RollupBackfill {
  readonly queued = new Counter('ioc_hub_rollup_windows_queued_total', 'Rollup buckets touched by points older than the continuous query recomputes, queued for recomputation', 'rollup');
  readonly recomputed = new Counter('ioc_hub_rollup_windows_recomputed_total', 'Rollup buckets recomputed (SELECT … INTO over their time range) after late points touched them', 'rollup');
  readonly dropped = new Counter('ioc_hub_rollup_windows_dropped_total', 'Touched rollup buckets not queued: rollups.maxWindows were waiting', 'rollup');
  readonly failures = new Counter('ioc_hub_rollup_recompute_failures_total', 'Recomputation queries that failed (their buckets are queued again)');
  private readonly rollups: Rollup[];
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly maxWindows: number;
  private readonly maxBucketsPerQuery: number;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private roundStartedAt: number | undefined;
  private running: Promise<void> | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(private readonly opts: RollupBackfillOptions) {
    this.rollups = (opts.rollups ?? ROLLUPS).map((spec) => ({ spec, everyMs: influxDurationMs(spec.every), resampleMs: influxDurationMs(spec.resampleFor), pending: new Set<number>() }));
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'rollup-backfill' });
    this.debounceMs = opts.debounceMs ?? 2000;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.maxWindows = opts.maxWindows ?? 20_000;
    // An hour of the 1-minute rollup (60 h of the 1-hour one) per query: each reads a bounded slice of raw data.
    this.maxBucketsPerQuery = opts.maxBucketsPerQuery ?? 60;
  }

  /** Buckets waiting to be recomputed. */
  get pending(): number {
    return this.size;
  }

  /** Written points (ingest's onWritten, the spool's drain): records the buckets past the CQs' reach. O(points). */
  touch(points: readonly HubPoint[]): void {
    if (this.stopped || points.length === 0) return;
    const now = this.now();
    let added = false;
    for (const r of this.rollups) {
      // The CQ's next run (the first bucket boundary after now: the points are written already) recomputes
      // [run − resampleFor, run); a bucket before that is one the CQs will never see again.
      const coveredFrom = (Math.floor(now / r.everyMs) + 1) * r.everyMs - r.resampleMs;
      let dropped: Set<number> | undefined;
      for (const p of points) {
        if (p.timestamp >= coveredFrom || !MEASUREMENTS.has(p.measurement)) continue;
        const bucket = p.timestamp - (((p.timestamp % r.everyMs) + r.everyMs) % r.everyMs);
        if (r.pending.has(bucket)) continue;
        if (this.size >= this.maxWindows) {
          // Counted once per bucket (a bucket has many points).
          dropped ??= new Set();
          if (!dropped.has(bucket)) this.dropped.inc(1, r.spec.rp);
          dropped.add(bucket);
          continue;
        }
        r.pending.add(bucket);
        this.size++;
        this.queued.inc(1, r.spec.rp);
        added = true;
      }
    }
    if (added) this.schedule(now, this.debounceMs);
  }

  /** (Re)arms the timer: `delay` from now, never past the round's longest wait. */
  private schedule(now: number, delay: number): void {
    if (this.stopped) return;
    this.roundStartedAt ??= now;
    const wait = Math.max(0, Math.min(delay, this.roundStartedAt + this.maxDelayMs - now));
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  /** Recomputes every queued window now, one query at a time (a flush under way is awaited first). */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.size === 0) return;
    this.roundStartedAt = undefined;
    this.running = this.recompute().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  private async recompute(): Promise<void> {
    let failed = false;
    for (const r of this.rollups) {
      const buckets = r.pending;
      if (buckets.size === 0) continue;
      r.pending = new Set();
      this.size -= buckets.size;
      for (const w of coalesce(buckets, r.everyMs, this.maxBucketsPerQuery)) {
        if (failed || this.stopped) {
          this.requeue(r, w);
          continue;
        }
        try {
          await this.opts.influx.query(rollupSelect(r.spec, this.opts.schema, `time >= ${w.start}ms AND time < ${w.end}ms`), { database: this.opts.schema.database });
          this.recomputed.inc(w.buckets, r.spec.rp);
        } catch (err: unknown) {
          failed = true;
          this.failures.inc();
          this.log.warn({ rollup: r.spec.rp, from: new Date(w.start).toISOString(), to: new Date(w.end).toISOString(), err: errorMessage(err) }, 'rollup recomputation failed; retrying');
          this.requeue(r, w);
        }
      }
    }
    if (failed) {
      this.attempt++;
      this.schedule(this.now(), Math.max(this.debounceMs, fullJitterDelay(this.attempt, { minMs: 1000, maxMs: 60_000 })));
    } else {
      this.attempt = 0;
      if (this.size > 0) this.schedule(this.now(), this.debounceMs);
    }
  }

  /** Buckets of a window not recomputed go back in the queue (within its bound). */
  private requeue(r: Rollup, w: Window): void {
    for (let b = w.start; b < w.end; b += r.everyMs) {
      if (r.pending.has(b)) continue;
      if (this.size >= this.maxWindows) {
        this.dropped.inc(1, r.spec.rp);
        continue;
      }
      r.pending.add(b);
      this.size++;
    }
  }

  /** Stops the timer and waits for a query under way; what is still queued is left (logged). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.size > 0) this.log.warn({ windows: this.size }, 'rollup windows not recomputed at stop');
  }
}

/** The hub's backfill: its own InfluxDB client (not ingest's write slots), config `rollups`, its metrics. */
export function hubRollupBackfill(config: HubConfig, sourceRp: string, metrics: HubMetrics, logger: Logger): RollupBackfill {
  const b = new RollupBackfill({
    influx: influxClient(config.influx),
    schema: { database: config.influx.database, sourceRp },
    logger,
    debounceMs: config.rollups.debounce,
    maxDelayMs: config.rollups.maxDelay,
    maxWindows: config.rollups.maxWindows,
  });
  for (const c of [b.queued, b.recomputed, b.dropped, b.failures]) metrics.addCounter(c);
  metrics.addGauge({ name: 'ioc_hub_rollup_windows_pending', help: 'Rollup buckets waiting to be recomputed (bound: rollups.maxWindows)', read: () => b.pending });
  return b;
}
