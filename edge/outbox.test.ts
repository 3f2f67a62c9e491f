import { expect, it } from 'vitest';
import { MemoryOutbox } from './outbox.ts';
import { outboxContract } from '../testkit/outbox-contract.ts';

outboxContract('MemoryOutbox', async (maxBatches) => new MemoryOutbox({ maxBatches }));

it('MemoryOutbox refuses a nonsensical bound', () => {
  expect(() => new MemoryOutbox({ maxBatches: 0 })).toThrow(RangeError);
});
