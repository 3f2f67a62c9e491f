import { describe, expect, it } from 'vitest';
import { MemoryOutbox, type OutboxEntry } from '../outbox.ts';
import { OutboxLeases } from './leases.ts';

const entry = (seq: number): OutboxEntry => ({ seq, payload: `[${seq}]`, points: 1 });

describe('OutboxLeases', () => {
  it('a read that fails leaves nothing leased, so the batches go out on the next pump', async () => {
    const store = new MemoryOutbox({ maxBatches: 10 });
    for (let s = 1; s <= 4; s += 1) await store.append(entry(s));
    let failOn: number | undefined = 3;
    const flaky = Object.assign(Object.create(store) as MemoryOutbox, {
      get: async (seq: number) => {
        if (seq === failOn) throw new Error('EIO');
        return store.get(seq);
      },
    });
    const leases = new OutboxLeases(flaky);
    await expect(leases.peek(4)).rejects.toThrow('EIO');
    expect(leases.inflight).toBe(0);
    failOn = undefined;
    expect((await leases.peek(4)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('two lanes never lease the same batch, whichever asks first', async () => {
    const store = new MemoryOutbox({ maxBatches: 10 });
    for (let s = 1; s <= 5; s += 1) await store.append(entry(s));
    const leases = new OutboxLeases(store);
    const [newest, oldest] = await Promise.all([leases.peekNewest(3), leases.peek(3)]);
    expect(newest.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(oldest.map((e) => e.seq)).toEqual([1, 2]);
    expect(leases.inflight).toBe(5);
  });
});
