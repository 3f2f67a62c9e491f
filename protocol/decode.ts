// Decoding of raw MQTT payloads into typed messages, with stable error codes instead of throws.
import type { z } from 'zod';
import { CodedError } from '../common/errors.ts';
import { describeIssues, prefixIssues } from '../common/zod-issues.ts';
import { checkBatchFast } from './fast-batch.ts';
import { batchSchema, commandResultSchema, commandSchema, LIMITS, pointSchema, statusSchema, type Batch, type Command, type CommandResult, type Status } from './schemas.ts';

export type DecodeErrorCode = 'E_PAYLOAD_TOO_LARGE' | 'E_BAD_JSON' | 'E_SCHEMA';

export class DecodeError extends CodedError<DecodeErrorCode> {}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

export { describeIssues };

function decodeWith<T>(
  schema: z.ZodType<T>,
  payload: Uint8Array | string,
  maxBytes: number,
  fast?: (raw: unknown) => T | DecodeError | undefined,
  refuse?: (raw: unknown) => boolean,
): DecodeResult<T> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes) {
    return { ok: false, error: new DecodeError('E_PAYLOAD_TOO_LARGE', `payload of ${size} bytes exceeds ${maxBytes}`) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (err: unknown) {
    return { ok: false, error: new DecodeError('E_BAD_JSON', 'payload is not valid JSON', { cause: err }) };
  }
  const quick = fast?.(raw);
  if (quick instanceof DecodeError) return { ok: false, error: quick };
  if (quick !== undefined) return { ok: true, value: quick };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: new DecodeError('E_SCHEMA', describeIssues(parsed.error.issues), { cause: parsed.error }) };
  }
  if (refuse?.(raw) === true) return { ok: false, error: new DecodeError('E_SCHEMA', 'a key may not be __proto__') };
  return { ok: true, value: parsed.data };
}

export function decodeBatch(payload: Uint8Array | string, maxBytes: number = LIMITS.maxPayloadBytes): DecodeResult<Batch> {
  return decodeWith(batchSchema, payload, maxBytes, fastOrLocatedError, hasProtoKey);
}

/** A known-good point standing in for the points while the batch's own fields are described. */
const PLACEHOLDER_POINT = { m: 'x', t: 1_700_000_000_000, fields: { x: 1 } };

/**
 * The fast check, and when it fails, the schema's description of that one spot only: a batch of 5,000
 * points with one bad field costs one point's zod run, not 5,000 (an agent cannot buy CPU with bad
 * batches). Undefined: the fast check was stricter than the schema there; the whole schema decides.
 */
function fastOrLocatedError(raw: unknown): Batch | DecodeError | undefined {
  const r = checkBatchFast(raw);
  if ('batch' in r) return r.batch;
  const at = r.failedAt;
  if (typeof at === 'number') {
    const points = (raw as { points: unknown[] }).points;
    const parsed = pointSchema.safeParse(points[at]);
    if (parsed.success) return undefined;
    return new DecodeError('E_SCHEMA', describeIssues(prefixIssues(parsed.error.issues, ['points', at])), { cause: parsed.error });
  }
  const obj = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  if (at === 'points' && obj !== undefined) {
    const points = obj.points;
    if (!Array.isArray(points)) return new DecodeError('E_SCHEMA', 'points: expected an array');
    return new DecodeError('E_SCHEMA', `points: ${points.length} points, expected 1..${LIMITS.maxPointsPerBatch}`);
  }
  if (obj === undefined || !Array.isArray(obj.points)) return undefined; // small: the schema describes it
  const parsed = batchSchema.safeParse({ ...obj, points: [PLACEHOLDER_POINT] });
  if (parsed.success) return undefined;
  return new DecodeError('E_SCHEMA', describeIssues(parsed.error.issues), { cause: parsed.error });
}

/** zod skips a `__proto__` key (and may set its output's prototype from it): such a batch is refused outright. */
function hasProtoKey(raw: unknown): boolean {
  const own = (o: unknown): boolean => typeof o === 'object' && o !== null && Object.hasOwn(o, '__proto__');
  if (own(raw)) return true;
  if (typeof raw !== 'object' || raw === null || !('points' in raw) || !Array.isArray(raw.points)) return false;
  if ('backlog' in raw && own(raw.backlog)) return true;
  for (const p of raw.points as unknown[]) {
    if (own(p)) return true;
    if (typeof p === 'object' && p !== null && ((('tags' in p) && own(p.tags)) || (('fields' in p) && own(p.fields)))) return true;
  }
  return false;
}

export function decodeStatus(payload: Uint8Array | string): DecodeResult<Status> {
  return decodeWith(statusSchema, payload, 4096);
}

export function decodeCommand(payload: Uint8Array | string): DecodeResult<Command> {
  return decodeWith(commandSchema, payload, 64 * 1024);
}

export function decodeCommandResult(payload: Uint8Array | string): DecodeResult<CommandResult> {
  return decodeWith(commandResultSchema, payload, 64 * 1024);
}
