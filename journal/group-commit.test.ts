import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('GroupCommit', () => {
  it('flushes once for many writes within the interval, and at once at everyWrites', async () => {
    let flushes = 0;
    const g = new GroupCommit({ intervalMs: 30, everyWrites: 5, flush: async () => void (flushes += 1) });
    g.written();
    g.written();
    expect(g.pending).toBe(2);
    await tick(80);
    expect(flushes).toBe(1);
    expect(g.pending).toBe(0);
    for (let i = 0; i < 5; i += 1) g.written();
    await tick(0);
    expect(flushes).toBe(2);
    g.stop();
  });

  it('serves a commit asked for during a flush with one more flush after it', async () => {
    let flushes = 0;
    let release: () => void = () => undefined;
    const g = new GroupCommit({ intervalMs: 1000, everyWrites: 100, flush: () => new Promise<void>((r) => { flushes += 1; release = r; }) });
    const first = g.commit();
    g.written();
    const second = g.commit();
    release();
    await tick(0);
    expect(flushes).toBe(2);
    release();
    await Promise.all([first, second]);
    expect(flushes).toBe(2);
    g.stop();
    await g.commit();
    expect(flushes).toBe(2);
  });
});
