// gpio: digital inputs (door contact, mains power-fail, smoke detector): debounced edges as events, and the periodic state (gpio, gpio_event).
import { z } from 'zod';
import { Debouncer } from '../gpio/debounce.ts';
import { openOnoffPin, type InputPin, type PinOpener } from '../gpio/pin.ts';
import { collectorBaseShape, type Accumulator, type Collector, type CollectorContext, type CollectorPlugin } from './types.ts';

export const gpioConfigSchema = z.strictObject({
  type: z.literal('gpio'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(60),
  inputs: z
    .array(
      z.strictObject({
        /** BCM GPIO number. */
        pin: z.int().min(0).max(63),
        /** The `name` tag: door, mains, smoke. */
        name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
        /** 1 when the line is low (contacts to ground with a pull-up). */
        activeLow: z.boolean().default(false),
      }),
    )
    .min(1)
    .max(32),
  debounceMs: z.int().min(0).max(5000).default(50),
});
export type GpioConfig = z.infer<typeof gpioConfigSchema>;

export interface GpioDeps {
  openPin?: PinOpener;
}

interface OpenInput {
  pin: InputPin;
  name: string;
  debouncer: Debouncer;
}

export function createGpioCollector(config: GpioConfig, ctx: CollectorContext, deps: GpioDeps = {}): Collector {
  const log = ctx.logger;
  const open: OpenInput[] = [];
  const failed = new Map<number, string>();
  let started = false;
  return {
    async start(acc: Accumulator) {
      if (started) return;
      started = true;
      const opener = deps.openPin ?? openOnoffPin;
      for (const input of config.inputs) {
        let pin: InputPin;
        try {
          pin = await opener(input.pin, { activeLow: input.activeLow });
        } catch (err: unknown) {
          failed.set(input.pin, input.name);
          log.error({ err, pin: input.pin, name: input.name }, 'gpio input unavailable');
          continue;
        }
        const tags = { pin: String(input.pin), name: input.name };
        const debouncer = new Debouncer(await pin.read(), config.debounceMs, (state) => acc.event('gpio_event', { state }, tags));
        pin.watch((v) => debouncer.input(v));
        open.push({ pin, name: input.name, debouncer });
      }
    },
    async gather(acc) {
      const t = Date.now();
      for (const o of open) acc.add('gpio', { state: o.debouncer.value }, { pin: String(o.pin.pin), name: o.name }, t);
      // A pin that could not be opened is a reading too: dashboards see "no data from the door contact".
      for (const [pin, name] of failed) acc.add('gpio', { available: 0 }, { pin: String(pin), name }, t);
    },
    async close() {
      for (const o of open) {
        o.debouncer.stop();
        await o.pin.close();
      }
      open.length = 0;
    },
  };
}

export const gpioPlugin: CollectorPlugin<GpioConfig> = {
  type: 'gpio',
  configSchema: gpioConfigSchema,
  create: (config, ctx) => createGpioCollector(config, ctx),
};
