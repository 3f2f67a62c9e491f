import { describe, expect, it } from 'vitest';
import { Ingest } from './ingest.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import { SinkError, type HubPoint, type Sink } from './sink.ts';

class FakeSink implements Sink {
  readonly writes: HubPoint[][] = [];
  inflight = 0;
  maxInflight = 0;
  failNext: Error | undefined;
  delayMs = 5;
  async write(points: readonly HubPoint[]): Promise<void> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.inflight--;
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail !== undefined) throw fail;
    this.writes.push([...points]);
  }
}

function points(n: number, base = 0): HubPoint[] {
  return Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: { site: 's' }, fields: { v: i }, timestamp: 1_700_000_000_000 + base + i }));
}

function makeIngest(sink: Sink, over: Partial<ConstructorParameters<typeof Ingest>[0]> = {}): { ingest: Ingest; metrics: HubMetrics } {
  const metrics = new HubMetrics();
  const ingest = new Ingest({ sink, metrics, logger: silentLogger(), batchSize: 10, flushIntervalMs: 20, maxInflightWrites: 2, maxPendingPoints: 1000, ...over });
  return { ingest, metrics };
}

describe('Ingest', () => {
  it('combines small submits into one write after the flush interval', async () => {
    const sink = new FakeSink();
    const { ingest, metrics } = makeIngest(sink);
    await Promise.all([ingest.submit(points(3)), ingest.submit(points(4, 100))]);
    expect(sink.writes.map((w) => w.length)).toEqual([7]);
    expect(metrics.pointsWritten.get()).toBe(7);
    expect(metrics.writeLatency.observations).toBe(1);
  });

  it('splits large submits into bounded batches and keeps writes in flight bounded', async () => {
    const sink = new FakeSink();
    const { ingest } = makeIngest(sink);
    await Promise.all([ingest.submit(points(25)), ingest.submit(points(25, 100)), ingest.submit(points(5, 200))]);
    expect(sink.writes.every((w) => w.length <= 10)).toBe(true);
    expect(sink.writes.flat().length).toBe(55);
    expect(sink.maxInflight).toBeLessThanOrEqual(2);
  });

  it('rejects every submitter of a failed write, and acks points the store refused', async () => {
    const sink = new FakeSink();
    const { ingest, metrics } = makeIngest(sink);
    sink.failNext = new SinkError('down', { retryable: true });
    await expect(ingest.submit(points(3))).rejects.toMatchObject({ code: 'E_SINK_WRITE' });
    expect(metrics.writeErrors.get()).toBe(1);
    sink.failNext = new SinkError('partial write: field type conflict dropped=2', { retryable: false });
    await expect(ingest.submit(points(3))).resolves.toBeUndefined();
    expect(metrics.pointsRejected.get()).toBe(2);
  });

  it('applies back-pressure past maxPendingPoints', async () => {
    const sink = new FakeSink();
    sink.delayMs = 30;
    const { ingest, metrics } = makeIngest(sink, { maxPendingPoints: 10, batchSize: 10 });
    await Promise.all([ingest.submit(points(8)), ingest.submit(points(8, 100)), ingest.submit(points(8, 200))]);
    expect(metrics.backpressureWaits.get()).toBeGreaterThan(0);
    expect(sink.writes.flat().length).toBe(24);
    expect(ingest.pendingPoints).toBe(0);
  });

  it('flushes on stop and refuses later submits', async () => {
    const sink = new FakeSink();
    const { ingest } = makeIngest(sink, { flushIntervalMs: 60_000 });
    const pending = ingest.submit(points(3));
    await ingest.stop();
    await pending;
    expect(sink.writes.flat().length).toBe(3);
    await expect(ingest.submit(points(1))).rejects.toMatchObject({ code: 'E_INGEST_STOPPED' });
    await ingest.stop();
  });

  it('fills batches round-robin over agents: a flood queued first does not delay another agent’s points', async () => {
    const sink = new FakeSink();
    sink.delayMs = 20;
    const { ingest } = makeIngest(sink, { batchSize: 100, maxInflightWrites: 1, maxPendingPoints: 100_000 });
    const flood = Array.from({ length: 20 }, (_, i) => ingest.submit(points(100, i * 1000), 'xa-a/attacker'));
    let bystanderDoneAt = 0;
    let floodDone = 0;
    for (const f of flood) void f.then(() => floodDone++);
    await ingest.submit(points(5, 900_000), 'xa-b/pi-1').then(() => {
      bystanderDoneAt = floodDone;
    });
    await Promise.all(flood);
    // Round-robin: the bystander's points ride in the first or second write, not behind 2,000 flood points.
    expect(bystanderDoneAt).toBeLessThanOrEqual(2);
    const first = sink.writes.findIndex((w) => w.some((p) => p.timestamp >= 1_700_000_900_000));
    expect(first).toBeLessThanOrEqual(1);
  });

  it('bounds each agent’s pending points: the flooding agent waits, another agent does not', async () => {
    const sink = new FakeSink();
    sink.delayMs = 30;
    const { ingest, metrics } = makeIngest(sink, { batchSize: 100, maxInflightWrites: 1, maxPendingPoints: 100_000, maxPendingPointsPerKey: 200 });
    const flood = Array.from({ length: 10 }, (_, i) => ingest.submit(points(100, i * 1000), 'xa-a/attacker'));
    await new Promise((r) => setTimeout(r, 5));
    expect(ingest.pendingOf('xa-a/attacker')).toBeLessThanOrEqual(200);
    const started = performance.now();
    await ingest.submit(points(5, 900_000), 'xa-b/pi-1');
    expect(performance.now() - started).toBeLessThan(200);
    expect(metrics.backpressureWaits.get()).toBeGreaterThan(0);
    await Promise.all(flood);
    expect(sink.writes.flat().length).toBe(1005);
  });

  it('tells onRejected about points the sink refused for good, and still acknowledges', async () => {
    const sink = new FakeSink();
    const rejected: number[] = [];
    const { ingest } = makeIngest(sink, { onRejected: (pts) => rejected.push(pts.length) });
    sink.failNext = new SinkError('partial write: field type conflict dropped=2', { retryable: false });
    await ingest.submit(points(4));
    expect(rejected).toEqual([4]);
  });
});
