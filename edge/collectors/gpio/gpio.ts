// gpio: digital inputs (door contact, mains power-fail, smoke detector): debounced edges as events, and the periodic state (gpio, gpio_event).
import { z } from 'zod';
import { DebouncedLines, type LineEntry } from './debounced-lines.ts';
import { checkLineEntry, lineEntryShape, resolveLineEntry } from './line-spec.ts';
import { createLineOpener, type GpioEnvironment } from './open-line.ts';
import type { InputPin, PinOpener } from './pin.ts';
import { collectorBaseShape, defineCollector, writes, type Accumulator, type Collector, type CollectorContext } from '../types.ts';

/** One input entry: where the line is (`line: GPIO17`, or `chip` + offset; the old `pin:` BCM number still parses). */
export const gpioInputSchema = z
  .strictObject({
    ...lineEntryShape,
    /** The `name` tag: door, mains, smoke. */
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
    /** 1 when the line is low (contacts to ground with a pull-up). */
    activeLow: z.boolean().default(false),
  })
  .superRefine(checkLineEntry)
  .transform((e) => ({ ...resolveLineEntry(e), name: e.name, activeLow: e.activeLow }));

/** Two entries on one line: the second would find it busy. */
export function checkDistinctLines(entries: readonly { tag: string; spec: { chip: string | undefined; line: string | number } }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    // An entry that failed its own checks has no spec (zod runs this refinement anyway).
    if (typeof e !== 'object' || e === null || typeof e.spec !== 'object') return;
    const key = `${e.spec.chip ?? ''}|${String(e.spec.line)}`;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `line ${e.tag} is given twice`, path: [i] });
    seen.add(key);
  });
}

export const gpioConfigSchema = z.strictObject({
  type: z.literal('gpio'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(60),
  inputs: z.array(gpioInputSchema).min(1).max(32).superRefine(checkDistinctLines),
  debounceMs: z.int().min(0).max(5000).default(50),
});
export type GpioConfig = z.infer<typeof gpioConfigSchema>;
type GpioInput = GpioConfig['inputs'][number];

export interface GpioDeps {
  openPin?: PinOpener;
  /** Where to look for GPIO (tests point it at fixture trees and fake tools). */
  gpio?: Omit<GpioEnvironment, 'logger'>;
}

export interface GpioCollector extends Collector {
  /** The open lines (tests check their monitor processes). */
  pins(): InputPin[];
}

export function createGpioCollector(config: GpioConfig, ctx: CollectorContext, deps: GpioDeps = {}): GpioCollector {
  const log = ctx.logger;
  let lines: DebouncedLines<GpioInput & LineEntry> | undefined;
  let acc: Accumulator | undefined;
  return {
    async start(a: Accumulator) {
      if (lines !== undefined) return;
      acc = a;
      lines = new DebouncedLines(config.inputs, {
        open: deps.openPin ?? createLineOpener({ logger: log, ...deps.gpio }),
        debounceMs: config.debounceMs,
        logger: log,
        what: 'gpio input',
        onStable: (e, state, at) => acc?.event('gpio_event', { state }, { pin: e.tag, name: e.name }, at),
      });
      await lines.start();
    },
    async gather(a) {
      if (lines === undefined) return;
      const t = Date.now();
      for (const s of lines.states()) {
        const tags = { pin: s.entry.tag, name: s.entry.name };
        // A line that cannot be read is a reading too: dashboards see "no data from the door contact".
        if (s.value === undefined) a.add('gpio', { available: 0 }, tags, t);
        else a.add('gpio', { state: s.value }, tags, t);
      }
      lines.retryFailed();
    },
    pins: () => lines?.pins() ?? [],
    async close() {
      await lines?.close();
      lines = undefined;
    },
  };
}

export const gpioPlugin = defineCollector({
  type: 'gpio',
  configSchema: gpioConfigSchema,
  label: (c) => `gpio:${c.name ?? c.inputs.map((i) => i.name).join(',')}`,
  writes: [
    writes('gpio', { tags: ['pin', 'name'], fields: ['state', 'available'] }),
    writes('gpio_event', { tags: ['pin', 'name'], fields: ['state'], event: true }),
  ],
  create: (config, ctx) => createGpioCollector(config, ctx),
});
