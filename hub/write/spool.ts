// The hub's durable spool: a Sink in front of InfluxDB. A batch InfluxDB cannot take now is appended to
// an on-disk journal (the same log code as the edge outbox) and fsynced before write() resolves, so
// the PUBACK still means "durable"; a drainer writes the spool into InfluxDB once it answers again.
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from 'pino';
import { Journal } from '../../journal/journal.ts';
import { fullJitterDelay } from '../../common/backoff.ts';
import { RateLimitedLog } from '../../common/rate-limited-log.ts';
import { HubError } from '../errors.ts';
import { SinkError, type HubPoint, type Sink } from './sink.ts';

export interface SpoolOptions {
  dir: string;
  /** The store behind the spool (InfluxDB). */
  target: Sink;
  /**
   * Bytes on disk. A batch that would go past it is refused (the write fails retryably: no PUBACK, the
   * agent resends) rather than evicting batches already acknowledged to other agents.
   */
  maxBytes: number;
  segmentBytes?: number;
  /** Group commit window of the spool's fsync (0: fsync at once, coalescing concurrent writes). */
  fsyncIntervalMs?: number;
  /** Most points per drain write. */
  drainBatchPoints?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  logger: Logger;
  /** Told about every batch of points the drainer wrote (the hub's counters). */
  onDrained?: (points: readonly HubPoint[]) => void;
  /** Told about spooled points InfluxDB refused for good when drained (the alarm). */
  onRejected?: (points: readonly HubPoint[], err: SinkError) => void;
}

/** Whose points a spooled batch holds: `site/agent` of each point, bytes shared out by point count. */
function bytesByAgent(points: readonly HubPoint[], bytes: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of points) {
    const key = `${p.tags.site ?? ''}/${p.tags.agent ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const out = new Map<string, number>();
  for (const [key, n] of counts) out.set(key, Math.ceil((bytes * n) / Math.max(1, points.length)));
  return out;
}

const DROP_LOG_INTERVAL_MS = 60_000;

export class SpoolingSink implements Sink {
  private readonly journal: Journal;
  private readonly log: Logger;
  private nextId: number;
  /** InfluxDB failed and has not taken a drain write since: new batches go straight to the spool. */
  private down = false;
  private draining: Promise<void> | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly dropLog: RateLimitedLog;
  /** Per spooled batch, its bytes by agent; and the sum per agent (the spool share budget). */
  private readonly owners = new Map<number, Map<string, number>>();
  private readonly agentBytesMap = new Map<string, number>();
  /** Batches refused because the spool was full. */
  refusedFull = 0;
  spooledPoints = 0;
  drainedPoints = 0;

  private constructor(
    private readonly opts: SpoolOptions,
    journal: Journal,
  ) {
    this.journal = journal;
    this.log = opts.logger.child({ component: 'spool' });
    this.dropLog = new RateLimitedLog(this.log, DROP_LOG_INTERVAL_MS);
    this.nextId = journal.maxId + 1;
  }

  static open(opts: SpoolOptions): SpoolingSink {
    const log = opts.logger.child({ component: 'spool' });
    const holder: { self?: SpoolingSink } = {};
    let journal: Journal;
    const segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(opts.maxBytes / 16)));
    try {
      journal = Journal.open({
        dir: opts.dir,
        // The spool refuses past maxBytes itself; the journal's own eviction is only a last resort.
        maxBytes: opts.maxBytes + 2 * segmentBytes,
        segmentBytes,
        fsyncIntervalMs: opts.fsyncIntervalMs ?? 0,
        fsyncEveryRecords: 1_000_000,
        onDrop: (count, reason) => holder.self?.onDrop(count, reason),
        onError: (err) => log.error({ err }, 'spool fsync failed'),
      });
    } catch (err: unknown) {
      throw new HubError('E_SPOOL', `cannot open the spool in ${opts.dir}: ${errorMessage(err)}`, { cause: err });
    }
    const self = new SpoolingSink(opts, journal);
    holder.self = self;
    if (journal.depth > 0) {
      log.info({ batches: journal.depth, bytes: journal.pendingBytes, recovered: journal.recovery }, 'spool recovered; draining');
      self.down = true;
      self.scheduleDrain(0);
    }
    return self;
  }

  /** Spooled batches not yet in InfluxDB. */
  get depth(): number {
    return this.journal.depth;
  }

  get bytes(): number {
    return this.journal.pendingBytes;
  }

  get droppedTotal(): number {
    return this.journal.droppedTotal;
  }

  /** Bytes of this agent's (`site/agent`) points in the spool now. Batches recovered at start are not attributed. */
  agentBytes(key: string): number {
    return this.agentBytesMap.get(key) ?? 0;
  }

  /** Age of the oldest spooled batch, ms (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    const at = this.journal.oldestAt;
    return at === undefined ? 0 : now - at;
  }

  async write(points: readonly HubPoint[]): Promise<void> {
    if (!this.down) {
      try {
        await this.opts.target.write(points);
        return;
      } catch (err: unknown) {
        if (err instanceof SinkError && !err.retryable) throw err;
        if (!this.down) this.log.warn({ err }, 'InfluxDB write failed; spooling until it is back');
        this.down = true;
      }
    }
    await this.spool(points);
  }

  private async spool(points: readonly HubPoint[]): Promise<void> {
    if (this.stopped) throw new SinkError('spool is stopped', { retryable: true });
    const data = Buffer.from(JSON.stringify(points));
    if (this.journal.bytesOnDisk + data.length > this.opts.maxBytes) {
      this.refusedFull += 1;
      this.onDrop(1, 'full: batch refused before the ack');
      throw new SinkError('spool full', { retryable: true });
    }
    const id = this.nextId;
    this.nextId += 1;
    try {
      this.journal.append(id, data);
      // The ack to the agent waits for this fsync (concurrent writes share one).
      await this.journal.commit();
    } catch (err: unknown) {
      throw new SinkError(`spool write failed: ${errorMessage(err)}`, { retryable: true, cause: err });
    }
    this.spooledPoints += points.length;
    const owners = bytesByAgent(points, data.length);
    this.owners.set(id, owners);
    for (const [key, bytes] of owners) this.agentBytesMap.set(key, (this.agentBytesMap.get(key) ?? 0) + bytes);
    this.scheduleDrain(this.attempt === 0 ? 500 : undefined);
  }

  private scheduleDrain(delayMs?: number): void {
    if (this.stopped || this.draining !== undefined || this.drainTimer !== undefined) return;
    const wait = delayMs ?? fullJitterDelay(this.attempt, { minMs: this.opts.retryMinMs ?? 500, maxMs: this.opts.retryMaxMs ?? 10_000 });
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.journal.depth > 0) this.scheduleDrain();
      });
    }, wait);
    this.drainTimer.unref();
  }

  /** Writes the spool oldest first until it is empty or a write fails. */
  private async drain(): Promise<void> {
    const max = this.opts.drainBatchPoints ?? 5000;
    while (!this.stopped && this.journal.depth > 0) {
      const ids: number[] = [];
      const points: HubPoint[] = [];
      for (const e of this.journal.entries()) {
        const data = this.journal.read(e.id);
        if (data === undefined) continue;
        const batch = JSON.parse(data.toString('utf8')) as HubPoint[];
        if (ids.length > 0 && points.length + batch.length > max) break;
        ids.push(e.id);
        points.push(...batch);
      }
      if (ids.length === 0) return;
      try {
        await this.opts.target.write(points);
      } catch (err: unknown) {
        if (!(err instanceof SinkError && !err.retryable)) {
          this.attempt += 1;
          this.down = true;
          this.log.debug({ err, attempt: this.attempt }, 'spool drain write failed');
          return;
        }
        this.log.error({ err, points: points.length }, 'InfluxDB refused spooled points; dropped');
        this.opts.onRejected?.(points, err);
      }
      for (const id of ids) {
        this.journal.ack(id);
        this.release(id);
      }
      this.drainedPoints += points.length;
      this.opts.onDrained?.(points);
      if (this.attempt > 0 || this.down) this.log.info({ left: this.journal.depth }, 'InfluxDB is back; draining the spool');
      this.attempt = 0;
      this.down = false;
    }
  }

  /** Stops draining and closes the journal (what is spooled stays for the next start). Idempotent. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.drainTimer);
    await this.draining;
    await this.journal.close();
  }

  private release(id: number): void {
    const owners = this.owners.get(id);
    if (owners === undefined) return;
    this.owners.delete(id);
    for (const [key, bytes] of owners) {
      const left = (this.agentBytesMap.get(key) ?? 0) - bytes;
      if (left <= 0) this.agentBytesMap.delete(key);
      else this.agentBytesMap.set(key, left);
    }
  }

  private onDrop(count: number, reason: string): void {
    this.dropLog.error('drop', { count, reason, droppedTotal: this.journal.droppedTotal }, 'spool full: batches dropped or refused');
  }
}
