import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../testkit/free-port.ts';
import { alive, makeFakeGpiod, pi4LineNames } from '../../../testkit/fake-gpiod.ts';
import type { GpiodPin } from '../gpio/gpiod-pin.ts';
import { FakePinBoard } from '../gpio/pin.ts';
import { silentLogger } from '../../logger.ts';
import { RecordingAccumulator } from '../../../testkit/recording-accumulator.ts';
import { createQueueCollector, queueConfigSchema, type QueueCollector } from './queue.ts';

const board = new FakePinBoard();
const acc = new RecordingAccumulator();
let collector: QueueCollector;
let base = '';

beforeAll(async () => {
  const port = await freePort();
  const config = queueConfigSchema.parse({ type: 'queue', listen: { port }, counters: ['c1'], buttons: [{ pin: 17, counter: 'c1' }], debounceMs: 20 });
  collector = createQueueCollector(config, { logger: silentLogger() }, { openPin: board.open });
  await collector.start?.(acc);
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await collector.close?.();
});

async function post(body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}/v1/queue/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: await res.json() };
}

describe('queue collector', () => {
  it('takes events over HTTP and sends each on the event channel', async () => {
    const r = await post(JSON.stringify({ events: [{ type: 'issued', counter: 'c1', number: 7 }, { type: 'issued', counter: 'c1', number: 8 }] }));
    expect(r).toEqual({ status: 202, json: { accepted: 2, rejected: [] } });
    expect((await post(JSON.stringify({ type: 'called', counter: 'c1' }))).status).toBe(202);
    const events = acc.of('queue_event');
    expect(events.map((e) => [e.channel, e.tags?.type, e.fields.number])).toEqual([
      ['event', 'issued', 7],
      ['event', 'issued', 8],
      ['event', 'called', 7],
    ]);
  });

  it('answers bad input with 400 and a clear error, and keeps running', async () => {
    const bad = await post(JSON.stringify({ type: 'called', counter: 'c 1', number: -1 }));
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'E_BAD_EVENT' } });
    expect(JSON.stringify(bad.json)).toContain('counter');
    const notJson = await post('{"type":');
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ error: { code: 'E_BAD_REQUEST' } });
    const empty = await post(JSON.stringify({ type: 'served', counter: 'c9' }));
    expect(empty).toMatchObject({ status: 409, json: { error: { code: 'E_NOTHING_CALLED' } } });
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
  });

  it('a debounced button press calls the next number', async () => {
    const pin = board.get('GPIO17'); // the deprecated `pin: 17` is line GPIO17
    // A bouncing press: only the level that holds for debounceMs counts.
    pin.set(1);
    pin.set(0);
    pin.set(1);
    await new Promise((r) => setTimeout(r, 80));
    pin.set(0);
    await new Promise((r) => setTimeout(r, 80));
    const calls = acc.of('queue_event').filter((e) => e.tags?.type === 'called');
    expect(calls.map((e) => e.fields.number)).toEqual([7, 8]);
    expect(acc.of('queue_event').filter((e) => e.tags?.type === 'served').map((e) => e.fields.number)).toEqual([7]);
  });

  it('gathers per counter and per office', async () => {
    const g = new RecordingAccumulator();
    await collector.gather(g, new AbortController().signal);
    const byCounter = new Map(g.readings.map((r) => [r.tags?.counter, r]));
    expect(byCounter.get('c1')?.fields).toMatchObject({ waiting: 0, issued_total: 2, served_total: 1, current_number: 8 });
    expect(byCounter.get('all')?.fields).toMatchObject({ waiting: 0, issued_total: 2 });
    expect(g.readings.every((r) => r.channel === 'telemetry' && r.m === 'queue')).toBe(true);
  });
});

describe('queue "call next" buttons through the gpiod tools', () => {
  it('two recorded presses (libgpiod 2.x gpiomon, bouncing, active-low with pull-up) call the next two tickets', async () => {
    const fake = await makeFakeGpiod({
      version: '2.1.3',
      chips: { gpiochip0: { label: 'pinctrl-bcm2711', lines: pi4LineNames() } },
      // Released button: the pull-up holds the line high.
      levels: { 'gpiochip0:23': 1 },
      recordings: { 'gpiochip0:23': fileURLToPath(new URL('../gpio/fixtures/gpio-gpiomon-v2-button.txt', import.meta.url)) },
    });
    const config = queueConfigSchema.parse({ type: 'queue', http: false, buttons: [{ line: 'GPIO23', counter: 'quay-3', bias: 'pull-up' }], debounceMs: 50 });
    const rec = new RecordingAccumulator();
    const q = createQueueCollector(config, { logger: silentLogger() }, { gpio: { devDir: fake.devDir, env: fake.env, sysfsDir: join(fake.dir, 'none') } });
    try {
      for (const n of [101, 102, 103]) q.model.apply({ type: 'issued', counter: 'quay-3', number: n });
      await q.start?.(rec);
      await fake.replayed(1);
      const end = Date.now() + 5000;
      while (rec.of('queue_event').filter((e) => e.tags?.type === 'called').length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(rec.of('queue_event').map((e) => [e.tags?.type, e.fields.number])).toEqual([
        ['called', 101],
        ['served', 101],
        ['called', 102],
      ]);
      expect(q.model.snapshot().counters.get('quay-3')).toMatchObject({ waiting: 1, current_number: 102 });
      const mon = (await fake.runs()).find((r) => r.tool === 'gpiomon' && r.args !== undefined && !r.args.includes('--version'));
      expect(mon?.args).toEqual(['--banner', '-C', 'ioc-edge', '-c', 'gpiochip0', '-l', '-b', 'pull-up', '23']);
      const pids = q.pins().map((p) => (p as GpiodPin).pid ?? 0);
      await q.close?.();
      expect(pids.map(alive)).toEqual([false]);
    } finally {
      await q.close?.();
      await fake.cleanup();
    }
  });
});
