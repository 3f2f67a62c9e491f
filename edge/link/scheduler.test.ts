import { describe, expect, it } from 'vitest';
import { LaneScheduler, TokenBucket } from './scheduler.ts';

/** A fake monotonic clock. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/**
 * Drives the scheduler the way the link's pump does, with an outbox of seqs and PUBACKs after
 * `ackMs`: live first, then replay within its grant; returns what was sent when.
 */
function simulate(opts: { backlog: number; rate: number; maxInflight: number; ackMs: number; liveEveryMs: number; untilMs: number }) {
  const c = clock();
  const s = new LaneScheduler({ maxInflight: opts.maxInflight, replayBatchesPerS: opts.rate, now: c.now });
  const pending = new Set<number>(Array.from({ length: opts.backlog }, (_, i) => i + 1));
  const inflight = new Map<number, number>(); // seq → ack due
  let lastSeq = opts.backlog;
  s.begin(lastSeq, pending.size);
  const sent: { seq: number; at: number; late: boolean; lane: 'live' | 'replay' }[] = [];
  const liveLatency: number[] = [];
  const appendedAt = new Map<number, number>();
  let maxSeenInflight = 0;
  let nextLive = opts.liveEveryMs;
  for (let t = 0; t <= opts.untilMs; t += 1) {
    if (t > 0) c.advance(1);
    for (const [seq, due] of inflight) {
      if (due > t) continue;
      inflight.delete(seq);
      pending.delete(seq);
      s.settled(seq, true);
      const at = appendedAt.get(seq);
      if (at !== undefined) liveLatency.push(t - at);
    }
    if (t === nextLive) {
      lastSeq += 1;
      pending.add(lastSeq);
      appendedAt.set(lastSeq, t);
      nextLive += opts.liveEveryMs;
    }
    const free = [...pending].filter((q) => !inflight.has(q)).sort((a, b) => a - b);
    const live = free.filter((q) => q >= s.liveFrom).slice(-s.liveRoom());
    for (const q of live) {
      sent.push({ seq: q, at: t, late: s.sent(q, 'live'), lane: 'live' });
      inflight.set(q, t + opts.ackMs);
    }
    const grant = s.replayGrant();
    const old = free.filter((q) => !live.includes(q)).slice(0, grant.count);
    for (const q of old) {
      sent.push({ seq: q, at: t, late: s.sent(q, 'replay'), lane: 'replay' });
      inflight.set(q, t + opts.ackMs);
    }
    maxSeenInflight = Math.max(maxSeenInflight, s.inflightCount);
    if (s.backlog(pending.size) === 0 && t > 0 && pending.size === 0) break;
  }
  return { s, sent, liveLatency, maxSeenInflight, pending };
}

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to its burst, and tells when the next token is there', () => {
    const c = clock();
    const b = new TokenBucket(10, 5, c.now);
    expect(b.available()).toBe(5);
    for (let i = 0; i < 5; i += 1) b.take();
    expect(b.available()).toBe(0);
    expect(b.msToNext()).toBe(100);
    c.advance(50);
    expect(b.available()).toBe(0);
    expect(b.msToNext()).toBe(50);
    c.advance(50);
    expect(b.available()).toBe(1);
    c.advance(10_000);
    expect(b.available()).toBe(5);
  });
});

describe('LaneScheduler', () => {
  it('keeps a quarter of maxInflight for the live lane and never exceeds maxInflight', () => {
    const c = clock();
    const s = new LaneScheduler({ maxInflight: 8, replayBatchesPerS: 1000, now: c.now });
    expect(s.maxReplayInflight).toBe(6);
    s.begin(100, 100);
    expect(s.replayGrant()).toEqual({ count: 6, starved: false });
    for (let q = 1; q <= 6; q += 1) expect(s.sent(q, 'replay')).toBe(true);
    // replay slots taken: only the live lane has room, for the two kept slots
    expect(s.replayGrant()).toEqual({ count: 0, starved: false });
    expect(s.liveRoom()).toBe(2);
    expect(s.sent(101, 'live')).toBe(false);
    expect(s.sent(102, 'live')).toBe(false);
    expect(s.liveRoom()).toBe(0);
    s.settled(1, true);
    expect(s.replayGrant().count).toBe(1);
    expect(new LaneScheduler({ maxInflight: 1, replayBatchesPerS: 1, now: c.now }).maxReplayInflight).toBe(1);
  });

  it('replays a burst of one second of tokens, then at its rate; a starved lane is woken when the next token is due', () => {
    const c = clock();
    const s = new LaneScheduler({ maxInflight: 100, replayBatchesPerS: 20, now: c.now });
    s.begin(1000, 1000);
    const g = s.replayGrant();
    expect(g).toEqual({ count: 20, starved: false });
    for (let q = 1; q <= g.count; q += 1) s.sent(q, 'replay');
    for (let q = 1; q <= g.count; q += 1) s.settled(q, true);
    expect(s.replayGrant()).toEqual({ count: 0, starved: true });
    expect(s.replayWakeInMs(1000 - 20)).toBe(50);
    // no wake-up when every batch left is already in flight
    expect(s.replayWakeInMs(0)).toBeUndefined();
    c.advance(49);
    expect(s.replayGrant()).toEqual({ count: 0, starved: true });
    c.advance(1);
    expect(s.replayGrant()).toEqual({ count: 1, starved: false });
  });

  it('counts the backlog down on the PUBACKs of late batches only, bounded by the outbox depth', () => {
    const c = clock();
    const s = new LaneScheduler({ maxInflight: 8, replayBatchesPerS: 100, now: c.now });
    s.begin(10, 10);
    expect(s.liveFrom).toBe(11);
    expect(s.backlog(10)).toBe(10);
    s.sent(1, 'replay');
    s.sent(11, 'live');
    s.settled(11, true);
    expect(s.backlog(10)).toBe(10);
    s.settled(1, false); // a failed publish is not an ack
    expect(s.backlog(10)).toBe(10);
    s.sent(1, 'replay');
    s.settled(1, true);
    expect(s.backlog(10)).toBe(9);
    // batches dropped from a full outbox leave the backlog too
    expect(s.backlog(4)).toBe(4);
    // a late batch taken by the live lane (none newer) is still late
    expect(s.sent(2, 'live')).toBe(true);
  });

  it('forgets what was in flight when the connection ends, and the next connection draws a new live line', () => {
    const c = clock();
    const s = new LaneScheduler({ maxInflight: 4, replayBatchesPerS: 10, now: c.now });
    s.begin(5, 5);
    for (let q = 1; q <= 3; q += 1) s.sent(q, 'replay');
    expect(s.inflightCount).toBe(3);
    s.end();
    expect(s.inflightCount).toBe(0);
    expect(s.liveRoom()).toBe(4);
    s.begin(9, 7);
    expect(s.isLate(9)).toBe(true);
    expect(s.isLate(10)).toBe(false);
    expect(s.backlog(7)).toBe(7);
  });

  it('refuses a replay rate that is not positive', () => {
    expect(() => new LaneScheduler({ maxInflight: 8, replayBatchesPerS: 0, now: () => 0 })).toThrow(RangeError);
  });

  it('after an outage: live batches go at once while 3,000 backlog batches are replayed in order at the rate (fake clock)', () => {
    // PUBACKs after 5 ms: 6 replay slots could carry 1,200 batches/s, so the bucket alone sets the pace.
    // The same figures edge/link/link.test.ts checks over TCP, here exact and without a wall clock.
    const BACKLOG = 3000;
    const RATE = 500;
    const { s, sent, liveLatency, maxSeenInflight, pending } = simulate({ backlog: BACKLOG, rate: RATE, maxInflight: 8, ackMs: 5, liveEveryMs: 50, untilMs: 20_000 });
    expect(pending.size).toBe(0);
    const late = sent.filter((x) => x.late);
    expect(late.map((x) => x.seq)).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
    expect(late.every((x) => x.lane === 'replay')).toBe(true);
    expect(sent.filter((x) => !x.late).every((x) => x.seq > BACKLOG && x.lane === 'live')).toBe(true);
    // a burst of RATE, then RATE a second: the last late batch goes out after (BACKLOG − RATE) / RATE s
    const lastLateAt = late.at(-1)?.at ?? 0;
    expect(lastLateAt).toBeGreaterThanOrEqual(((BACKLOG - RATE) / RATE) * 1000);
    expect(lastLateAt).toBeLessThan(((BACKLOG - RATE) / RATE) * 1000 + 100);
    // live batches never waited behind the backlog: sent as they were appended, acked one round trip later
    expect(liveLatency.length).toBeGreaterThan(90);
    expect(Math.max(...liveLatency)).toBe(5);
    expect(maxSeenInflight).toBeLessThanOrEqual(8);
    expect(s.backlog(0)).toBe(0);
  });
});
