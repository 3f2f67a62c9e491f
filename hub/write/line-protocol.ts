// InfluxDB 1.x line protocol, written here rather than by node-influx: no IPoint copy per point, no pair arrays,
// and the hub tags of an agent's batch escaped once for all its points (BatchPoint). The output is byte-equal to
// node-influx's `writePoints` for the points the hub writes (line-protocol.test.ts uses it as the oracle), except
// where node-influx is wrong: it leaves measurements unescaped and turns a string's first `\'` into `\\'`.
//
// The escaping, per the 1.x line-protocol reference:
// - measurement: comma, space;
// - tag keys, tag values and field keys: comma, equals sign, space;
// - string field values: in double quotes, with `"` and `\` escaped;
// - numbers are floats (`String(v)`: `1`, `0.5`, `1e+21` — how the catalogue's fields have always been
//   written; an integer `i` suffix would be a field type conflict with the stored data), booleans `true`/`false`;
//   `integer()` gives the `i` form for a field that is declared as an integer from the start;
// - the timestamp is epoch ms (the write is made with `precision=ms`).
// Newlines and other control characters never reach here: the data contract refuses them (protocol/contract.ts).
import type { FieldValue } from '../../protocol/index.ts';
import type { HubPoint } from './sink.ts';

const MEASUREMENT_SPECIAL = /[, ]/;
const MEASUREMENT_SPECIAL_G = /[, ]/g;
const TAG_SPECIAL = /[,= ]/;
const TAG_SPECIAL_G = /[,= ]/g;
const STRING_SPECIAL = /["\\]/;
const STRING_SPECIAL_G = /["\\]/g;

export function escapeMeasurement(name: string): string {
  return MEASUREMENT_SPECIAL.test(name) ? name.replace(MEASUREMENT_SPECIAL_G, '\\$&') : name;
}

/** Tag keys, tag values and field keys. */
export function escapeTag(s: string): string {
  return TAG_SPECIAL.test(s) ? s.replace(TAG_SPECIAL_G, '\\$&') : s;
}

/** A string field value, quoted. */
export function stringField(s: string): string {
  return STRING_SPECIAL.test(s) ? `"${s.replace(STRING_SPECIAL_G, '\\$&')}"` : `"${s}"`;
}

/** An integer field (`42i`): only for a field stored as an integer from its first point on. */
export function integer(v: number | bigint): string {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
  return `${v}i`;
}

export function fieldValue(v: FieldValue): string {
  return typeof v === 'string' ? stringField(v) : String(v);
}

/** `,k=v` for every tag, in the object's key order (as node-influx writes them). */
export function encodeTags(tags: Readonly<Record<string, string>> | undefined): string {
  let out = '';
  if (tags === undefined) return out;
  for (const k in tags) {
    const v = tags[k];
    if (v !== undefined) out += `,${escapeTag(k)}=${escapeTag(v)}`;
  }
  return out;
}

/** ` k=v,k2=v2` with the keys sorted (as node-influx writes them). */
export function encodeFields(fields: Readonly<Record<string, FieldValue>>): string {
  const keys = Object.keys(fields);
  if (keys.length > 1 && !isSorted(keys)) keys.sort();
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === undefined) continue;
    const v = fields[k];
    if (v === undefined) continue;
    out += `${i === 0 ? ' ' : ','}${escapeTag(k)}=${fieldValue(v)}`;
  }
  return out;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] ?? '') > (keys[i] ?? '')) return false;
  return true;
}

/** The hub's tags of one agent's batch, encoded once for every point of it. */
export interface HubTagSet {
  readonly tags: Readonly<Record<string, string>>;
  /** `encodeTags(tags)`. */
  readonly encoded: string;
}

export function hubTagSet(tags: Readonly<Record<string, string>>): HubTagSet {
  return { tags, encoded: encodeTags(tags) };
}

/**
 * An agent's point as the hub stores it, made without copying the point: `fields` is the decoded one, and `tags`
 * is the hub's shared object when the agent sent none. A plain HubPoint to every reader (its own enumerable
 * properties are the four of HubPoint, so spreads, JSON — the spool — and the alert engine see the same shape); only
 * the line is built from its parts (agent tags, then the batch's encoded hub tags: the key order of `tags`).
 */
export class BatchPoint implements HubPoint {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly timestamp: number;
  readonly #own: Readonly<Record<string, string>> | undefined;
  readonly #hub: HubTagSet;

  constructor(measurement: string, ownTags: Readonly<Record<string, string>> | undefined, hub: HubTagSet, fields: Readonly<Record<string, FieldValue>>, timestamp: number) {
    this.measurement = measurement;
    // Hub tags last: they win over anything (the contract already refuses them from agents). Object.assign, not
    // `{ ...own, ...hub }`: V8 runs the second spread on its slow path, ~20× the cost here (bench/hot-path.ts).
    this.tags = ownTags === undefined || isEmpty(ownTags) ? hub.tags : Object.assign({}, ownTags, hub.tags);
    this.fields = fields;
    this.timestamp = timestamp;
    this.#own = ownTags;
    this.#hub = hub;
  }

  line(): string {
    return `${escapeMeasurement(this.measurement)}${encodeTags(this.#own)}${this.#hub.encoded}${encodeFields(this.fields)} ${this.timestamp}`;
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** One point's line. */
export function pointLine(p: HubPoint): string {
  if (p instanceof BatchPoint) return p.line();
  return `${escapeMeasurement(p.measurement)}${encodeTags(p.tags)}${encodeFields(p.fields)} ${p.timestamp}`;
}

/** The body of a `/write`: one line per point. */
export function lineProtocol(points: readonly HubPoint[]): string {
  let body = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === undefined) continue;
    body += i === 0 ? pointLine(p) : `\n${pointLine(p)}`;
  }
  return body;
}
