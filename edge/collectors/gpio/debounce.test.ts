import { describe, expect, it, vi } from 'vitest';
import { Debouncer } from './debounce.ts';

describe('Debouncer', () => {
  it('a level counts once it held `ms`; bounces and short glitches do not', () => {
    vi.useFakeTimers();
    try {
      const out: [number, number][] = [];
      const d = new Debouncer(0, 40, (v, at) => out.push([v, at]));
      const t0 = Date.now();
      d.input(1);
      vi.advanceTimersByTime(1);
      d.input(0);
      vi.advanceTimersByTime(2);
      d.input(1);
      vi.advanceTimersByTime(39);
      expect(out).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(out).toEqual([[1, t0 + 3]]);
      d.input(0);
      vi.advanceTimersByTime(5);
      d.input(1); // a 5 ms glitch
      vi.advanceTimersByTime(100);
      expect(out).toHaveLength(1);
      expect(d.value).toBe(1);
      expect(d.rawEdges).toBe(5);
      d.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('edges that arrive bunched (late, in one read) count by their own times', () => {
    const out: [number, number][] = [];
    const d = new Debouncer(1, 50, (v, at) => out.push([v, at]));
    // Two presses of a button (active: 0) 150 ms apart, each held 100 ms, all read at once a second later.
    const t = Date.now() - 1000;
    d.input(0, t);
    d.input(1, t + 100);
    d.input(0, t + 250);
    d.input(1, t + 252); // a bounce of 2 ms inside the second press
    d.input(0, t + 254);
    d.input(1, t + 350);
    expect(out).toEqual([
      [0, t],
      [1, t + 100],
      [0, t + 254],
    ]);
    d.stop();
  });
});
