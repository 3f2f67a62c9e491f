import { describe, expect, it } from 'vitest';
import { Rng, hostileBatch } from '../testkit/fuzz-gen.ts';
import { decodeBatch } from './decode.ts';
import { fastBatch } from './fast-batch.ts';
import { batchSchema } from './schemas.ts';

describe('fastBatch', () => {
  it('never accepts what batchSchema refuses, and returns what it would (2·10^4 generated batches; the fuzz run does 10^5)', () => {
    const r = new Rng(20_261_201);
    const now = Date.now();
    let fastOk = 0;
    let schemaOk = 0;
    const stricter: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify(hostileBatch(r, now, i, 0.0005)) ?? 'null';
      const raw: unknown = JSON.parse(text);
      const fast = fastBatch(raw);
      const parsed = batchSchema.safeParse(raw);
      const decoded = decodeBatch(text).ok;
      if (decoded) schemaOk++;
      if (fast === undefined) {
        if (decoded) stricter.push(text.slice(0, 300));
        continue;
      }
      fastOk++;
      if (!parsed.success) throw new Error(`fastBatch accepted what the schema refuses: ${JSON.stringify(raw).slice(0, 500)}`);
      expect(fast).toEqual(parsed.data);
    }
    // Both paths were exercised, and the fast one accepts every batch the schema does (it is as strict, not stricter).
    expect(fastOk).toBeGreaterThan(200);
    expect(stricter).toEqual([]);
    expect(fastOk).toBe(schemaOk);
  });
});
