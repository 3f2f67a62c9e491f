import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.ts';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { createDisplayCollector, displayConfigSchema, numberAt } from './display.ts';
import { createQueueCollector, queueConfigSchema, type QueueCollector } from './queue.ts';

// A display with an HTTP status endpoint, and the real queue collector as the source of truth.
let shown = 5;
let displayUp = true;
let display: Server;
let displayUrl = '';
let queue: QueueCollector;
let queueUrl = '';

beforeAll(async () => {
  display = createServer((req, res) => {
    if (!displayUp) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: { number: shown } }));
  });
  await new Promise<void>((r) => display.listen(0, '127.0.0.1', () => r()));
  const a = display.address();
  displayUrl = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/status`;
  const port = await freePort();
  queue = createQueueCollector(queueConfigSchema.parse({ type: 'queue', listen: { port } }), { logger: silentLogger() });
  await queue.start?.(new RecordingAccumulator());
  queueUrl = `http://127.0.0.1:${port}/v1/queue`;
  for (const n of [5, 6]) queue.model.apply({ type: 'issued', counter: 'c1', number: n });
  queue.model.apply({ type: 'called', counter: 'c1' });
});
afterAll(async () => {
  await queue.close?.();
  await new Promise<void>((r) => display.close(() => r()));
});

describe('display collector', () => {
  it('reports alive, the shown number, and frozen only after the threshold', async () => {
    let t = Date.now();
    const c = createDisplayCollector(
      displayConfigSchema.parse({ type: 'display', display: 'tv-1', url: displayUrl, numberField: 'state.number', queueUrl, counter: 'c1', frozenAfterS: 60 }),
      { logger: silentLogger() },
      { now: () => t },
    );
    const acc = new RecordingAccumulator();
    const signal = new AbortController().signal;
    await c.gather(acc, signal);
    expect(acc.of('display')[0]?.fields).toEqual({ alive: 1, last_seen_s: 0, result: 'ok', shown_number: 5, expected_number: 5, frozen: 0 });

    queue.model.apply({ type: 'called', counter: 'c1' }); // queue moves to 6, the display stays on 5
    await c.gather(acc, signal);
    expect(acc.of('display')[1]?.fields).toMatchObject({ shown_number: 5, expected_number: 6, frozen: 0 });
    t += 61_000;
    await c.gather(acc, signal);
    expect(acc.of('display')[2]?.fields).toMatchObject({ frozen: 1 });
    expect(acc.of('display_event').map((e) => [e.channel, e.tags?.type])).toEqual([['event', 'frozen']]);

    displayUp = false;
    t += 30_000;
    await c.gather(acc, signal);
    expect(acc.of('display')[3]?.fields).toMatchObject({ alive: 0, last_seen_s: 30, result: 'bad_status' });
    expect(acc.of('display_event').map((e) => e.tags?.type)).toEqual(['frozen', 'lost']);
    displayUp = true;
    shown = 6;
    await c.gather(acc, signal);
    expect(acc.of('display')[4]?.fields).toMatchObject({ alive: 1, frozen: 0 });
    expect(acc.of('display_event').map((e) => e.tags?.type)).toEqual(['frozen', 'lost', 'back', 'unfrozen']);
  });

  it('an unreachable display is a reading', async () => {
    const port = await freePort();
    const c = createDisplayCollector(displayConfigSchema.parse({ type: 'display', display: 'tv-2', url: `http://127.0.0.1:${port}/` }), { logger: silentLogger() });
    const acc = new RecordingAccumulator();
    await c.gather(acc, new AbortController().signal);
    expect(acc.only().fields).toMatchObject({ alive: 0, result: 'unreachable' });
  });

  it('needs exactly one of url and host; reads nested numbers', () => {
    expect(displayConfigSchema.safeParse({ type: 'display', display: 'x' }).success).toBe(false);
    expect(displayConfigSchema.parse({ type: 'display', display: 'x', host: '10.0.0.9' })).toMatchObject({ frozenAfterS: 120, intervalS: 15 });
    expect(numberAt({ a: { b: '0042' } }, 'a.b')).toBe(42);
    expect(numberAt({ a: [1] }, 'a.0')).toBeUndefined();
  });
});
