import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskOutbox } from './disk-outbox.ts';
import { OutboxLeases } from './link/leases.ts';
import { outboxContract } from '../testkit/outbox-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'disk-outbox-'));
let n = 0;
const freshDir = (): string => join(root, String((n += 1)));
afterAll(() => rmSync(root, { recursive: true, force: true }));

outboxContract('DiskOutbox', async (maxBatches) => DiskOutbox.open({ dir: freshDir(), maxBatches, maxBytes: 16 * 1024 * 1024, fsyncIntervalMs: 50, fsyncEveryRecords: 64 }));

describe('DiskOutbox on restart', () => {
  it('keeps unacked batches (channel included) and forgets acked ones, in order', async () => {
    const dir = freshDir();
    const a = DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, fsyncIntervalMs: 50, fsyncEveryRecords: 64 });
    for (let s = 10; s < 20; s += 1) await a.append({ seq: s, payload: `[${s}]`, points: s, ...(s % 3 === 0 ? { channel: 'event' as const } : {}) });
    const leased = await new OutboxLeases(a).peek(4);
    await a.ack(12);
    await a.ack(10);
    expect(leased.length).toBe(4);
    await a.close();
    const b = DiskOutbox.open({ dir, maxBytes: 16 * 1024 * 1024, fsyncIntervalMs: 50, fsyncEveryRecords: 64 });
    const leases = new OutboxLeases(b);
    expect(leases.inflight).toBe(0);
    const all = await leases.peek(100);
    expect(all.map((e) => e.seq)).toEqual([11, 13, 14, 15, 16, 17, 18, 19]);
    expect(all.find((e) => e.seq === 15)).toEqual({ seq: 15, payload: '[15]', points: 15, channel: 'event' });
    expect(all.find((e) => e.seq === 11)).toEqual({ seq: 11, payload: '[11]', points: 11 });
    await b.close();
  });

  it('counts drops past maxBytes and reports them after a restart', async () => {
    const dir = freshDir();
    const opts = { dir, maxBytes: 256 * 1024, segmentBytes: 16 * 1024, fsyncIntervalMs: 50, fsyncEveryRecords: 64 };
    const a = DiskOutbox.open(opts);
    const payload = JSON.stringify('x'.repeat(1000));
    for (let s = 1; s <= 1000; s += 1) await a.append({ seq: s, payload, points: 1 });
    expect(a.droppedTotal).toBeGreaterThan(0);
    expect(a.droppedTotal + a.depth).toBe(1000);
    const first = (await new OutboxLeases(a).peek(1))[0]?.seq;
    expect(first).toBe(a.droppedTotal + 1);
    const dropped = a.droppedTotal;
    await a.close();
    const b = DiskOutbox.open(opts);
    expect(b.droppedTotal).toBe(dropped);
    expect(b.depth).toBe(1000 - dropped);
    await b.close();
  });
});
