// The contract suite every Outbox implementation must pass (memory now, the on-disk log later).
import { describe, expect, it } from 'vitest';
import type { Outbox, OutboxEntry } from './outbox.ts';

function entry(seq: number): OutboxEntry {
  return { seq, payload: JSON.stringify([{ m: 'agent', t: 1_700_000_000_000 + seq, fields: { uptime_s: seq } }]), points: 1 };
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
