// Generated batches for the equivalence runs of the hub's fast path against the zod contract: valid batches built
// from the measurement catalogue, then mutated a few times each (wrong types, Infinity, huge integers, bad tag
// characters, unknown fields and measurements, missing fields, timestamps out of the window, unicode, extra keys).
// The output is JSON text, since that is what the hub decodes (Infinity and 20-digit integers exist only as text).
import { HUB_TAGS, MEASUREMENTS, type FieldType } from '../protocol/index.ts';
import { Rng } from './fuzz-gen.ts';

const AGENT_MEASUREMENTS = Object.entries(MEASUREMENTS).filter(([, s]) => s.owner === 'agent');
const HUB_MEASUREMENTS = Object.entries(MEASUREMENTS).filter(([, s]) => s.owner === 'hub').map(([m]) => m);
const RESERVED: readonly string[] = HUB_TAGS;

const GOOD_STRINGS = ['ok', 'timeout', 'Xã Tam Đảo', 'Phường Hoàn Kiếm', '😀', 'a,b=c d', '"quoted"', 'back\\slash', 'x'.repeat(256), ''];
const BAD_STRINGS = ['gw\\', 'a\\ b', 'a\\,b', 'a\\=b', 'a\\\\', '\\', 'a\nb', 'x\u0000y', '\u0085', '\u2028', 'tab\there', 'x'.repeat(257), 'y'.repeat(1025), '\u007f', '\ud800'];
/** Raw JSON number texts, spliced in for the sentinel strings below. */
const RAW_NUMBERS = ['1e999', '-1e999', '18446744073709551616', '12345678901234567890', '-0', '1e-400', '9007199254740993', '0.1e1'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function value(r: Rng, type: FieldType): Json {
  if (type === 'boolean') return r.chance(0.5);
  if (type === 'string') return r.pick(GOOD_STRINGS.filter((s) => s.length <= 1024));
  return r.pick([0, 1, -1, 0.5, 42, 123.456, 1e21, 5e-324, 1.7976931348623157e308, -(2 ** 63), r.int(-1e6, 1e6) / 100]);
}

function tagValue(r: Rng): string {
  return r.chance(0.8) ? `v-${r.int(0, 30)}` : r.pick(GOOD_STRINGS.filter((s) => s.length >= 1));
}

/** A point the catalogue accepts (within ±1 min of now). */
export function validPoint(r: Rng, now: number): Obj {
  const [m, spec] = r.pick(AGENT_MEASUREMENTS);
  const p: Obj = { m, t: now - r.int(0, 60_000) };
  const own = spec.tags.filter((t) => !RESERVED.includes(t));
  if (own.length > 0 && r.chance(0.9)) {
    const tags: Obj = {};
    for (const k of own) if (r.chance(0.8)) tags[k] = tagValue(r);
    p.tags = tags;
  }
  const names = Object.entries(spec.fields);
  const fields: Obj = {};
  for (let i = r.int(1, Math.min(5, names.length)); i > 0; i--) {
    const [k, type] = r.pick(names);
    fields[k] = value(r, type);
  }
  if ('otherFields' in spec && r.chance(0.3)) fields[`reg_${r.int(0, 99)}`] = r.int(0, 1000);
  p.fields = fields;
  return p;
}

export function validBatch(r: Rng, now: number, seq: number, points = r.int(1, 30)): Obj {
  const batch: Obj = { seq, sentAt: now, points: Array.from({ length: points }, () => validPoint(r, now)) };
  if (r.chance(0.2)) batch.late = true;
  if (r.chance(0.2)) batch.backlog = { depth: r.int(0, 100), oldestT: now - r.int(0, 3_600_000) };
  return batch;
}

const mutations: ((r: Rng, b: Obj, p: Obj, now: number) => void)[] = [
  // wrong types
  (r, _b, p) => setField(r, p, r.pick<Json>(['1', true, null, [1], { a: 1 }, 'x'])),
  (r, _b, p) => (p.t = r.pick<Json>([String(p.t), 1.5, null, -1, 0, 1e15, 999_999_999_999, 10_000_000_000_000])),
  (r, _b, p) => (p.m = r.pick<Json>([1, null, 'Host', 'host\n', '_x', 'a'.repeat(65), '', 'x-y'])),
  (r, _b, p) => (p.tags = r.pick<Json>([[], 'a', 1, null, { target: 1 }, { target: '' }, { target: null }])),
  (r, _b, p) => (p.fields = r.pick<Json>([{}, [], null, 'x', { up: {} }])),
  // Infinity, huge and odd integers (as JSON text), NaN turned into null by the agent's JSON.stringify
  (r, _b, p) => setField(r, p, `__RAW_${r.int(0, RAW_NUMBERS.length - 1)}__`),
  (r, _b, p) => (p.t = `__RAW_${r.int(0, RAW_NUMBERS.length - 1)}__`),
  (r, _b, p) => setField(r, p, r.pick([2 ** 53, 2 ** 64, -(2 ** 80), 1e308, Number.MAX_SAFE_INTEGER + 2])),
  // bad characters: control characters, lone surrogates, over-long values, in tags and string fields
  (r, _b, p) => setTag(r, p, r.pick(BAD_STRINGS)),
  (r, _b, p) => setField(r, p, r.pick(BAD_STRINGS)),
  (r, _b, p) => setTag(r, p, r.pick(GOOD_STRINGS)),
  // unknown or hub-owned names, reserved tags, bad keys
  (r, _b, p) => (p.m = r.pick(['cpu', 'x', 'agent_reportx', 'mem', ...HUB_MEASUREMENTS])),
  (r, _b, p) => setTagKey(r, p, r.pick([...RESERVED, 'unknown', 'Bad', 'a b', '__proto__', 'constructor', 'x'.repeat(65), 'target'])),
  (r, _b, p) => setFieldKey(r, p, r.pick(['unknown', 'Up', 'a-b', '__proto__', 'toString', 'x'.repeat(65), 'up', 'online', 'reg_1'])),
  (_r, _b, p) => (p.extra = 1),
  // missing parts
  (_r, _b, p) => delete p.fields,
  (_r, _b, p) => delete p.t,
  (_r, _b, p) => delete p.m,
  (_r, _b, p) => (p.tags = {}),
  // too many tags or fields
  (r, _b, p) => (p.tags = Object.fromEntries(Array.from({ length: r.int(15, 18) }, (_, i) => [`t${i}`, 'v']))),
  (r, _b, p) => (p.fields = Object.fromEntries(Array.from({ length: r.int(63, 66) }, (_, i) => [`reg_${i}`, i]))),
  // out of the time window (the hub's), or out of the epoch-ms range (the schema's)
  (r, _b, p, now) => (p.t = now + r.pick([600_001, 3_600_000, 86_400_000 * 400])),
  (r, _b, p, now) => (p.t = now - r.pick([86_400_000 * 91, 86_400_000 * 5000])),
  // the envelope
  (r, b) => (b.seq = r.pick<Json>([-1, 1.5, '1', null, 2 ** 53])),
  (r, b) => (b.sentAt = r.pick<Json>([0, '1', null, 1e15])),
  (r, b) => (b.late = r.pick<Json>([false, 'true', 1, null])),
  (r, b) => (b.backlog = r.pick<Json>([{ depth: -1, oldestT: 1_700_000_000_000 }, { depth: 1 }, { depth: 1, oldestT: 1_700_000_000_000, x: 1 }, 'x'])),
  (_r, b) => (b.unknown = 1),
  (r, b) => (b.points = r.pick<Json>([[], {}, null])),
];

function fieldsOf(p: Obj): Obj {
  const f = p.fields;
  if (typeof f === 'object' && f !== null && !Array.isArray(f)) return f;
  const fresh: Obj = { up: 1 };
  p.fields = fresh;
  return fresh;
}

function tagsOf(p: Obj): Obj {
  const t = p.tags;
  if (typeof t === 'object' && t !== null && !Array.isArray(t)) return t;
  const fresh: Obj = {};
  p.tags = fresh;
  return fresh;
}

function setField(r: Rng, p: Obj, v: Json): void {
  const f = fieldsOf(p);
  const keys = Object.keys(f);
  f[keys.length > 0 && r.chance(0.8) ? r.pick(keys) : 'up'] = v;
}

function setTag(r: Rng, p: Obj, v: Json): void {
  const t = tagsOf(p);
  const keys = Object.keys(t);
  t[keys.length > 0 && r.chance(0.8) ? r.pick(keys) : r.pick(['target', 'counter', 'device', 'iface', 'pin'])] = v;
}

/** An own key even when it is `__proto__` (plain assignment would set the prototype instead). */
function put(o: Obj, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function setTagKey(r: Rng, p: Obj, k: string): void {
  put(tagsOf(p), k, tagValue(r));
}

function setFieldKey(r: Rng, p: Obj, k: string): void {
  put(fieldsOf(p), k, r.int(0, 9));
}

/** JSON text of a valid batch mutated 0..`maxMutations` times (a quarter of them stay valid). */
export function mutatedBatchText(r: Rng, now: number, seq: number, maxMutations = 3): string {
  const batch = validBatch(r, now, seq);
  const points = batch.points as Obj[];
  const n = r.chance(0.25) ? 0 : r.int(1, maxMutations);
  for (let i = 0; i < n; i++) {
    const p = r.pick(points);
    r.pick(mutations)(r, batch, p, now);
    if (!Array.isArray(batch.points)) break;
  }
  let text = JSON.stringify(batch);
  text = text.replace(/"__RAW_(\d+)__"/g, (_, i: string) => RAW_NUMBERS[Number(i)] ?? '0');
  return text;
}

export { Rng };
