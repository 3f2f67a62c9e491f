import { describe, expect, it } from 'vitest';
import { mutatedBatchText } from '../testkit/batch-mutations.ts';
import { Rng, hostileBatch } from '../testkit/fuzz-gen.ts';
import { checkAgentPoint, CONTRACT_VIOLATIONS, type TimeWindow } from './contract.ts';
import { decodeBatch } from './decode.ts';
import { checkAgentPointFast, fastBatch } from './fast-batch.ts';
import { batchSchema, LIMITS, type Batch } from './schemas.ts';

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
  }, 180_000); // zod on 2·10^4 batches: ~20 s alone, past a minute on a loaded 2-core machine
});

describe('the fast path against the zod contract (mutated valid batches)', () => {
  /** The contract as written: zod's schema (a `__proto__` key refused outright), then checkAgentPoint per point. */
  function reference(text: string, window: TimeWindow): { code: string } | { batch: Batch; verdicts: (string | undefined)[] } {
    if (Buffer.byteLength(text) > LIMITS.maxPayloadBytes) return { code: 'E_PAYLOAD_TOO_LARGE' };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { code: 'E_BAD_JSON' };
    }
    const parsed = batchSchema.safeParse(raw);
    if (!parsed.success || hasProtoKey(raw)) return { code: 'E_SCHEMA' };
    return { batch: parsed.data, verdicts: parsed.data.points.map((p) => checkAgentPoint(p, window)) };
  }

  function hasProtoKey(v: unknown): boolean {
    if (typeof v !== 'object' || v === null) return false;
    if (Object.hasOwn(v, '__proto__')) return true;
    return Object.values(v).some(hasProtoKey);
  }

  /** The hub's path: decodeBatch (the hand-written check; zod only to describe a refusal), checkAgentPointFast per point. */
  function fast(text: string, window: TimeWindow): { code: string } | { batch: Batch; verdicts: (string | undefined)[] } {
    const d = decodeBatch(text);
    if (!d.ok) return { code: d.error.code };
    return { batch: d.value, verdicts: d.value.points.map((p) => checkAgentPointFast(p, window)) };
  }

  it('accepts and refuses the same batches and points with the same codes (1.2·10^4 batches)', () => {
    const r = new Rng(13_000_013);
    const now = 1_800_000_000_000;
    const window: TimeWindow = { min: now - 90 * 86_400_000, max: now + 600_000 };
    const seen = new Map<string, number>();
    const count = (k: string): void => void seen.set(k, (seen.get(k) ?? 0) + 1);
    for (let i = 0; i < 12_000; i++) {
      const text = mutatedBatchText(r, now, i);
      const want = reference(text, window);
      const got = fast(text, window);
      if ('code' in want || 'code' in got) {
        if (!('code' in want && 'code' in got && want.code === got.code)) expect({ text, got }).toEqual({ text, got: want });
        count('code' in want ? want.code : 'ok');
        continue;
      }
      expect(got.batch).toEqual(want.batch);
      if (got.verdicts.some((v, j) => v !== want.verdicts[j])) expect({ text, verdicts: got.verdicts }).toEqual({ text, verdicts: want.verdicts });
      count('batch accepted');
      for (const v of want.verdicts) count(v ?? 'point accepted');
    }
    // Every outcome was exercised: whole batches refused, and each of the contract's codes but `too_long` and
    // `not_finite`, which the schema's length limits and its finite numbers (1e999 is Infinity) always catch first.
    expect(seen.get('E_SCHEMA') ?? 0).toBeGreaterThan(1000);
    expect(seen.get('batch accepted') ?? 0).toBeGreaterThan(4000);
    expect(seen.get('point accepted') ?? 0).toBeGreaterThan(40_000);
    for (const code of CONTRACT_VIOLATIONS.filter((c) => c !== 'too_long' && c !== 'not_finite')) expect(seen.get(code) ?? 0, `${code} exercised`).toBeGreaterThan(20);
  }, 180_000);
});
