// A hand-written check of exactly what batchSchema accepts, for the hub's hot path: zod takes ~90 ms for
// a 4,000-point batch here, this ~2 ms, and the event loop is shared by every agent. It may only be
// stricter than the schema, never looser: anything it refuses goes through zod, which decides and
// describes the problem (protocol/fast-batch.test.ts compares both on 10^5 generated payloads).
// And the data contract's per-point check (contract.ts checkAgentPoint) read straight off the decoded point
// against the catalogue, without an array per tag and field: same verdict, same code (fast-batch.test.ts).
import { CONTROL_CHARS, TAG_ESCAPE, type ContractViolation, type TimeWindow } from './contract.ts';
import { MEASUREMENTS, RESERVED_TAG_KEYS, type FieldType } from './measurements.ts';
import { isEpochMs, MAX_BACKLOG_DEPTH, MAX_SEQ } from './envelope.ts';
import { LIMITS, NAME_PATTERN, type Batch, type Point } from './schemas.ts';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function isCount(v: unknown, max: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

function onlyKeys(o: Obj, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!Object.hasOwn(o, k) || !allowed.has(k)) return false;
  return true;
}

const BATCH_KEYS = new Set(['seq', 'sentAt', 'late', 'backlog', 'points']);
const BACKLOG_KEYS = new Set(['depth', 'oldestT']);
const POINT_KEYS = new Set(['m', 't', 'tags', 'fields']);

function isTags(v: unknown): boolean {
  if (!isObj(v)) return false;
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) return false;
    n++;
    if (n > LIMITS.maxTagsPerPoint || !NAME_PATTERN.test(k) || RESERVED_TAG_KEYS.has(k)) return false;
    const value = v[k];
    if (typeof value !== 'string' || value.length < 1 || value.length > LIMITS.maxTagValueLength) return false;
  }
  return true;
}

function isFields(v: unknown): boolean {
  if (!isObj(v)) return false;
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) return false;
    n++;
    if (n > LIMITS.maxFieldsPerPoint || !NAME_PATTERN.test(k)) return false;
    const value = v[k];
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
    } else if (typeof value === 'string') {
      if (value.length > LIMITS.maxStringFieldLength) return false;
    } else if (typeof value !== 'boolean') return false;
  }
  return n >= 1;
}

function isPoint(v: unknown): boolean {
  if (!isObj(v) || !onlyKeys(v, POINT_KEYS)) return false;
  if (typeof v.m !== 'string' || !NAME_PATTERN.test(v.m)) return false;
  if (!isEpochMs(v.t)) return false;
  if (v.tags !== undefined && !isTags(v.tags)) return false;
  return isFields(v.fields);
}

/** Where the fast check failed: the batch's own fields, its points array, or the point at an index. */
export type FastFailure = 'batch' | 'points' | number;

/** `{ batch }` when `raw` (from JSON.parse) certainly satisfies batchSchema; else where it first looked wrong. */
export function checkBatchFast(raw: unknown): { batch: Batch } | { failedAt: FastFailure } {
  if (!isObj(raw) || !onlyKeys(raw, BATCH_KEYS)) return { failedAt: 'batch' };
  if (!isCount(raw.seq, MAX_SEQ)) return { failedAt: 'batch' };
  if (!isEpochMs(raw.sentAt)) return { failedAt: 'batch' };
  if (raw.late !== undefined && raw.late !== true) return { failedAt: 'batch' };
  if (raw.backlog !== undefined) {
    const b = raw.backlog;
    if (!isObj(b) || !onlyKeys(b, BACKLOG_KEYS)) return { failedAt: 'batch' };
    if (!isCount(b.depth, MAX_BACKLOG_DEPTH) || !isEpochMs(b.oldestT)) return { failedAt: 'batch' };
  }
  const points = raw.points;
  if (!Array.isArray(points) || points.length < 1 || points.length > LIMITS.maxPointsPerBatch) return { failedAt: 'points' };
  for (let i = 0; i < points.length; i++) if (!isPoint(points[i])) return { failedAt: i };
  return { batch: raw as unknown as Batch };
}

/** The batch when `raw` certainly satisfies batchSchema; undefined: ask the schema. */
export function fastBatch(raw: unknown): Batch | undefined {
  const r = checkBatchFast(raw);
  return 'batch' in r ? r.batch : undefined;
}

/** A measurement as an agent may write it: precomputed once from the catalogue. */
interface AgentSpec {
  readonly hubOwned: boolean;
  readonly tags: ReadonlySet<string>;
  readonly fields: ReadonlyMap<string, FieldType>;
  readonly otherFields: FieldType | undefined;
}

const AGENT_SPECS: ReadonlyMap<string, AgentSpec> = new Map(
  Object.entries(MEASUREMENTS).map(([m, spec]): [string, AgentSpec] => [
    m,
    {
      hubOwned: spec.owner === 'hub',
      tags: new Set(spec.tags.filter((t) => !RESERVED_TAG_KEYS.has(t))),
      fields: new Map(Object.entries(spec.fields)),
      otherFields: 'otherFields' in spec ? spec.otherFields : undefined,
    },
  ]),
);

/**
 * contract.ts `checkAgentPoint` for a point that passed the batch check: undefined when it may be stored, else
 * the same violation in the same order (measurement, time, tags in key order, fields in key order).
 */
export function checkAgentPointFast(p: Point, window?: TimeWindow): ContractViolation | undefined {
  const spec = AGENT_SPECS.get(p.m);
  if (spec === undefined) return 'unknown_measurement';
  if (spec.hubOwned) return 'hub_measurement';
  if (window !== undefined) {
    if (p.t > window.max) return 'clock_future';
    if (p.t < window.min) return 'clock_past';
  }
  const tags = p.tags;
  if (tags !== undefined) {
    for (const k in tags) {
      const v = tags[k];
      if (v === undefined) continue;
      if (!spec.tags.has(k)) return 'unknown_tag';
      if (v.length > LIMITS.maxTagValueLength) return 'too_long';
      if (CONTROL_CHARS.test(v)) return 'control_char';
      if (TAG_ESCAPE.test(v)) return 'tag_escape';
    }
  }
  const fields = p.fields;
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    const type = spec.fields.get(k) ?? spec.otherFields;
    if (type === undefined) return 'unknown_field';
    const t = typeof v;
    if (t !== type) return 'field_type';
    if (t === 'number') {
      if (!Number.isFinite(v)) return 'not_finite';
    } else if (t === 'string') {
      const str = v as string;
      if (str.length > LIMITS.maxStringFieldLength) return 'too_long';
      if (CONTROL_CHARS.test(str)) return 'control_char';
    }
  }
  return undefined;
}
