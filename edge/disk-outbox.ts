// The durable outbox: batches kept in an append-only segmented journal on the SD card until the hub's PUBACK.
import { errorMessage } from '../common/errors.ts';
import { join } from 'node:path';
import { Journal, JournalError, type RecoveryReport } from '../journal/journal.ts';
import { EdgeError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { RateLimitedLog } from '../common/rate-limited-log.ts';
import { SeqOrder, type Outbox, type OutboxEntry } from './outbox.ts';

export interface DiskOutboxOptions {
  /** Folder of the journal (the agent uses `dataDir/outbox`). */
  dir: string;
  /** Bytes on disk; past it the oldest segment is dropped and its batches counted. */
  maxBytes: number;
  /** Batches older than this are dropped and counted. */
  maxAgeMs?: number;
  /** Bound on the number of batches (the memory outbox's bound; optional here). */
  maxBatches?: number;
  /** Group commit: fsync at most this long after a write. */
  fsyncIntervalMs: number;
  /** …or once this many batches/acks are unsynced. */
  fsyncEveryRecords: number;
  /** Segment size; default maxBytes/16 within [64 KiB, 8 MiB]. */
  segmentBytes?: number;
  logger?: Logger;
  now?: () => number;
}

const CHANNEL_CODE = { none: 0, telemetry: 1, event: 2 } as const;
const DROP_LOG_INTERVAL_MS = 60_000;
/** Kept when the outbox is built without a bound on bytes (tests). */
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

/** Record data: [u8 channel][u32 points][payload utf8]. */
function encode(entry: OutboxEntry): Buffer {
  const payload = Buffer.from(entry.payload, 'utf8');
  const buf = Buffer.allocUnsafe(5 + payload.length);
  buf.writeUInt8(entry.channel === undefined ? CHANNEL_CODE.none : CHANNEL_CODE[entry.channel], 0);
  buf.writeUInt32LE(entry.points, 1);
  payload.copy(buf, 5);
  return buf;
}

function decode(seq: number, data: Buffer): OutboxEntry {
  const code = data.readUInt8(0);
  const points = data.readUInt32LE(1);
  const payload = data.toString('utf8', 5);
  if (code === CHANNEL_CODE.telemetry) return { seq, payload, points, channel: 'telemetry' };
  if (code === CHANNEL_CODE.event) return { seq, payload, points, channel: 'event' };
  return { seq, payload, points };
}

export class DiskOutbox implements Outbox {
  private readonly journal: Journal;
  private readonly order = new SeqOrder();
  private readonly log: Logger;
  private readonly dropLog: RateLimitedLog;
  private closed = false;

  private constructor(journal: Journal, log: Logger) {
    this.journal = journal;
    this.log = log;
    this.dropLog = new RateLimitedLog(log, DROP_LOG_INTERVAL_MS);
    for (const info of journal.entries()) this.order.push(info.id);
  }

  /** Opens (and recovers) the outbox folder. Throws EdgeError E_OUTBOX. */
  static open(opts: DiskOutboxOptions): DiskOutbox {
    const log = (opts.logger ?? silentLogger()).child({ component: 'outbox' });
    const segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.min(8 * 1024 * 1024, Math.floor(opts.maxBytes / 16)));
    let box: DiskOutbox | undefined;
    try {
      const journal = Journal.open({
        dir: opts.dir,
        segmentBytes,
        maxBytes: opts.maxBytes,
        ...(opts.maxAgeMs === undefined ? {} : { maxAgeMs: opts.maxAgeMs }),
        ...(opts.maxBatches === undefined ? {} : { maxRecords: opts.maxBatches }),
        fsyncIntervalMs: opts.fsyncIntervalMs,
        fsyncEveryRecords: opts.fsyncEveryRecords,
        ...(opts.now === undefined ? {} : { now: opts.now }),
        onDrop: (count, reason) => box?.onDrop(count, reason),
        onError: (err) => log.error({ err }, 'outbox fsync failed'),
      });
      box = new DiskOutbox(journal, log);
    } catch (err: unknown) {
      throw new EdgeError('E_OUTBOX', `cannot open the outbox in ${opts.dir}: ${errorMessage(err)}`, { cause: err });
    }
    const r = box.journal.recovery;
    if (r.records > 0 || r.truncatedBytes > 0) log.info({ ...r, droppedTotal: box.droppedTotal }, 'outbox recovered');
    return box;
  }

  /** What recovery found on open. */
  get recovery(): RecoveryReport {
    return this.journal.recovery;
  }

  /** Highest seq ever appended (or recovered), -1 when none. */
  get lastSeq(): number {
    return this.appendedAny || this.journal.recovery.records > 0 ? this.journal.maxId : -1;
  }

  private appendedAny = false;

  /** Append time of the oldest batch not yet acknowledged (backfill age). */
  get oldestAppendedAt(): number | undefined {
    return this.journal.oldestAt;
  }

  /** Whether a batch is in the outbox (not acked, not dropped). */
  has(seq: number): boolean {
    return this.journal.has(seq);
  }

  get bytesOnDisk(): number {
    return this.journal.bytesOnDisk;
  }

  /** The batch is written to the OS before this returns its promise (a killed process keeps it); fsync follows by group commit. */
  append(entry: OutboxEntry): Promise<void> {
    try {
      this.journal.append(entry.seq, encode(entry));
      this.appendedAny = true;
      this.order.push(entry.seq);
      return Promise.resolve();
    } catch (err: unknown) {
      return Promise.reject(wrap(err, `cannot append batch ${entry.seq}`));
    }
  }

  *oldest(): Generator<number> {
    for (const info of this.journal.entries()) yield info.id;
  }

  newest(): Iterable<number> {
    return this.order.newest((s) => this.journal.has(s));
  }

  async get(seq: number): Promise<OutboxEntry | undefined> {
    let data: Buffer | undefined;
    try {
      data = this.journal.read(seq);
    } catch (err: unknown) {
      throw wrap(err, `cannot read batch ${seq}`);
    }
    return data === undefined ? undefined : decode(seq, data);
  }

  async ack(seq: number): Promise<void> {
    if (this.closed) return;
    try {
      this.journal.ack(seq);
    } catch (err: unknown) {
      throw wrap(err, `cannot record the ack of batch ${seq}`);
    }
  }

  get depth(): number {
    return this.journal.depth;
  }

  get droppedTotal(): number {
    return this.journal.droppedTotal;
  }

  /** fsyncs now (the agent's stop, tests). */
  async sync(): Promise<void> {
    await this.journal.commit();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.journal.close();
  }

  private onDrop(count: number, reason: string): void {
    this.dropLog.warn('drop', { count, reason, droppedTotal: this.journal.droppedTotal }, 'outbox full: oldest batches dropped');
  }
}

function wrap(err: unknown, what: string): EdgeError {
  const code = err instanceof JournalError ? err.code : undefined;
  return new EdgeError('E_OUTBOX', `${what}${code === undefined ? '' : ` (${code})`}: ${errorMessage(err)}`, { cause: err });
}

/** The outbox folder under the agent's dataDir. */
export function outboxDir(dataDir: string): string {
  return join(dataDir, 'outbox');
}
