import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.ts';
import { SinkError, type HubPoint, type Sink } from './sink.ts';
import { SpoolingSink } from './spool.ts';

const root = mkdtempSync(join(tmpdir(), 'spool-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class FlakySink implements Sink {
  up = false;
  stored: HubPoint[] = [];
  async write(points: readonly HubPoint[]): Promise<void> {
    if (!this.up) throw new SinkError('down', { retryable: true });
    this.stored.push(...points);
  }
}
const pts = (from: number, n: number): HubPoint[] => Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: { site: 's' }, fields: { v: from + i }, timestamp: from + i }));
const wait = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('SpoolingSink', () => {
  it('accepts writes while the store is down, survives a restart, drains when it is back', async () => {
    const dir = join(root, 'a');
    const target = new FlakySink();
    const opts = { dir, target, maxBytes: 64 * 1024 * 1024, logger: silentLogger(), retryMinMs: 20, retryMaxMs: 50 };
    const a = SpoolingSink.open(opts);
    await a.write(pts(0, 10));
    await a.write(pts(10, 10));
    expect(a.depth).toBe(2);
    await a.close();
    const b = SpoolingSink.open(opts);
    expect(b.depth).toBe(2);
    await b.write(pts(20, 5));
    target.up = true;
    await wait(() => b.depth === 0);
    expect(target.stored.map((p) => p.timestamp).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await b.write(pts(100, 1)); // straight through once it is back
    expect(b.depth).toBe(0);
    expect(target.stored.length).toBe(26);
    await b.close();
  });

  it('refused points are not spooled', async () => {
    const target: Sink = { write: async () => Promise.reject(new SinkError('bad', { retryable: false })) };
    const s = SpoolingSink.open({ dir: join(root, 'b'), target, maxBytes: 64 * 1024 * 1024, logger: silentLogger() });
    await expect(s.write(pts(0, 1))).rejects.toThrow('bad');
    expect(s.depth).toBe(0);
    await s.close();
  });

  it('drops the oldest past maxBytes and counts them', async () => {
    const target = new FlakySink();
    const s = SpoolingSink.open({ dir: join(root, 'c'), target, maxBytes: 2 * 1024 * 1024, segmentBytes: 64 * 1024, logger: silentLogger(), retryMinMs: 10_000 });
    for (let i = 0; i < 400; i += 1) await s.write(pts(i * 100, 100));
    expect(s.droppedTotal).toBeGreaterThan(0);
    expect(s.droppedTotal + s.depth).toBe(400);
    await s.close();
  });
});
