import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakePinBoard, openOnoffPin } from '../gpio/pin.ts';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../testing/recording-accumulator.ts';
import { createGpioCollector, gpioConfigSchema } from './gpio.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gpio collector', () => {
  it('sends debounced edges as events and the state periodically', async () => {
    const board = new FakePinBoard();
    const c = createGpioCollector(
      gpioConfigSchema.parse({ type: 'gpio', inputs: [{ pin: 5, name: 'door' }, { pin: 6, name: 'mains' }], debounceMs: 20 }),
      { logger: silentLogger() },
      { openPin: board.open },
    );
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    const door = board.get(5);
    door.set(1);
    door.set(0);
    door.set(1); // contact bounce: one opening
    await sleep(60);
    expect(acc.of('gpio_event').map((e) => [e.channel, e.tags, e.fields])).toEqual([['event', { pin: '5', name: 'door' }, { state: 1 }]]);
    door.set(0);
    await sleep(5);
    door.set(1); // shorter than debounceMs: no edge
    await sleep(60);
    expect(acc.of('gpio_event')).toHaveLength(1);
    await c.gather(acc, new AbortController().signal);
    expect(acc.of('gpio').map((r) => [r.tags?.name, r.fields.state, r.channel])).toEqual([
      ['door', 1, 'telemetry'],
      ['mains', 0, 'telemetry'],
    ]);
    await c.close?.();
    expect(door.closed).toBe(true);
  });

  it.skipIf(existsSync('/sys/class/gpio/export'))('without GPIO: a clear error, logged once, and an availability reading', async () => {
    await expect(openOnoffPin(17, { activeLow: false })).rejects.toMatchObject({ code: 'E_GPIO_UNAVAILABLE', message: expect.stringContaining('GPIO') });
    const c = createGpioCollector(gpioConfigSchema.parse({ type: 'gpio', inputs: [{ pin: 17, name: 'smoke' }] }), { logger: silentLogger() });
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    await c.gather(acc, new AbortController().signal);
    expect(acc.only()).toMatchObject({ m: 'gpio', tags: { pin: '17', name: 'smoke' }, fields: { available: 0 } });
    await c.close?.();
  });
});
