// The batch envelope `{seq, sentAt, late?, backlog?, points}` around points already encoded as JSON,
// and the bounds that make its size computable: one definition for the link that sends it, the batcher
// that reserves room for it and the schema (schemas.ts, fast-batch.ts) that checks it.
//
// The envelope is written by hand rather than with JSON.stringify because the points are stored
// encoded (the outbox keeps the JSON the batcher cut): re-parsing them per send would cost the Pi
// CPU for nothing. Its keys come out in the schema's order and its values are integers or `true`,
// so the text equals JSON.stringify of the same object.

/** 2001-09-09 .. 2286: anything outside is a unit error (seconds instead of ms), not a time. */
export const MIN_EPOCH_MS = 1_000_000_000_000;
export const MAX_EPOCH_MS = 9_999_999_999_999;
/** Largest batch seq and backlog depth the schema takes (an integer JSON.parse reads exactly). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
export const MAX_BACKLOG_DEPTH = Number.MAX_SAFE_INTEGER;

export interface BatchBacklog {
  /** Batches of the backlog not yet acknowledged. */
  depth: number;
  /** Append time of the oldest batch not yet acknowledged, agent clock, epoch ms. */
  oldestT: number;
}

export interface BatchEnvelope {
  seq: number;
  /** Agent clock when the batch is (re)sent, epoch ms. */
  sentAt: number;
  /** Replayed from the backlog after an outage. */
  late?: boolean;
  /** Sent while a backlog remains. */
  backlog?: BatchBacklog;
}

/** Whether `v` is an epoch-ms integer the schema accepts. */
export function isEpochMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= MIN_EPOCH_MS && v <= MAX_EPOCH_MS;
}

/**
 * The batch text around `pointsJson` (a JSON array of points). `backlog` is left out when its depth is
 * 0 or its oldestT (rounded) is no plausible epoch ms: an unsynced clock must not make a batch malformed.
 */
export function encodeBatch(env: BatchEnvelope, pointsJson: string): string {
  let head = `{"seq":${env.seq},"sentAt":${env.sentAt}`;
  if (env.late === true) head += ',"late":true';
  const b = env.backlog;
  if (b !== undefined && b.depth > 0) {
    const oldestT = Math.round(b.oldestT);
    if (isEpochMs(oldestT)) head += `,"backlog":{"depth":${b.depth},"oldestT":${oldestT}}`;
  }
  return `${head},"points":${pointsJson}}`;
}

/**
 * Bytes of the widest envelope the schema accepts (max seq, max sentAt, late, backlog with max depth
 * and oldestT), points excluded: a points array of at most `maxPayloadBytes − MAX_ENVELOPE_BYTES`
 * bytes fits under the payload limit whatever the link adds at send time. ASCII only, so length = bytes.
 */
export const MAX_ENVELOPE_BYTES = encodeBatch({ seq: MAX_SEQ, sentAt: MAX_EPOCH_MS, late: true, backlog: { depth: MAX_BACKLOG_DEPTH, oldestT: MAX_EPOCH_MS } }, '').length;

/** Bytes the points array of one batch may take under a payload limit. */
export function maxPointsBytes(maxPayloadBytes: number): number {
  return maxPayloadBytes - MAX_ENVELOPE_BYTES;
}
