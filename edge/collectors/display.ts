// display: is the queue display alive (HTTP heartbeat or ping), and is it frozen on an old number (display, display_event).
import { z } from 'zod';
import type { FieldValue } from '../../protocol/index.ts';
import { counterNameSchema } from './queue/queue-model.ts';
import { probeIcmp } from './icmp/icmp.ts';
import { collectorBaseShape, defineCollector, hostSchema, timeoutMsSchema, withTimeout, writes, type Collector, type CollectorContext } from './types.ts';

export const displayConfigSchema = z
  .strictObject({
    type: z.literal('display'),
    ...collectorBaseShape,
    intervalS: collectorBaseShape.intervalS.unwrap().default(15),
    /** The `display` tag. */
    display: z.string().min(1).max(64),
    /** HTTP heartbeat/status URL of the display. A JSON body with `numberField` is read back as the shown number. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** Or: ping this host (displays without HTTP). */
    host: hostSchema.optional(),
    /** Key of the shown number in the status JSON (dots for nesting: `state.number`). */
    numberField: z.string().min(1).max(128).default('number'),
    /** The queue collector's snapshot, for the number the display should show. */
    queueUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8090/v1/queue'),
    /** Counter whose current number the display shows. */
    counter: counterNameSchema.optional(),
    /** Shown ≠ expected for longer than this: frozen. */
    frozenAfterS: z.number().positive().max(86_400).default(120),
    timeoutMs: timeoutMsSchema.default(3000),
  })
  .refine((c) => (c.url === undefined) !== (c.host === undefined), { message: 'set exactly one of url, host', path: ['url'] });
export type DisplayConfig = z.infer<typeof displayConfigSchema>;

async function getJson(url: string, signal: AbortSignal): Promise<{ ok: boolean; json: unknown }> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json', 'user-agent': 'ioc-edge' } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { ok: res.ok, json };
}

/** `a.b.c` of a parsed JSON value, when it is a finite number (or a numeric string). */
export function numberAt(json: unknown, path: string): number | undefined {
  let v: unknown = json;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{1,9}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

export interface DisplayDeps {
  now?: () => number;
}

export function createDisplayCollector(config: DisplayConfig, _ctx: CollectorContext, deps: DisplayDeps = {}): Collector {
  const now = deps.now ?? Date.now;
  const tags = { display: config.display };
  const startedAt = now();
  let lastSeen: number | undefined;
  let mismatchSince: number | undefined;
  let prevAlive: boolean | undefined;
  let prevFrozen: boolean | undefined;

  const expectedNumber = async (signal: AbortSignal): Promise<number | undefined> => {
    try {
      const { ok, json } = await getJson(config.queueUrl, signal);
      if (!ok) return undefined;
      return numberAt(json, config.counter === undefined ? 'office.current_number' : `counters.${config.counter}.current_number`);
    } catch {
      return undefined;
    }
  };

  return {
    async gather(acc, signal) {
      const t = now();
      const limit = withTimeout(signal, config.timeoutMs);
      let alive = false;
      let shown: number | undefined;
      let result = 'ok';
      if (config.url !== undefined) {
        try {
          const { ok, json } = await getJson(config.url, limit);
          alive = ok;
          if (!ok) result = 'bad_status';
          shown = numberAt(json, config.numberField);
        } catch {
          result = limit.aborted ? 'timeout' : 'unreachable';
        }
      } else if (config.host !== undefined) {
        const r = await probeIcmp({ type: 'icmp', host: config.host, count: 1, timeoutS: Math.max(0.2, config.timeoutMs / 1000), pingPath: 'ping', intervalS: config.intervalS }, config.host, signal);
        alive = r.result === 'ok';
        result = r.result;
      }
      if (alive) lastSeen = t;
      const fields: Record<string, FieldValue> = { alive: alive ? 1 : 0, last_seen_s: Math.round((t - (lastSeen ?? startedAt)) / 1000), result };
      let frozen: boolean | undefined;
      if (shown !== undefined) {
        fields.shown_number = shown;
        const expected = await expectedNumber(withTimeout(signal, config.timeoutMs));
        if (expected !== undefined) {
          fields.expected_number = expected;
          if (shown === expected) mismatchSince = undefined;
          else mismatchSince ??= t;
          frozen = mismatchSince !== undefined && t - mismatchSince >= config.frozenAfterS * 1000;
          fields.frozen = frozen ? 1 : 0;
        }
      }
      acc.add('display', fields, tags, t);
      if (prevAlive !== undefined && prevAlive !== alive) acc.event('display_event', { alive: alive ? 1 : 0 }, { ...tags, type: alive ? 'back' : 'lost' }, t);
      if (frozen !== undefined && prevFrozen !== undefined && prevFrozen !== frozen) acc.event('display_event', { frozen: frozen ? 1 : 0, ...(shown === undefined ? {} : { shown_number: shown }) }, { ...tags, type: frozen ? 'frozen' : 'unfrozen' }, t);
      prevAlive = alive;
      if (frozen !== undefined) prevFrozen = frozen;
    },
  };
}

export const displayPlugin = defineCollector({
  type: 'display',
  configSchema: displayConfigSchema,
  label: (c) => `display:${c.name ?? c.display}`,
  writes: [
    writes('display', { tags: ['display'], fields: ['alive', 'last_seen_s', 'result', 'shown_number', 'expected_number', 'frozen'] }),
    writes('display_event', { tags: ['display', 'type'], fields: ['alive', 'frozen', 'shown_number'], event: true }),
  ],
  create: (config, ctx) => createDisplayCollector(config, ctx),
});
