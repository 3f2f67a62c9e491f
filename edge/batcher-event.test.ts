import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';
import { MemoryOutbox, readOldest } from './outbox.ts';

describe('Batcher event channel', () => {
  it('cuts events into their own batches, in seq order with the readings', async () => {
    const outbox = new MemoryOutbox({ maxBatches: 10 });
    let seq = 0;
    const b = new Batcher({ outbox, maxPoints: 100, flushIntervalMs: 1000, nextSeq: () => (seq += 1) });
    b.add('queue', { waiting: 1 }, { counter: 'c1' });
    b.event('queue_event', { number: 7 }, { counter: 'c1', type: 'called' });
    b.add('host', { cpu_pct: 3 });
    await b.flush();
    const entries = await readOldest(outbox, 10);
    expect(entries.map((e) => [e.seq, e.channel ?? 'telemetry', e.points])).toEqual([
      [1, 'telemetry', 2],
      [2, 'event', 1],
    ]);
    expect(JSON.parse(entries[1]?.payload ?? '[]')).toMatchObject([{ m: 'queue_event', fields: { number: 7 } }]);
  });
});
