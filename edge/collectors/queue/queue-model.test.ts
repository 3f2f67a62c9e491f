import { describe, expect, it } from 'vitest';
import { percentile, QueueModel } from './queue-model.ts';

// Monday 2025-01-06 08:00 in Hanoi (UTC+7).
const T0 = Date.UTC(2025, 0, 6, 1, 0);

function fakeClock(start = T0): { now: () => number; advance: (s: number) => void } {
  let t = start;
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

describe('QueueModel', () => {
  it('tracks issued, called and served tickets with wait and service times', () => {
    const clock = fakeClock();
    const q = new QueueModel({ now: clock.now, counters: ['c1', 'c2'] });
    q.apply({ type: 'issued', counter: 'c1', number: 101 });
    clock.advance(10);
    q.apply({ type: 'issued', counter: 'c1', number: 102 });
    clock.advance(50);
    const called = q.apply({ type: 'called', counter: 'c1' });
    expect(called).toEqual({ ok: true, applied: [{ type: 'called', counter: 'c1', number: 101, at: clock.now(), waitS: 60 }] });
    clock.advance(120);
    const served = q.apply({ type: 'served', counter: 'c1' });
    expect(served).toMatchObject({ ok: true, applied: [{ type: 'served', number: 101, serviceS: 120 }] });
    clock.advance(30);
    const snap = q.snapshot();
    expect(snap.counters.get('c1')).toEqual({
      waiting: 1,
      issued_total: 2,
      served_total: 1,
      skipped_total: 0,
      longest_wait_s: 200,
      current_number: 101,
      avg_wait_s: 60,
      p90_wait_s: 60,
      avg_service_s: 120,
      p90_service_s: 120,
    });
    expect(snap.counters.get('c2')).toEqual({ waiting: 0, issued_total: 0, served_total: 0, skipped_total: 0, longest_wait_s: 0 });
    expect(snap.office).toMatchObject({ waiting: 1, issued_total: 2, served_total: 1, avg_wait_s: 60 });
    // an office-wide display shows the number called last at any counter
    expect(snap.office.current_number).toBe(101);
    q.apply({ type: 'issued', counter: 'c2', number: 201 });
    q.apply({ type: 'called', counter: 'c2' });
    expect(q.snapshot().office.current_number).toBe(201);
    q.apply({ type: 'called', counter: 'c1' });
    expect(q.snapshot().office.current_number).toBe(102);
  });

  it('call-next serves the ticket still in service (button semantics)', () => {
    const clock = fakeClock();
    const q = new QueueModel({ now: clock.now });
    q.apply({ type: 'issued', counter: 'c1', number: 1 });
    q.apply({ type: 'issued', counter: 'c1', number: 2 });
    q.apply({ type: 'called', counter: 'c1' });
    clock.advance(90);
    const r = q.apply({ type: 'called', counter: 'c1' });
    expect(r.ok && r.applied.map((e) => [e.type, e.number, e.serviceS ?? e.waitS])).toEqual([
      ['served', 1, 90],
      ['called', 2, 90],
    ]);
    expect(q.snapshot().counters.get('c1')).toMatchObject({ waiting: 0, served_total: 1, current_number: 2 });
  });

  it('skips a no-show and a ticket that left the queue', () => {
    const q = new QueueModel({ now: fakeClock().now });
    for (const n of [1, 2, 3]) q.apply({ type: 'issued', counter: 'c1', number: n });
    q.apply({ type: 'called', counter: 'c1' });
    expect(q.apply({ type: 'skipped', counter: 'c1' })).toMatchObject({ ok: true, applied: [{ type: 'skipped', number: 1 }] });
    q.apply({ type: 'skipped', counter: 'c1', number: 3 });
    expect(q.snapshot().counters.get('c1')).toMatchObject({ waiting: 1, skipped_total: 2, served_total: 0 });
  });

  it('refuses what it cannot apply, with a code', () => {
    const q = new QueueModel({ now: fakeClock().now });
    expect(q.apply({ type: 'called', counter: 'c1' })).toMatchObject({ ok: false, code: 'E_QUEUE_EMPTY' });
    expect(q.apply({ type: 'served', counter: 'c1' })).toMatchObject({ ok: false, code: 'E_NOTHING_CALLED' });
    expect(q.apply({ type: 'issued', counter: 'c1' })).toMatchObject({ ok: false, code: 'E_NUMBER_REQUIRED' });
  });

  it('resets at local midnight', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 6, 16, 59)); // 23:59 Hanoi
    const q = new QueueModel({ now: clock.now });
    q.apply({ type: 'issued', counter: 'c1', number: 1 });
    clock.advance(120);
    expect(q.snapshot().counters.get('c1')).toMatchObject({ waiting: 0, issued_total: 0 });
  });

  it('bounds the waiting list and counts what it drops', () => {
    const q = new QueueModel({ now: fakeClock().now, maxWaiting: 2 });
    for (const n of [1, 2, 3]) q.apply({ type: 'issued', counter: 'c1', number: n });
    expect(q.droppedTotal).toBe(1);
    expect(q.apply({ type: 'called', counter: 'c1' })).toMatchObject({ ok: true, applied: [{ number: 2 }] });
  });

  it('p90 is the nearest rank', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([5], 90)).toBe(5);
  });
});
