// Per-agent delivery bookkeeping: live vs late points, the agent's backlog, and expected vs received batches per day.
//
// Completeness from seqs: an agent's seq rises by one per batch, so the seqs received in a day, as a
// few sorted ranges, tell what is missing: the holes between the ranges. Two kinds of hole are not
// missing batches: a restart (the agent's seq store continues at the next multiple of SEQ_BLOCK, so
// a hole shorter than a block that ends on a multiple of it is skipped) and a jump larger than
// MAX_SEQ_GAP (a wiped data folder or a simulator: a new seq epoch; batches the agent itself dropped
// are reported by its dropped_total). A hole that a replay fills later stops counting once filled,
// so during a replay completeness rises to 100 %.
import { localDayNumber } from '../../common/local-day.ts';
import { SEQ_BLOCK, type Batch } from '../../protocol/index.ts';

/** A hole in the seqs larger than this starts a new epoch instead of counting as missing. */
export const MAX_SEQ_GAP = 1_000_000;
/** Ranges kept per agent and day; past it the two closest ranges are merged (bounded memory). */
const MAX_RANGES = 64;

export interface DeliveryFields {
  late_points: number;
  live_points: number;
  backlog_depth: number;
  oldest_unsent_age_s: number;
  expected_batches: number;
  received_batches: number;
}

export interface DeliveryView {
  /** Backlog batches the agent still has to replay (0 when it sends live only). */
  backlog: number;
  /** Age of the oldest batch the agent has not delivered yet, s (0 without a backlog). */
  oldestUnsentAgeS: number;
  /** received / expected batches today, % (100 with nothing expected). */
  completenessPct: number;
  /** Hub time of the last live batch, and of the last replayed (`late`) one; null: none since the hub started. */
  lastLiveAt: number | null;
  lastLateAt: number | null;
}

export interface DeliveryPolicy {
  /** A `delivery` point is written at most this often per agent, except when a backlog starts or ends (at once). */
  intervalMs: number;
}

/** Disjoint sorted seq ranges [start, end] with the count of distinct seqs added. */
export class SeqRanges {
  private ranges: [number, number][] = [];
  /** Distinct seqs added (a merge of close ranges keeps the count exact). */
  received = 0;

  /** Adds a seq; false when it was already there (a duplicate delivery). */
  add(seq: number): boolean {
    const r = this.ranges;
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = r[mid];
      if (m !== undefined && m[1] < seq) lo = mid + 1;
      else hi = mid;
    }
    const at = r[lo];
    if (at !== undefined && at[0] <= seq && seq <= at[1]) return false;
    const prev = r[lo - 1];
    const joinsPrev = prev !== undefined && prev[1] === seq - 1;
    const joinsNext = at !== undefined && at[0] === seq + 1;
    if (joinsPrev && joinsNext) {
      prev[1] = at[1];
      r.splice(lo, 1);
    } else if (joinsPrev) prev[1] = seq;
    else if (joinsNext) at[0] = seq;
    else r.splice(lo, 0, [seq, seq]);
    this.received += 1;
    if (r.length > MAX_RANGES) this.mergeClosest();
    return true;
  }

  get max(): number | undefined {
    return this.ranges.at(-1)?.[1];
  }

  /** Batches that should have arrived: the ranges plus the holes that count as missing. `anchor`: the last seq of the day before. */
  expected(anchor?: number): number {
    let total = 0;
    let prevEnd = anchor;
    for (const [start, end] of this.ranges) {
      total += end - start + 1;
      if (prevEnd !== undefined && start > prevEnd + 1) total += countedGap(prevEnd, start);
      prevEnd = prevEnd === undefined ? end : Math.max(prevEnd, end);
    }
    return total;
  }

  get size(): number {
    return this.ranges.length;
  }

  private mergeClosest(): void {
    let best = 1;
    let bestGap = Infinity;
    for (let i = 1; i < this.ranges.length; i += 1) {
      const a = this.ranges[i - 1];
      const b = this.ranges[i];
      if (a === undefined || b === undefined) continue;
      const gap = b[0] - a[1];
      if (gap < bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    const a = this.ranges[best - 1];
    const b = this.ranges[best];
    if (a === undefined || b === undefined) return;
    // The merged hole is no longer told apart from received seqs: expected keeps counting it, and
    // `received` stays the exact number of distinct seqs seen.
    a[1] = b[1];
    this.ranges.splice(best, 1);
  }
}

/** Missing batches in the hole between prevEnd and start (exclusive), by the rules above. */
function countedGap(prevEnd: number, start: number): number {
  const gap = start - prevEnd - 1;
  if (gap <= 0) return 0;
  if (gap > MAX_SEQ_GAP) return 0;
  if (start % SEQ_BLOCK === 0 && gap < SEQ_BLOCK) return 0;
  return gap;
}

interface AgentDelivery {
  day: number;
  seqs: SeqRanges;
  /** Highest seq of the previous day, the lower edge of today's first hole. */
  anchor: number | undefined;
  latePoints: number;
  livePoints: number;
  backlogDepth: number;
  /** Age of the oldest unsent batch when last reported (agent clock, sentAt − oldestT) and the hub time of that report. */
  backlogAgeMs: number;
  reportedAt: number;
  writtenAt: number | undefined;
  writtenBacklog: boolean;
  lastLiveAt: number | null;
  lastLateAt: number | null;
}

/** Delivery state of every agent; `record` tells when a `delivery` point is due. */
export class DeliveryTable {
  private readonly agents = new Map<string, AgentDelivery>();

  constructor(private readonly policy: DeliveryPolicy = { intervalMs: 60_000 }) {}

  private entry(key: string, now: number): AgentDelivery {
    const day = localDayNumber(now);
    let d = this.agents.get(key);
    if (d === undefined) {
      d = { day, seqs: new SeqRanges(), anchor: undefined, latePoints: 0, livePoints: 0, backlogDepth: 0, backlogAgeMs: 0, reportedAt: now, writtenAt: undefined, writtenBacklog: false, lastLiveAt: null, lastLateAt: null };
      this.agents.set(key, d);
    } else if (d.day !== day) {
      d.anchor = d.seqs.max ?? d.anchor;
      d.day = day;
      d.seqs = new SeqRanges();
      d.latePoints = 0;
      d.livePoints = 0;
    }
    return d;
  }

  /** Records an accepted batch; returns the fields of a `delivery` point when one is due now. */
  record(site: string, agent: string, batch: Batch, receivedAt: number): DeliveryFields | undefined {
    const d = this.entry(`${site}/${agent}`, receivedAt);
    const fresh = d.seqs.add(batch.seq);
    if (batch.late === true) d.lastLateAt = receivedAt;
    else d.lastLiveAt = receivedAt;
    if (fresh) {
      if (batch.late === true) d.latePoints += batch.points.length;
      else d.livePoints += batch.points.length;
    }
    if (batch.backlog !== undefined) {
      d.backlogDepth = batch.backlog.depth;
      d.backlogAgeMs = Math.max(0, batch.sentAt - batch.backlog.oldestT);
      d.reportedAt = receivedAt;
    } else if (batch.late !== true) {
      // A live batch without a backlog report: the agent has nothing older to send.
      d.backlogDepth = 0;
      d.backlogAgeMs = 0;
      d.reportedAt = receivedAt;
    }
    const backlog = d.backlogDepth > 0;
    const due = d.writtenAt === undefined || receivedAt - d.writtenAt >= this.policy.intervalMs || backlog !== d.writtenBacklog;
    if (!due) return undefined;
    d.writtenAt = receivedAt;
    d.writtenBacklog = backlog;
    return this.fields(d, receivedAt);
  }

  view(site: string, agent: string, now: number): DeliveryView | undefined {
    const d = this.agents.get(`${site}/${agent}`);
    if (d === undefined) return undefined;
    const f = this.fields(d, now);
    return {
      backlog: f.backlog_depth,
      oldestUnsentAgeS: f.oldest_unsent_age_s,
      completenessPct: f.expected_batches === 0 ? 100 : Math.round((1000 * f.received_batches) / f.expected_batches) / 10,
      lastLiveAt: d.lastLiveAt,
      lastLateAt: d.lastLateAt,
    };
  }

  private fields(d: AgentDelivery, now: number): DeliveryFields {
    const expected = d.seqs.expected(d.anchor);
    return {
      late_points: d.latePoints,
      live_points: d.livePoints,
      backlog_depth: d.backlogDepth,
      oldest_unsent_age_s: d.backlogDepth > 0 ? Math.round((d.backlogAgeMs + Math.max(0, now - d.reportedAt)) / 1000) : 0,
      expected_batches: expected,
      received_batches: Math.min(d.seqs.received, expected),
    };
  }
}
