import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import type { HubPoint } from '../write/sink.ts';
import { coalesce, influxDurationMs, RollupBackfill } from './rollup-backfill.ts';

const NOW = Date.parse('2026-03-10T12:34:56Z');
const M = 60_000;
const H = 3_600_000;
const schema = { database: 'ioc', sourceRp: 'raw' };
const host = (t: number, measurement = 'host'): HubPoint => ({ measurement, tags: { site: 'xa-a', agent: 'pi-1' }, fields: { cpu_pct: 1 }, timestamp: t });

function setup(opts: { maxWindows?: number; fail?: number } = {}) {
  const queries: string[] = [];
  let failures = opts.fail ?? 0;
  const influx = {
    query: async (q: string) => {
      if (failures > 0) {
        failures--;
        throw new Error('influx away');
      }
      queries.push(q);
      return [];
    },
  } as unknown as ConstructorParameters<typeof RollupBackfill>[0]['influx'];
  const clock = { t: NOW };
  const b = new RollupBackfill({ influx, schema, logger: silentLogger(), debounceMs: 10, maxDelayMs: 50, now: () => clock.t, ...(opts.maxWindows === undefined ? {} : { maxWindows: opts.maxWindows }) });
  return { b, queries, clock };
}

/** The time range of each recomputation query, per rollup. */
function ranges(queries: string[]): [string, number, number][] {
  return queries.map((q) => {
    const m = /INTO "ioc"\."(rollup_1[mh])".*time >= (\d+)ms AND time < (\d+)ms GROUP BY time\((1[mh])\)/.exec(q);
    if (m === null) throw new Error(`unexpected query ${q}`);
    return [m[1] ?? '', Number(m[2]), Number(m[3])];
  });
}

describe('rollup backfill', () => {
  it('reads InfluxQL durations', () => {
    expect([influxDurationMs('15m'), influxDurationMs('3h'), influxDurationMs('1d')]).toEqual([15 * M, 3 * H, 24 * H]);
    expect(() => influxDurationMs('soon')).toThrow(/duration/);
  });

  it('coalesces consecutive buckets into ranges, cut at the most per query', () => {
    expect(coalesce([3 * M, 0, M, 5 * M], M, 10)).toEqual([
      { start: 0, end: 2 * M, buckets: 2 },
      { start: 3 * M, end: 4 * M, buckets: 1 },
      { start: 5 * M, end: 6 * M, buckets: 1 },
    ]);
    expect(coalesce([0, M, 2 * M], M, 2).map((w) => w.buckets)).toEqual([2, 1]);
  });

  it('leaves what the continuous queries still recompute, and measurements they do not roll up', async () => {
    const { b, queries } = setup();
    b.touch([host(NOW), host(NOW - 10 * M), host(NOW - 2 * H), host(NOW - 3 * H, 'display')]);
    // 10 min old: both CQs still see it; 2 h old: the 1-minute CQ (15 min) no longer, the 1-hour CQ (3 h) does.
    expect(b.queued.get('rollup_1m')).toBe(1);
    expect(b.queued.get('rollup_1h')).toBe(0);
    await b.flush();
    const bucket = Math.floor((NOW - 2 * H) / M) * M;
    expect(ranges(queries)).toEqual([['rollup_1m', bucket, bucket + M]]);
    await b.stop();
  });

  it('recomputes exactly the buckets two-day-old points touched, coalesced, after the debounce', async () => {
    const { b, queries } = setup();
    const day2 = Math.floor((NOW - 2 * 24 * H) / H) * H; // an hour two days ago
    // Readings every 30 s over 10:00–10:05 and 11:58–12:00 of that day: two runs of minutes, two hours.
    const points: HubPoint[] = [];
    for (let t = day2; t < day2 + 5 * M; t += 30_000) points.push(host(t));
    for (let t = day2 + H + 58 * M; t < day2 + 2 * H; t += 30_000) points.push(host(t));
    b.touch(points.slice(0, 7));
    b.touch(points.slice(7)); // the same buckets again: queued once
    expect(b.pending).toBe(5 + 2 + 2);
    expect(queries).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(ranges(queries)).toEqual([
      ['rollup_1m', day2, day2 + 5 * M],
      ['rollup_1m', day2 + H + 58 * M, day2 + 2 * H],
      ['rollup_1h', day2, day2 + 2 * H],
    ]);
    expect([b.recomputed.get('rollup_1m'), b.recomputed.get('rollup_1h'), b.pending]).toEqual([7, 2, 0]);
    await b.stop();
  });

  it('bounds the queue: buckets past maxWindows are dropped and counted', async () => {
    const { b } = setup({ maxWindows: 3 });
    b.touch([0, 1, 2, 3, 4].map((i) => host(NOW - 2 * 24 * H + i * M)));
    expect(b.pending).toBe(3);
    expect(b.dropped.total()).toBe(3); // two more minutes and the hour
    await b.stop();
  });

  it('queues a failed window again and retries it', async () => {
    const { b, queries } = setup({ fail: 1 });
    b.touch([host(NOW - 2 * 24 * H)]);
    await b.flush();
    expect(b.failures.get()).toBe(1);
    expect(b.pending).toBe(2);
    await b.flush();
    expect(ranges(queries).map((r) => r[0])).toEqual(['rollup_1m', 'rollup_1h']);
    expect(b.pending).toBe(0);
    await b.stop();
  });
});
