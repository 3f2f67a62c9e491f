// The batching policy: a write starts as soon as a slot is free; batches grow only while every slot is busy.
// Timers are faked and never advanced, and the sink's writes are resolved by hand: nothing here waits on a clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ingest } from './ingest.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import type { HubPoint, Sink } from './sink.ts';

/** A sink whose writes stay in flight until the test resolves them. */
class HandSink implements Sink {
  readonly writes: { points: HubPoint[]; resolve: () => void }[] = [];
  write(points: readonly HubPoint[]): Promise<void> {
    return new Promise<void>((resolve) => this.writes.push({ points: [...points], resolve }));
  }
  get sizes(): number[] {
    return this.writes.map((w) => w.points.length);
  }
  /** Finishes write i. */
  finish(i: number): void {
    const w = this.writes[i];
    if (w === undefined) throw new Error(`no write ${i}`);
    w.resolve();
  }
}

function points(n: number, base = 0): HubPoint[] {
  return Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: { site: 's' }, fields: { v: i }, timestamp: 1_700_000_000_000 + base + i }));
}

/** Lets promise callbacks (a finished write, a queued pump) run; no timer fires. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function makeIngest(sink: Sink, over: Partial<ConstructorParameters<typeof Ingest>[0]> = {}): { ingest: Ingest; metrics: HubMetrics } {
  const metrics = new HubMetrics();
  // flushIntervalMs is long on purpose: no write may wait for it.
  const ingest = new Ingest({ sink, metrics, logger: silentLogger(), batchSize: 100, flushIntervalMs: 60_000, maxInflightWrites: 2, maxPendingPoints: 100_000, ...over });
  return { ingest, metrics };
}

describe('Ingest batching: write as soon as there is room', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('with no write in flight, writes a submit at once, without any clock advance', async () => {
    const sink = new HandSink();
    const { ingest, metrics } = makeIngest(sink);
    let acked = false;
    const done = ingest.submit(points(1)).then(() => {
      acked = true;
    });
    await settle();
    expect(sink.sizes).toEqual([1]);
    expect(acked).toBe(false);
    sink.finish(0);
    await done;
    expect(acked).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(metrics.writesStarted.get('slot_free')).toBe(1);
    expect(metrics.writeBatchPoints.observations).toBe(1);
  });

  it('combines submits of the same tick into one write', async () => {
    const sink = new HandSink();
    const { ingest } = makeIngest(sink);
    const all = Promise.all([ingest.submit(points(3)), ingest.submit(points(4, 100), 'xa-a/pi-1')]);
    await settle();
    expect(sink.sizes).toEqual([7]);
    sink.finish(0);
    await all;
  });

  it('while every slot is busy, accumulates points and sends them all in ONE write when a slot frees', async () => {
    const sink = new HandSink();
    const { ingest, metrics } = makeIngest(sink, { maxInflightWrites: 2 });
    const first = ingest.submit(points(1, 0), 'xa-a/pi-1');
    await settle();
    const second = ingest.submit(points(1, 10), 'xa-b/pi-1');
    await settle();
    expect(sink.sizes).toEqual([1, 1]); // both slots busy
    const later: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      later.push(ingest.submit(points(1, 1000 + i), `xa-${i % 3}/pi-1`));
      await settle(); // each in its own tick, as MQTT messages arrive
    }
    expect(sink.sizes).toEqual([1, 1]); // nothing more while no slot is free
    sink.finish(1);
    await settle();
    expect(sink.sizes).toEqual([1, 1, 30]);
    sink.finish(0);
    sink.finish(2);
    await Promise.all([first, second, ...later]);
    expect(metrics.writesStarted.get('slot_free')).toBe(3);
    expect(metrics.writesStarted.get('size_bound')).toBe(0);
    expect(metrics.pointsWritten.get()).toBe(32);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still splits at batchSize, and counts the writes the size bound cut', async () => {
    const sink = new HandSink();
    const { ingest, metrics } = makeIngest(sink, { batchSize: 10, maxInflightWrites: 1 });
    const first = ingest.submit(points(1));
    await settle();
    const queued = [ingest.submit(points(15, 100)), ingest.submit(points(8, 200))];
    await settle();
    expect(sink.sizes).toEqual([1]);
    sink.finish(0);
    await settle();
    expect(sink.sizes).toEqual([1, 10]);
    sink.finish(1);
    await settle();
    expect(sink.sizes).toEqual([1, 10, 10]);
    sink.finish(2);
    await settle();
    expect(sink.sizes).toEqual([1, 10, 10, 3]);
    sink.finish(3);
    await Promise.all([first, ...queued]);
    expect(metrics.writesStarted.get('size_bound')).toBe(2);
    expect(metrics.writesStarted.get('slot_free')).toBe(2);
    expect(metrics.render()).toContain('ioc_hub_writes_started_total{trigger="size_bound"} 2');
    expect(metrics.render()).toContain('ioc_hub_write_batch_points_bucket{le="10"} 4');
  });

  it('keeps fairness across agents: the write that frees a slot carries every agent’s share, not the flood first', async () => {
    const sink = new HandSink();
    const { ingest } = makeIngest(sink, { batchSize: 100, maxInflightWrites: 1 });
    const busy = ingest.submit(points(1, 0), 'xa-c/pi-1');
    await settle();
    const flood = Array.from({ length: 5 }, (_, i) => ingest.submit(points(100, 10_000 + i * 1000), 'xa-a/attacker'));
    await settle();
    const bystander = ingest.submit(points(5, 900_000), 'xa-b/pi-1');
    await settle();
    sink.finish(0);
    await settle();
    const second = sink.writes[1]?.points ?? [];
    expect(second.length).toBe(100);
    // the bystander queued behind 500 flood points rides in the very next write
    expect(second.filter((p) => p.timestamp >= 1_700_000_900_000).length).toBe(5);
    sink.finish(1);
    await bystander;
    for (let i = 2; i < 7; i++) {
      await settle();
      sink.finish(i);
    }
    await Promise.all([busy, ...flood]);
    expect(sink.writes.flatMap((w) => w.points).length).toBe(506);
  });
});
