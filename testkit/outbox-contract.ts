// The contract suite every Outbox store must pass (memory and the on-disk log), alone and under the
// link's leases (edge/link/leases.ts), which is how both lanes of the link use it.
import { describe, expect, it } from 'vitest';
import { OutboxLeases } from '../edge/link/leases.ts';
import type { Outbox, OutboxEntry } from '../edge/outbox.ts';

function entry(seq: number): OutboxEntry {
  return { seq, payload: JSON.stringify([{ m: 'agent_report', t: 1_700_000_000_000 + seq, fields: { uptime_s: seq } }]), points: 1 };
}

function take(seqs: Iterable<number>, n: number): number[] {
  const out: number[] = [];
  for (const s of seqs) {
    if (out.length >= n) break;
    out.push(s);
  }
  return out;
}

export function outboxContract(name: string, create: (maxBatches: number) => Promise<Outbox>): void {
  describe(`Outbox contract: ${name}`, () => {
    it('stores entries in seq order, walks them from either end, reads and removes them', async () => {
      const store = await create(100);
      expect([...store.oldest()]).toEqual([]);
      expect([...store.newest()]).toEqual([]);
      for (let s = 1; s <= 5; s += 1) await store.append(entry(s));
      expect([...store.oldest()]).toEqual([1, 2, 3, 4, 5]);
      expect([...store.newest()]).toEqual([5, 4, 3, 2, 1]);
      expect(take(store.newest(), 2)).toEqual([5, 4]);
      expect(await store.get(3)).toEqual(entry(3));
      expect(store.has(3)).toBe(true);
      await store.ack(3);
      await store.ack(5);
      await store.ack(3);
      expect(store.has(3)).toBe(false);
      expect(await store.get(3)).toBeUndefined();
      expect([...store.oldest()]).toEqual([1, 2, 4]);
      expect([...store.newest()]).toEqual([4, 2, 1]);
      expect(store.depth).toBe(3);
      expect(store.lastSeq).toBe(5);
      await store.close();
    });

    it('peeks the oldest entries in order and leases them', async () => {
      const store = await create(100);
      const box = new OutboxLeases(store);
      for (let s = 1; s <= 5; s += 1) await store.append(entry(s));
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([1, 2]);
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([3, 4]);
      expect(box.inflight).toBe(4);
      expect(store.depth).toBe(5);
      await store.close();
    });

    it('removes only acked entries; release returns leases in order', async () => {
      const store = await create(100);
      const box = new OutboxLeases(store);
      for (let s = 1; s <= 4; s += 1) await store.append(entry(s));
      await box.peek(3);
      await box.ack(2);
      expect(store.depth).toBe(3);
      box.release();
      expect(box.inflight).toBe(0);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([1, 3, 4]);
      box.release([3]);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([3]);
      await box.ack(99);
      expect(store.depth).toBe(3);
      await store.close();
    });

    it('keeps the payload intact', async () => {
      const store = await create(10);
      const box = new OutboxLeases(store);
      const e = entry(7);
      await store.append(e);
      const [got] = await box.peek(1);
      expect(got).toEqual(e);
      await store.close();
    });

    it('peekNewest leases the newest free entries at or above minSeq, in seq order, beside peek', async () => {
      const store = await create(10_000);
      const box = new OutboxLeases(store);
      expect(store.lastSeq).toBe(-1);
      expect(store.oldestAppendedAt).toBeUndefined();
      for (let s = 1; s <= 3000; s += 1) await store.append(entry(s));
      expect(store.lastSeq).toBe(3000);
      expect(typeof store.oldestAppendedAt).toBe('number');
      expect((await box.peekNewest(3, 2990)).map((e) => e.seq)).toEqual([2998, 2999, 3000]);
      expect((await box.peek(2)).map((e) => e.seq)).toEqual([1, 2]);
      // leased entries are skipped; minSeq bounds the lane
      expect((await box.peekNewest(20, 2990)).map((e) => e.seq)).toEqual([2990, 2991, 2992, 2993, 2994, 2995, 2996, 2997]);
      expect(await box.peekNewest(5, 2990)).toEqual([]);
      await box.ack(3000);
      await box.ack(2999);
      expect(store.lastSeq).toBe(3000);
      await store.append(entry(3001));
      expect((await box.peekNewest(5, 2990)).map((e) => e.seq)).toEqual([3001]);
      box.release([2998]);
      expect((await box.peekNewest(5)).map((e) => e.seq)).toEqual([2986, 2987, 2988, 2989, 2998]);
      expect(box.inflight).toBe(2 + 8 + 1 + 5);
      await store.close();
    });

    it('peekNewest never returns acked or dropped entries', async () => {
      const store = await create(5);
      const box = new OutboxLeases(store);
      for (let s = 1; s <= 8; s += 1) await store.append(entry(s));
      await box.ack(8);
      await box.ack(6);
      expect((await box.peekNewest(10)).map((e) => e.seq)).toEqual([4, 5, 7]);
      await store.close();
    });

    it('drops the oldest when full and counts every drop', async () => {
      const store = await create(3);
      const box = new OutboxLeases(store);
      for (let s = 1; s <= 5; s += 1) await store.append(entry(s));
      expect(store.depth).toBe(3);
      expect(store.droppedTotal).toBe(2);
      expect((await box.peek(10)).map((e) => e.seq)).toEqual([3, 4, 5]);
      // an in-flight oldest entry is dropped too, and its late ack is harmless
      await store.append(entry(6));
      expect(store.droppedTotal).toBe(3);
      await box.ack(3);
      expect(store.depth).toBe(3);
      expect(box.inflight).toBe(2);
      await store.close();
    });
  });
}
