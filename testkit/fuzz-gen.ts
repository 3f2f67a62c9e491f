// Generated hostile payloads and topics for the fuzz runs: a seeded PRNG, so a failure replays.
// Mutations of valid batches (wrong types, huge numbers, control characters, unicode, deep nesting,
// hub-owned measurements, timestamps far in the future or past, oversized) and plain garbage.
import { MEASUREMENTS } from '../protocol/index.ts';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x1_0000_0000;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    const v = xs[Math.floor(this.next() * xs.length)];
    if (v === undefined) throw new Error('empty');
    return v;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const NAMES = [...Object.keys(MEASUREMENTS), 'cpu', 'x', 'Host', 'host\n', '_x', 'a'.repeat(70), ''];
const TAG_KEYS = ['target', 'method', 'iface', 'counter', 'display', 'device', 'kind', 'pin', 'name', 'type', 'site', 'agent', 'province', 'area', 'Bad', '__proto__', 'constructor', 'x'.repeat(65)];
const FIELD_KEYS = ['up', 'rtt_ms', 'cpu_pct', 'online', 'state', 'result', 'kwh', 'uptime_s', 'late_points', 'value', 'lat', '__proto__', 'toString', 'A', 'x'.repeat(65)];
const STRINGS = ['ok', '', 'a\nb', 'x\u0000y', '\u0085', '\u2028', 'Xã Tam Đảo', '😀'.repeat(50), '"quoted"', 'back\\slash', 'a,b=c d', 'x'.repeat(300), 'x'.repeat(2000), '\ud800'];
const NUMBERS = [0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e21, 123456789.123];

function scalar(r: Rng): unknown {
  switch (r.int(0, 6)) {
    case 0:
      return r.pick(NUMBERS);
    case 1:
      return r.pick(STRINGS);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return [r.pick(NUMBERS)];
    case 5:
      return { nested: r.pick(NUMBERS) };
    default:
      return r.int(-1000, 1000);
  }
}

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

/** A timestamp: mostly now, sometimes far ahead, far behind, out of range or not a number. */
function timestamp(r: Rng, now: number): unknown {
  switch (r.int(0, 9)) {
    case 0:
      return now + r.int(1, 100_000) * 86_400_000; // days to centuries ahead
    case 1:
      return now - r.int(100, 5000) * 86_400_000; // beyond retention
    case 2:
      return r.pick([0, -1, 1e15, 1.5, Math.floor(now / 1000), 9_999_999_999_999]);
    case 3:
      return String(now);
    default:
      return now - r.int(0, 60_000);
  }
}

function point(r: Rng, now: number): Record<string, unknown> {
  const m = r.chance(0.7) ? r.pick(['net_probe', 'host', 'queue', 'equipment', 'gpio', 'display']) : r.pick(NAMES);
  const p: Record<string, unknown> = { m, t: r.chance(0.8) ? now - r.int(0, 60_000) : timestamp(r, now) };
  if (r.chance(0.7)) {
    const tags: Record<string, unknown> = {};
    for (let i = r.int(0, 4); i > 0; i--) tags[r.chance(0.7) ? r.pick(['target', 'method', 'counter', 'device', 'kind']) : r.pick(TAG_KEYS)] = r.chance(0.8) ? `v-${r.int(0, 50)}` : scalar(r);
    p.tags = tags;
  }
  const fields: Record<string, unknown> = {};
  for (let i = r.int(r.chance(0.95) ? 1 : 0, 5); i > 0; i--) fields[r.chance(0.7) ? r.pick(['up', 'rtt_ms', 'cpu_pct', 'waiting', 'state']) : r.pick(FIELD_KEYS)] = r.chance(0.7) ? r.int(0, 100) : scalar(r);
  p.fields = fields;
  if (r.chance(0.03)) p.extra = 1;
  return p;
}

/** A JSON value an agent might send on telemetry: mostly batch-shaped, some wrong in every way. */
export function hostileBatch(r: Rng, now: number, seq: number, oversizeChance = 0.002): unknown {
  const kind = r.int(0, 19);
  if (kind === 0) return scalar(r);
  if (kind === 1) return deep(r.int(10, 500));
  if (kind === 2) return { seq, sentAt: now, points: [] };
  if (kind === 3) return { seq, sentAt: now, points: Array.from({ length: r.int(1, 5) }, () => ({ m: r.pick(['agent', 'alert', 'delivery', 'site_info']), t: now, fields: { online: false, state: 'firing', late_points: 5, lat: 1 } })) };
  const batch: Record<string, unknown> = {
    seq: r.chance(0.9) ? seq : scalar(r),
    sentAt: r.chance(0.9) ? now : timestamp(r, now),
    points: Array.from({ length: r.chance(oversizeChance) ? r.int(5001, 5100) : r.int(1, 20) }, () => point(r, now)),
  };
  if (r.chance(0.1)) batch.late = r.chance(0.5) ? true : scalar(r);
  if (r.chance(0.05)) batch.backlog = r.chance(0.5) ? { depth: r.int(0, 10), oldestT: now - 1000 } : scalar(r);
  if (r.chance(0.03)) batch.unknown = scalar(r);
  return batch;
}

/** Payload bytes: JSON of a hostile batch, or JSON broken / oversized / not text at all. */
export function hostilePayload(r: Rng, now: number, seq: number): Buffer {
  const kind = r.int(0, 29);
  if (kind === 0) return Buffer.from(JSON.stringify(hostileBatch(r, now, seq)).slice(0, r.int(0, 50))); // truncated
  if (kind === 1) return Buffer.from(Array.from({ length: r.int(0, 200) }, () => r.int(0, 255)));
  if (kind === 2) return Buffer.alloc(0);
  if (kind === 3 && r.chance(0.2)) return Buffer.alloc(600 * 1024, 0x20); // oversized
  if (kind === 5) {
    const n = r.int(1000, 20_000); // nesting deeper than a recursive parser's stack
    return Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);
  }
  if (kind === 4) return Buffer.from(`{"seq":1,"sentAt":${now},"points":[${'{"m":"host","t":1,"fields":{"x":1}},'.repeat(10)}`);
  return Buffer.from(JSON.stringify(hostileBatch(r, now, seq)) ?? 'null');
}

/** A topic: mostly the agent's own channels, also others' topics, hub topics, wildcards and junk. */
export function hostileTopic(r: Rng, own: { site: string; agent: string }, other: { site: string; agent: string }): string {
  const mine = `ioc/v1/${own.site}/${own.agent}`;
  switch (r.int(0, 19)) {
    case 0:
      return `ioc/v1/${other.site}/${other.agent}/telemetry`;
    case 1:
      return `ioc/v1/${own.site}/${other.agent}/telemetry`;
    case 2:
      return `ioc/v1/alerts/${other.site}/x`;
    case 3:
      return `${mine}/cmd/${r.int(0, 9)}`;
    case 4:
      return `${mine}/cmd-result/${r.int(0, 99_999)}`;
    case 5:
      return `${mine}/telemetry/extra`;
    case 6:
      return `${mine}/${r.pick(['Status', 'events', 'x', '', 'status\u0000'])}`;
    case 7:
      return `$SYS/${r.int(0, 9)}`;
    case 8:
      return `${'a/'.repeat(r.int(5, 30))}x`;
    case 9:
      return `ioc/v1/${other.site}/${other.agent}/status`;
    case 10:
      return `${mine}/status`;
    case 11:
      return `${mine}/event`;
    default:
      return `${mine}/telemetry`;
  }
}
