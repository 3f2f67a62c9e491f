import { describe, expect, it } from 'vitest';
import { Slicer } from './slicer.ts';

/** A fake monotonic clock that each unit of work advances by `costMs`. */
function fakeWork() {
  let t = 0;
  const later: (() => void)[] = [];
  const done: number[] = [];
  const clock = (): number => t;
  function* job(units: number, costMs: number, tag: number): Generator<void> {
    for (let i = 0; i < units; i++) {
      t += costMs;
      done.push(tag);
      yield;
    }
  }
  return { clock, later, done, job, schedule: (fn: () => void) => later.push(fn) };
}

describe('Slicer', () => {
  it('runs small jobs to the end before enqueue returns', () => {
    const w = fakeWork();
    const s = new Slicer({ budgetMs: 5, clock: w.clock, schedule: w.schedule });
    s.enqueue(w.job(3, 1, 1));
    expect(w.done).toEqual([1, 1, 1]);
    expect(s.pending).toBe(0);
    expect(w.later).toHaveLength(0);
  });

  it('cuts a long job into slices of the budget and yields between them', () => {
    const w = fakeWork();
    const slices: number[] = [];
    const s = new Slicer({ budgetMs: 5, clock: w.clock, schedule: w.schedule, onSlice: (ms) => slices.push(ms) });
    s.enqueue(w.job(12, 1, 1));
    expect(w.done).toHaveLength(5); // 5 units of 1 ms, then it yields
    expect(w.later).toHaveLength(1);
    while (w.later.length > 0) w.later.shift()?.();
    expect(w.done).toHaveLength(12);
    expect(slices).toEqual([5, 5, 2]);
    expect(s.maxSliceMs).toBe(5);
    expect(s.slices).toBe(3);
  });

  it('keeps jobs in order across slices, work queued meanwhile runs after', () => {
    const w = fakeWork();
    const s = new Slicer({ budgetMs: 4, clock: w.clock, schedule: w.schedule });
    s.enqueue(w.job(6, 1, 1));
    s.enqueue(w.job(2, 1, 2)); // queued while the first is mid-way: no second scheduling
    expect(w.later).toHaveLength(1);
    while (w.later.length > 0) w.later.shift()?.();
    expect(w.done).toEqual([1, 1, 1, 1, 1, 1, 2, 2]);
  });

  it('a failing job is reported and dropped; idle() resolves; stop() drops what is queued', async () => {
    const errors: unknown[] = [];
    const s = new Slicer({ budgetMs: 1000, onError: (e) => errors.push(e) });
    s.enqueue(
      (function* (): Generator<void> {
        yield;
        throw new Error('boom');
      })(),
    );
    expect(errors).toHaveLength(1);
    await s.idle();
    const w = fakeWork();
    const t = new Slicer({ budgetMs: 2, clock: w.clock, schedule: w.schedule });
    t.enqueue(w.job(10, 1, 1));
    const idle = t.idle();
    t.stop();
    await idle;
    while (w.later.length > 0) w.later.shift()?.();
    expect(w.done).toHaveLength(2);
    t.enqueue(w.job(1, 1, 9));
    expect(w.done).toHaveLength(2); // stopped for good
  });
});
