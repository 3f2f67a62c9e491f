import { describe, expect, it } from 'vitest';
import { SEQ_BLOCK, type Batch } from '../../protocol/index.ts';
import { DeliveryTable, MAX_SEQ_GAP, SeqRanges } from './delivery.ts';

const T = 1_763_900_000_000; // 2025-11-23, mid-day in Vietnam
const point = { m: 'host', t: T, fields: { cpu_pct: 1 } };

function batch(seq: number, extra: Partial<Batch> = {}, points = 2): Batch {
  return { seq, sentAt: T, points: Array.from({ length: points }, () => point), ...extra };
}

describe('SeqRanges', () => {
  it('counts distinct seqs, ignores duplicates, and counts holes as missing', () => {
    const r = new SeqRanges();
    for (const s of [5, 6, 7, 9, 7, 10, 8]) r.add(s);
    expect(r.received).toBe(6);
    expect(r.size).toBe(1);
    expect(r.expected()).toBe(6);
    r.add(20);
    expect(r.expected()).toBe(16); // 11..19 missing
  });

  it('does not count a restart jump to the next seq block, nor a new epoch', () => {
    const r = new SeqRanges();
    for (let s = 990; s < 995; s += 1) r.add(s);
    for (let s = SEQ_BLOCK; s < SEQ_BLOCK + 5; s += 1) r.add(s); // agent restarted: 995..999 were never used
    expect(r.expected()).toBe(10);
    r.add(SEQ_BLOCK + 5 + MAX_SEQ_GAP + 10); // a wiped data folder / simulator: new epoch
    expect(r.expected()).toBe(11);
    expect(r.received).toBe(11);
  });

  it('stays bounded when seqs arrive scattered', () => {
    const r = new SeqRanges();
    for (let s = 0; s < 1000; s += 2) r.add(s);
    expect(r.size).toBeLessThanOrEqual(64);
    expect(r.received).toBe(500);
    expect(r.expected()).toBe(999);
  });
});

describe('DeliveryTable', () => {
  it('tells live from late points, follows the backlog, and writes when a backlog starts or ends', () => {
    const d = new DeliveryTable({ intervalMs: 60_000 });
    const first = d.record('xa', 'pi-1', batch(1), T);
    expect(first).toEqual({ late_points: 0, live_points: 2, backlog_depth: 0, oldest_unsent_age_s: 0, expected_batches: 1, received_batches: 1 });
    expect(d.record('xa', 'pi-1', batch(2), T + 1000)).toBeUndefined(); // not due yet
    // reconnect after an outage: a live batch first (seq 100), then the replay from seq 3
    const live = d.record('xa', 'pi-1', batch(100, { backlog: { depth: 97, oldestT: T - 3_600_000 } }), T + 2000);
    expect(live).toMatchObject({ backlog_depth: 97, oldest_unsent_age_s: 3600, expected_batches: 100, received_batches: 3 });
    expect(d.view('xa', 'pi-1', T + 12_000)).toEqual({ backlog: 97, oldestUnsentAgeS: 3610, completenessPct: 3, lastLiveAt: T + 2000, lastLateAt: null });
    for (let s = 3; s < 100; s += 1) d.record('xa', 'pi-1', batch(s, { late: true, backlog: { depth: 100 - s, oldestT: T - 3_600_000 + s * 1000 } }), T + 3000 + s);
    // a duplicate delivery of a replayed batch counts once
    d.record('xa', 'pi-1', batch(50, { late: true, backlog: { depth: 1, oldestT: T } }), T + 4000);
    const end = d.record('xa', 'pi-1', batch(101), T + 5000);
    expect(end).toEqual({ late_points: 97 * 2, live_points: 4 * 2, backlog_depth: 0, oldest_unsent_age_s: 0, expected_batches: 101, received_batches: 101 });
    expect(d.view('xa', 'pi-1', T + 5000)).toEqual({ backlog: 0, oldestUnsentAgeS: 0, completenessPct: 100, lastLiveAt: T + 5000, lastLateAt: T + 4000 });
    expect(d.view('xa', 'pi-2', T)).toBeUndefined();
  });

  it('starts a new count at local midnight, with the hole from the day before', () => {
    const d = new DeliveryTable({ intervalMs: 0 });
    d.record('xa', 'pi-1', batch(10), T);
    const nextDay = T + 86_400_000;
    expect(d.record('xa', 'pi-1', batch(13), nextDay)).toMatchObject({ live_points: 2, expected_batches: 3, received_batches: 1 });
  });
});
