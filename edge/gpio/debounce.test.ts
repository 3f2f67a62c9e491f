import { describe, expect, it } from 'vitest';
import { Debouncer } from './debounce.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Debouncer', () => {
  it('a level counts once it held `ms`; bounces and short glitches do not', async () => {
    const out: [number, number][] = [];
    const d = new Debouncer(0, 40, (v, at) => out.push([v, at]));
    const t0 = Date.now();
    d.input(1, t0);
    d.input(0, t0 + 1);
    d.input(1, t0 + 3);
    await sleep(80);
    expect(out).toEqual([[1, t0 + 3]]);
    d.input(0);
    await sleep(5);
    d.input(1); // a 5 ms glitch
    await sleep(80);
    expect(out).toHaveLength(1);
    expect(d.value).toBe(1);
    expect(d.rawEdges).toBe(5);
    d.stop();
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
