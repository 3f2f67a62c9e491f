// A durable append-only segmented log of opaque records with per-segment ack files: the edge outbox
// and the hub spool are both built on it. It knows nothing of MQTT or InfluxDB.
//
// On disk (one folder): NNNNNNNNNNNNNNNN.seg record files and their .ack resolution files (format.ts), and
//   state.json            { droppedTotal } (written atomically when it changes, at commit)
// Writes go to the OS at once (writeSync: a killed process loses nothing written), fsync runs as a
// group commit every fsyncIntervalMs or fsyncEveryRecords (a power cut loses at most one interval).
// Recovery reads every segment, cuts a torn or corrupt tail, applies the ack files, and deletes
// segments whose records are all resolved. Ack order is free: acks are looked up by id.
import { errorMessage } from '../common/errors.ts';
import { ftruncateSync, mkdirSync, openSync, readSync } from 'node:fs';
import { datasync, safeClose, safeUnlink, writeFully } from './files.ts';
import { GroupCommit } from './group-commit.ts';
import { encodeRecord, encodeResolution, HEADER, KIND_ACK, KIND_DROP, MAX_RECORD } from './format.ts';
import { JournalError, type JournalEntryInfo, type JournalOptions, type RecoveryReport } from './types.ts';
import { createSegment, listSegments, loadDroppedTotal, recoverSegment, saveDroppedTotal, type Meta, type Segment } from './segment.ts';

export { journalBytes } from './files.ts';

export { JournalError, type JournalEntryInfo, type JournalErrorCode, type JournalOptions, type RecoveryReport } from './types.ts';

export class Journal {
  private readonly segments: Segment[] = [];
  /** Live (unresolved) records in append order. */
  private readonly live = new Map<number, Meta>();
  private liveBytes = 0;
  private diskBytes = 0;
  private dropped = 0;
  private droppedSaved = 0;
  private readonly group: GroupCommit;
  private closed = false;
  private lastId = 0;
  private readonly now: () => number;
  readonly recovery: RecoveryReport;

  private constructor(private readonly opts: JournalOptions) {
    this.now = opts.now ?? Date.now;
    this.recovery = { segments: 0, records: 0, live: 0, truncatedBytes: 0, deletedSegments: 0 };
    this.group = new GroupCommit({ intervalMs: opts.fsyncIntervalMs, everyWrites: opts.fsyncEveryRecords, flush: () => this.flush(), ...(opts.onError === undefined ? {} : { onError: opts.onError }) });
  }

  /** Opens (creating) the journal folder and recovers it. */
  static open(opts: JournalOptions): Journal {
    if (!(opts.segmentBytes >= 1024) || !(opts.maxBytes >= opts.segmentBytes * 2)) throw new RangeError('need segmentBytes ≥ 1024 and maxBytes ≥ 2 × segmentBytes');
    if (!(opts.fsyncIntervalMs >= 0) || !(opts.fsyncEveryRecords >= 1)) throw new RangeError('fsyncIntervalMs ≥ 0 and fsyncEveryRecords ≥ 1');
    const j = new Journal(opts);
    try {
      mkdirSync(opts.dir, { recursive: true });
      j.recover();
    } catch (err: unknown) {
      j.closeFds();
      if (err instanceof JournalError) throw err;
      throw new JournalError('E_JOURNAL_OPEN', `cannot open journal ${opts.dir}: ${errorMessage(err)}`, { cause: err });
    }
    return j;
  }

  /** Live records (appended, not yet acked or dropped). */
  get depth(): number {
    return this.live.size;
  }

  /** Bytes of live records' data. */
  get pendingBytes(): number {
    return this.liveBytes;
  }

  /** Bytes of segment and ack files on disk. */
  get bytesOnDisk(): number {
    return this.diskBytes;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  /** Highest id ever appended (or recovered). */
  get maxId(): number {
    return this.lastId;
  }

  /** Writes (records, acks, drops) not yet fsynced. */
  get unsyncedWrites(): number {
    return this.group.pending;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  /** Append time of the oldest live record. */
  get oldestAt(): number | undefined {
    for (const m of this.live.values()) return m.at;
    return undefined;
  }

  /** Live records in append order (a snapshot-free generator: do not append while iterating). */
  *entries(): Generator<JournalEntryInfo> {
    for (const m of this.live.values()) yield { id: m.id, at: m.at, size: m.size };
  }

  /**
   * Writes one record to the OS now (durable against a killed process), to disk at the next group
   * commit. Ids must be unique among live records; appending a live id is refused.
   */
  append(id: number, data: Buffer, at: number = this.now()): void {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id < 0) throw new JournalError('E_JOURNAL_RECORD', `invalid record id ${id}`);
    if (this.live.has(id)) throw new JournalError('E_JOURNAL_RECORD', `record ${id} is already in the journal`);
    if (data.length > MAX_RECORD) throw new JournalError('E_JOURNAL_RECORD', `record of ${data.length} bytes is too large`);
    this.enforceBounds(data.length + HEADER);
    let seg = this.segments.at(-1);
    if (seg === undefined || seg.bytes + HEADER + data.length > this.opts.segmentBytes && seg.bytes > 0) seg = this.newSegment();
    const buf = encodeRecord(id, at, data);
    const offset = seg.bytes;
    try {
      writeFully(seg.fd, buf, offset);
    } catch (err: unknown) {
      // A partial write is a torn tail: cut it so the next record starts clean.
      try {
        ftruncateSync(seg.fd, offset);
      } catch {
        // recovery will cut it
      }
      throw new JournalError('E_JOURNAL_WRITE', `cannot write to ${seg.path}`, { cause: err });
    }
    seg.bytes += buf.length;
    seg.live += 1;
    seg.dirty = true;
    this.diskBytes += buf.length;
    this.live.set(id, { id, at, seg, offset, size: data.length });
    this.liveBytes += data.length;
    if (id > this.lastId) this.lastId = id;
    this.written();
  }

  /** The data of a live record (read back from its segment). */
  read(id: number): Buffer | undefined {
    const m = this.live.get(id);
    if (m === undefined) return undefined;
    const buf = Buffer.allocUnsafe(m.size);
    try {
      let done = 0;
      while (done < m.size) {
        const n = readSync(m.seg.fd, buf, done, m.size - done, m.offset + HEADER + done);
        if (n === 0) throw new Error('unexpected end of segment');
        done += n;
      }
    } catch (err: unknown) {
      throw new JournalError('E_JOURNAL_READ', `cannot read record ${id} from ${m.seg.path}`, { cause: err });
    }
    return buf;
  }

  /** Resolves a record for good. Unknown (or already resolved) ids are a no-op; returns whether it was live. */
  ack(id: number): boolean {
    this.assertOpen();
    return this.resolve(id, KIND_ACK);
  }

  /** Drops expired records now (appends also do it). */
  expire(): number {
    this.assertOpen();
    return this.dropExpired();
  }

  /** Resolves once everything written so far is fsynced. */
  commit(): Promise<void> {
    return this.group.commit();
  }

  /** Commits and closes every file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit().catch((err: unknown) => this.opts.onError?.(err));
    this.closed = true;
    this.group.stop();
    this.closeFds();
  }

  private closeFds(): void {
    for (const s of this.segments) {
      safeClose(s.fd);
      if (s.ackFd !== undefined) safeClose(s.ackFd);
      s.ackFd = undefined;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new JournalError('E_JOURNAL_CLOSED', 'journal is closed');
  }

  private written(n = 1): void {
    this.group.written(n);
  }

  /** One group commit: records first, then their acks (an ack never becomes durable before its record). */
  private async flush(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const s of this.segments) {
      if (s.dirty) {
        s.dirty = false;
        work.push(this.sync(s, s.fd));
      }
    }
    await Promise.all(work);
    const acks: Promise<void>[] = [];
    for (const s of this.segments) {
      if (s.ackDirty && s.ackFd !== undefined) {
        s.ackDirty = false;
        acks.push(this.sync(s, s.ackFd));
      }
    }
    await Promise.all(acks);
    if (this.dropped !== this.droppedSaved) this.saveState();
    this.collect();
  }

  private async sync(s: Segment, fd: number): Promise<void> {
    s.syncing += 1;
    try {
      await datasync(fd, (err) => new JournalError('E_JOURNAL_WRITE', 'fsync failed', { cause: err }));
    } finally {
      s.syncing -= 1;
    }
  }

  private saveState(): void {
    const value = this.dropped;
    saveDroppedTotal(this.opts.dir, value);
    this.droppedSaved = value;
  }

  private resolve(id: number, kind: number): boolean {
    const m = this.live.get(id);
    if (m === undefined) return false;
    const seg = m.seg;
    const rec = encodeResolution(id, kind);
    try {
      seg.ackFd ??= openSync(seg.ackPath, 'a');
      writeFully(seg.ackFd, rec, seg.ackBytes);
    } catch (err: unknown) {
      throw new JournalError('E_JOURNAL_WRITE', `cannot write to ${seg.ackPath}`, { cause: err });
    }
    seg.ackBytes += rec.length;
    seg.ackDirty = true;
    this.diskBytes += rec.length;
    this.forget(m);
    this.written();
    return true;
  }

  private forget(m: Meta): void {
    this.live.delete(m.id);
    this.liveBytes -= m.size;
    m.seg.live -= 1;
  }

  /** Deletes every fully resolved segment except the one being written. */
  private collect(): void {
    for (let i = this.segments.length - 2; i >= 0; i -= 1) {
      const s = this.segments[i];
      if (s !== undefined && s.live === 0 && !s.dirty && !s.ackDirty && s.syncing === 0) this.deleteSegment(i);
    }
  }

  private deleteSegment(index: number): void {
    const s = this.segments[index];
    if (s === undefined) return;
    this.segments.splice(index, 1);
    safeClose(s.fd);
    if (s.ackFd !== undefined) safeClose(s.ackFd);
    s.ackFd = undefined;
    // The segment before its ack file: a crash in between leaves an orphan ack file, removed on open.
    safeUnlink(s.path);
    safeUnlink(s.ackPath);
    this.diskBytes -= s.bytes + s.ackBytes;
  }

  private newSegment(): Segment {
    const last = this.segments.at(-1);
    const no = last === undefined ? 1 : last.no + 1;
    let seg: Segment;
    try {
      seg = createSegment(this.opts.dir, no);
    } catch (err: unknown) {
      throw new JournalError('E_JOURNAL_WRITE', `cannot create segment ${no} in ${this.opts.dir}`, { cause: err });
    }
    this.segments.push(seg);
    // A rolled segment that is fully resolved can go now.
    this.collect();
    return seg;
  }

  private enforceBounds(incoming: number): void {
    this.dropExpired();
    const maxRecords = this.opts.maxRecords;
    if (maxRecords !== undefined) {
      let n = 0;
      while (this.live.size >= maxRecords) {
        const oldest = this.live.keys().next();
        if (oldest.done === true) break;
        this.resolve(oldest.value, KIND_DROP);
        n += 1;
      }
      this.countDrops(n, 'count');
    }
    // Bytes: drop the oldest segment whole (it frees its space at once).
    while (this.diskBytes + incoming > this.opts.maxBytes && this.segments.length > 1) {
      const s = this.segments[0];
      if (s === undefined) break;
      let n = 0;
      for (const m of this.live.values()) {
        if (m.seg !== s) break;
        this.forget(m);
        n += 1;
      }
      // Live records of this segment not at the head (ids appended out of order) are dropped too.
      if (s.live > 0) {
        for (const m of [...this.live.values()]) {
          if (m.seg === s) {
            this.forget(m);
            n += 1;
          }
        }
      }
      this.deleteSegment(0);
      this.countDrops(n, 'bytes');
    }
  }

  private dropExpired(): number {
    const maxAge = this.opts.maxAgeMs;
    if (maxAge === undefined) return 0;
    const cutoff = this.now() - maxAge;
    let n = 0;
    for (const m of this.live.values()) {
      if (m.at >= cutoff) break;
      this.resolve(m.id, KIND_DROP);
      n += 1;
    }
    this.countDrops(n, 'age');
    return n;
  }

  private countDrops(n: number, reason: 'bytes' | 'age' | 'count'): void {
    if (n === 0) return;
    this.dropped += n;
    this.written(2);
    this.opts.onDrop?.(n, reason);
  }

  private recover(): void {
    const dir = this.opts.dir;
    this.dropped = this.droppedSaved = loadDroppedTotal(dir);
    const segNos = listSegments(dir);
    for (const no of segNos) {
      const r = recoverSegment(dir, no);
      this.recovery.truncatedBytes += r.truncatedBytes;
      this.segments.push(r.seg);
      this.diskBytes += r.seg.bytes + r.seg.ackBytes;
      for (const m of r.records) {
        this.recovery.records += 1;
        if (m.id > this.lastId) this.lastId = m.id;
        if (r.resolved.has(m.id) || this.live.has(m.id)) continue;
        this.live.set(m.id, m);
        this.liveBytes += m.size;
        r.seg.live += 1;
      }
    }
    this.recovery.segments = this.segments.length;
    this.recovery.live = this.live.size;
    this.collect();
    this.recovery.deletedSegments = segNos.length - this.segments.length;
  }
}
