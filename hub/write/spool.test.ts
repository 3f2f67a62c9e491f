import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
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

  it('refuses a batch past maxBytes (retryably, before the ack) instead of evicting acknowledged ones, and counts it', async () => {
    const target = new FlakySink();
    const s = SpoolingSink.open({ dir: join(root, 'c'), target, maxBytes: 2 * 1024 * 1024, segmentBytes: 64 * 1024, logger: silentLogger(), retryMinMs: 10_000 });
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 400; i += 1) {
      try {
        await s.write(pts(i * 100, 100));
        accepted += 1;
      } catch (err: unknown) {
        expect(err).toBeInstanceOf(SinkError);
        expect((err as SinkError).retryable).toBe(true);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(s.refusedFull).toBe(refused);
    expect(s.droppedTotal).toBe(0);
    expect(s.depth).toBe(accepted);
    expect(s.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    await s.close();
  });

  it('keeps the bytes of each agent in the spool (its share) and releases them as they drain', async () => {
    const target = new FlakySink();
    const s = SpoolingSink.open({ dir: join(root, 'd'), target, maxBytes: 8 * 1024 * 1024, logger: silentLogger(), retryMinMs: 10 });
    const of = (agent: string, n: number) => pts(0, n).map((p) => ({ ...p, tags: { ...p.tags, site: 'xa-a', agent } }));
    await s.write(of('pi-1', 100));
    await s.write(of('pi-2', 10));
    expect(s.agentBytes('xa-a/pi-1')).toBeGreaterThan(5 * s.agentBytes('xa-a/pi-2'));
    expect(s.agentBytes('xa-a/pi-2')).toBeGreaterThan(0);
    target.up = true;
    for (let i = 0; i < 200 && s.depth > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.depth).toBe(0);
    expect(s.agentBytes('xa-a/pi-1')).toBe(0);
    await s.close();
  });
});
