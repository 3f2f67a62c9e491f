// Late data reaches the rollups: an agent's late batch of readings two days old goes through the real hub into a
// real influxd, and the hub recomputes exactly the 1-minute and 1-hour buckets it touched (the continuous queries
// recompute only the last 15 min / 3 h). Sentinels in untouched buckets — where raw data exists too, so a
// "since X" recomputation would overwrite them — stay as they were.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../protocol/index.ts';
import { connectAs, endClient } from '../testkit/mqtt-client.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const M = 60_000;
const H = 3_600_000;
let stack: Stack;
let agent: MqttClient | undefined;

async function rows(q: string): Promise<unknown[][]> {
  const body = await stack.influx.query(q, 'ioc');
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.flatMap((s) => s.values ?? []) ?? [];
}

/** One series of /metrics, labels included as written (`name{rollup="rollup_1m"}`). */
async function metric(series: string): Promise<number | undefined> {
  const text = await (await fetch(`${stack.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
const rollup = (name: string, rp: string): Promise<number | undefined> => metric(`${name}{rollup="${rp}"}`);

async function write(rp: string, lines: string[]): Promise<void> {
  const res = await fetch(`${stack.influx.url}/write?db=ioc&rp=${rp}&precision=ms`, { method: 'POST', body: lines.join('\n'), signal: AbortSignal.timeout(10_000) });
  if (res.status !== 204) throw new Error(`write ${rp}: HTTP ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  stack = await startStack({ agents: 1, hubYaml: ['rollups:', '  debounce: 300ms', '  maxDelay: 3s'].join('\n') });
}, 120_000);

afterAll(async () => {
  if (agent !== undefined) await endClient(agent);
  await stack?.stop();
});

describe('rollups after a late batch', () => {
  it('the 1-minute and 1-hour rollups of the hours a two-day-old batch touched contain it; untouched buckets are not rewritten', async () => {
    const a = stack.agents[0];
    if (a === undefined) throw new Error('no agent');
    const hour = Math.floor((Date.now() - 2 * 24 * H) / H) * H; // an hour two days ago
    const tags = `agent=${a.agent},province=phu-tho,site=${a.site}`;
    await waitUntil('the rollup retention policies', async () => (await rows('SHOW RETENTION POLICIES')).some((r) => r[0] === 'rollup_1h'), 20_000, 200);

    // Untouched: the hour before, with raw readings (mean 10) and sentinels in both rollups (999).
    const before = hour - H;
    await write('raw', [`host,${tags} cpu_pct=10 ${before + 5 * M}`, `host,${tags} cpu_pct=10 ${before + 6 * M}`]);
    await write('rollup_1h', [`host,${tags} mean_cpu_pct=999 ${before}`]);
    await write('rollup_1m', [`host,${tags} mean_cpu_pct=999 ${before + 5 * M}`]);

    // The late batch: every 5 minutes over two hours, cpu_pct = minute index (hour 1: 0..55, hour 2: 60..115).
    const points = Array.from({ length: 24 }, (_, i) => ({ m: 'host', t: hour + i * 5 * M, fields: { cpu_pct: i * 5 } }));
    agent = await connectAs(stack.mqttUrl, `${a.site}/${a.agent}`, a.token);
    await agent.publishAsync(telemetryTopic(a.site, a.agent), JSON.stringify({ seq: 1, sentAt: Date.now(), late: true, points }), { qos: 1 });

    await waitUntil('the touched buckets recomputed', async () => ((await rollup('ioc_hub_rollup_windows_recomputed_total', 'rollup_1m')) ?? 0) >= 24 && ((await rollup('ioc_hub_rollup_windows_recomputed_total', 'rollup_1h')) ?? 0) >= 2, 30_000, 200);
    // Exactly the buckets touched: 24 minutes (one reading each), 2 hours; none dropped, none left.
    expect(await rollup('ioc_hub_rollup_windows_queued_total', 'rollup_1m')).toBe(24);
    expect(await rollup('ioc_hub_rollup_windows_queued_total', 'rollup_1h')).toBe(2);
    expect(await rollup('ioc_hub_rollup_windows_recomputed_total', 'rollup_1m')).toBe(24);
    expect(await rollup('ioc_hub_rollup_windows_recomputed_total', 'rollup_1h')).toBe(2);
    expect((await stack.metrics()).get('ioc_hub_rollup_windows_dropped_total') ?? 0).toBe(0);
    expect(await metric('ioc_hub_rollup_windows_pending')).toBe(0);

    const where = `"site" = '${a.site}' AND time >= ${before}ms AND time < ${hour + 2 * H}ms`;
    const hourly = await rows(`SELECT "mean_cpu_pct" FROM "ioc"."rollup_1h"."host" WHERE ${where}`);
    expect(hourly).toEqual([
      [before, 999],
      [hour, 27.5],
      [hour + H, 87.5],
    ]);
    const minutes = await rows(`SELECT "mean_cpu_pct" FROM "ioc"."rollup_1m"."host" WHERE ${where}`);
    expect(minutes).toEqual([[before + 5 * M, 999], ...points.map((p) => [p.t, p.fields.cpu_pct])]);
  }, 60_000);
});
