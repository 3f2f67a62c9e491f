// The contract suite every Outbox implementation must pass (memory now, the on-disk log later).
import { describe, expect, it } from 'vitest';
import type { Outbox, OutboxEntry } from './outbox.ts';

function entry(seq: number): OutboxEntry {
  return { seq, payload: JSON.stringify([{ m: 'agent_report', t: 1_700_000_000_000 + seq, fields: { uptime_s: seq } }]), points: 1 };
}

export function outboxContract(name: string, create: (maxBatches: number) => Promise<Outbox>): void {
  describe(`Outbox contract: ${name}`, () => {
    it('peeks the oldest entries in order and leases them', async () => {
      const box = await create(100);
      for (let s = 1; s <= 5; s += 1) await box.append(entry(s));
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([1, 2]);
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([3, 4]);
      expect(box.inflight).toBe(4);
      expect(box.depth).toBe(5);
      await box.close();
    });

    it('removes only acked entries; release returns leases in order', async () => {
      const box = await create(100);
      for (let s = 1; s <= 4; s += 1) await box.append(entry(s));
      await box.peek(3);
      await box.ack(2);
      expect(box.depth).toBe(3);
      box.release();
      expect(box.inflight).toBe(0);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([1, 3, 4]);
      box.release([3]);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([3]);
      await box.ack(99);
      expect(box.depth).toBe(3);
      await box.close();
    });

    it('keeps the payload intact', async () => {
      const box = await create(10);
      const e = entry(7);
      await box.append(e);
      const [got] = await box.peek(1);
      expect(got).toEqual(e);
      await box.close();
    });

    it('peekNewest leases the newest free entries at or above minSeq, in seq order, beside peek', async () => {
      const box = await create(10_000);
      expect(box.lastSeq).toBe(-1);
      expect(box.oldestAppendedAt).toBeUndefined();
      for (let s = 1; s <= 3000; s += 1) await box.append(entry(s));
      expect(box.lastSeq).toBe(3000);
      expect(typeof box.oldestAppendedAt).toBe('number');
      expect((await box.peekNewest(3, 2990)).map((e) => e.seq)).toEqual([2998, 2999, 3000]);
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([1, 2]);
      // leased entries are skipped; minSeq bounds the lane
      expect((await box.peekNewest(20, 2990)).map((e) => e.seq)).toEqual([2990, 2991, 2992, 2993, 2994, 2995, 2996, 2997]);
      expect(await box.peekNewest(5, 2990)).toEqual([]);
      await box.ack(3000);
      await box.ack(2999);
      expect(box.lastSeq).toBe(3000);
      await box.append(entry(3001));
      expect((await box.peekNewest(5, 2990)).map((e) => e.seq)).toEqual([3001]);
      box.release([2998]);
      expect((await box.peekNewest(5)).map((e) => e.seq)).toEqual([2986, 2987, 2988, 2989, 2998]);
      expect(box.inflight).toBe(2 + 8 + 1 + 5);
      await box.close();
    });

    it('peekNewest never returns acked or dropped entries', async () => {
      const box = await create(5);
      for (let s = 1; s <= 8; s += 1) await box.append(entry(s));
      await box.ack(8);
      await box.ack(6);
      expect((await box.peekNewest(10)).map((e) => e.seq)).toEqual([4, 5, 7]);
      await box.close();
    });

    it('drops the oldest when full and counts every drop', async () => {
      const box = await create(3);
      for (let s = 1; s <= 5; s += 1) await box.append(entry(s));
      expect(box.depth).toBe(3);
      expect(box.droppedTotal).toBe(2);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([3, 4, 5]);
      // an in-flight oldest entry is dropped too, and its late ack is harmless
      await box.append(entry(6));
      expect(box.droppedTotal).toBe(3);
      await box.ack(3);
      expect(box.depth).toBe(3);
      expect(box.inflight).toBe(2);
      await box.close();
    });
  });
}
