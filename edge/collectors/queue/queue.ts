// queue: the office's one-stop queue from an HTTP event endpoint and GPIO "call next" buttons (queue, queue_event).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EdgeError } from '../../errors.ts';
import { VN_UTC_OFFSET_MIN } from '../../../common/local-day.ts';
import { DebouncedLines, type LineEntry } from '../gpio/debounced-lines.ts';
import { checkLineEntry, lineEntryShape, resolveLineEntry } from '../gpio/line-spec.ts';
import { createLineOpener, type GpioEnvironment } from '../gpio/open-line.ts';
import type { InputPin, PinOpener } from '../gpio/pin.ts';
import { buildQueueApp } from './queue-http.ts';
import { counterNameSchema, QueueModel, type AppliedQueueEvent, type QueueStats } from './queue-model.ts';
import type { FieldValue } from '../../../protocol/index.ts';
import { checkDistinctLines } from '../gpio/gpio.ts';
import { collectorBaseShape, defineCollector, writes, type Accumulator, type Collector, type CollectorContext } from '../types.ts';

/** `counter` tag of the office-wide point. */
export const OFFICE_COUNTER = 'all';

export const queueConfigSchema = z.strictObject({
  type: z.literal('queue'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(30),
  /** The event endpoint. Keep it on loopback unless the dispenser is another box on the LAN. */
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65_535).default(8090),
    })
    .prefault({}),
  /** Set false to run on buttons alone. */
  http: z.boolean().default(true),
  /** Counters reported from the start (others appear with their first event). */
  counters: z.array(counterNameSchema).max(64).default([]),
  /** GPIO "call next" buttons (`line: GPIO23`, or `chip` + offset; the old `pin:` still parses): a press calls the next waiting ticket at `counter`. */
  buttons: z
    .array(
      z
        .strictObject({
          ...lineEntryShape,
          counter: counterNameSchema,
          /** Button to ground with a pull-up: pressed reads low. */
          activeLow: z.boolean().default(true),
        })
        .superRefine(checkLineEntry)
        .transform((b) => ({ ...resolveLineEntry(b), counter: b.counter, activeLow: b.activeLow })),
    )
    .max(64)
    .superRefine(checkDistinctLines)
    .default([]),
  debounceMs: z.int().min(0).max(2000).default(50),
  /** Recent wait/service times per counter behind avg and p90. */
  statsWindow: z.int().min(1).max(10_000).default(100),
  /** Local offset from UTC; totals reset at local midnight. */
  utcOffsetMin: z.int().min(-720).max(840).default(VN_UTC_OFFSET_MIN),
});
export type QueueConfig = z.infer<typeof queueConfigSchema>;

type QueueButton = QueueConfig['buttons'][number];

export interface QueueDeps {
  openPin?: PinOpener;
  /** Where to look for GPIO (tests point it at fake tools). */
  gpio?: Omit<GpioEnvironment, 'logger'>;
  now?: () => number;
}

function statsFields(s: QueueStats): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[k] = v;
  return out;
}

function eventFields(e: AppliedQueueEvent): Record<string, FieldValue> {
  const f: Record<string, FieldValue> = { number: e.number };
  if (e.waitS !== undefined) f.wait_s = e.waitS;
  if (e.serviceS !== undefined) f.service_s = e.serviceS;
  return f;
}

export interface QueueCollector extends Collector {
  readonly model: QueueModel;
  /** The bound port (after start). */
  readonly port: number | undefined;
  /** The open button lines. */
  pins(): InputPin[];
}

export function createQueueCollector(config: QueueConfig, ctx: CollectorContext, deps: QueueDeps = {}): QueueCollector {
  const model = new QueueModel({ window: config.statsWindow, utcOffsetMin: config.utcOffsetMin, counters: config.counters, ...(deps.now ? { now: deps.now } : {}) });
  const log = ctx.logger;
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  let buttons: DebouncedLines<QueueButton & LineEntry> | undefined;
  let acc: Accumulator | undefined;
  let started = false;

  const emit = (applied: readonly AppliedQueueEvent[]): void => {
    // Same counter and ms twice (call-next also serving the previous ticket): the type tag keeps them apart.
    for (const e of applied) acc?.event('queue_event', eventFields(e), { counter: e.counter, type: e.type }, e.at);
  };

  return {
    model,
    get port() {
      return port;
    },
    async start(a) {
      if (started) return;
      started = true;
      acc = a;
      if (config.http) {
        app = buildQueueApp({ model, logger: log, onApplied: (r) => emit(r.applied) });
        try {
          await app.listen({ host: config.listen.host, port: config.listen.port });
        } catch (err: unknown) {
          throw new EdgeError('E_QUEUE_LISTEN', `queue endpoint cannot listen on ${config.listen.host}:${config.listen.port}`, { cause: err });
        }
        const addr = app.server.address();
        port = typeof addr === 'object' && addr !== null ? addr.port : undefined;
        log.info({ host: config.listen.host, port }, 'queue endpoint listening');
      }
      if (config.buttons.length > 0) {
        // A missing line is logged and retried; it must not take the HTTP source down with it.
        buttons = new DebouncedLines(config.buttons, {
          open: deps.openPin ?? createLineOpener({ logger: log, ...deps.gpio }),
          debounceMs: config.debounceMs,
          logger: log,
          what: 'queue button',
          onStable: (b, v) => {
            if (v !== 1) return; // press, not release
            // At the model's clock (50 ms after the press, once debounced): wait times stay on one clock.
            const r = model.apply({ type: 'called', counter: b.counter });
            if (r.ok) emit(r.applied);
            else log.debug({ counter: b.counter, code: r.code }, 'call-next with nobody waiting');
          },
        });
        await buttons.start();
      }
    },
    async gather(a) {
      const t = deps.now?.() ?? Date.now();
      const snap = model.snapshot();
      for (const [counter, s] of snap.counters) a.add('queue', statsFields(s), { counter }, t);
      a.add('queue', statsFields(snap.office), { counter: OFFICE_COUNTER }, t);
      // Buttons are not a measurement of their own: their failures are logged (once each), and retried here.
      buttons?.states();
      buttons?.retryFailed();
    },
    pins: () => buttons?.pins() ?? [],
    async close() {
      await buttons?.close();
      buttons = undefined;
      await app?.close();
      app = undefined;
    },
  };
}

export const queuePlugin = defineCollector({
  type: 'queue',
  configSchema: queueConfigSchema,
  label: (c) => `queue:${c.name ?? `${c.listen.host}:${c.listen.port}`}`,
  writes: [
    writes('queue', {
      tags: ['counter'],
      fields: ['waiting', 'issued_total', 'served_total', 'skipped_total', 'longest_wait_s', 'current_number', 'avg_wait_s', 'p90_wait_s', 'avg_service_s', 'p90_service_s'],
    }),
    writes('queue_event', { tags: ['counter', 'type'], fields: ['number', 'wait_s', 'service_s'], event: true }),
  ],
  create: (config, ctx) => createQueueCollector(config, ctx),
});
