// A field-type conflict that InfluxDB reports (HTTP 400 partial write) after the hub acknowledged the
// batch: here the conflicting type is already in the shard (written straight to InfluxDB, as an older
// hub without the contract would have). Before: counted in ioc_hub_points_rejected_total only, and
// logged as a warning. Now also an alarm by reason (ioc_hub_influx_rejected_points_total{reason}), an
// error log, and charged to the agent whose points were refused (its /api/sites entry).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { waitUntil } from '../../testkit/wait.ts';
import { agentView, BYSTANDER_P99_MS, figures, metricWithLabel, publishAll } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('InfluxDB refusing acknowledged points is an alarm, charged to the agent, never silent', async () => {
  const [victim, bystanderAgent] = stack.agents;
  if (victim === undefined || bystanderAgent === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  await waitUntil('database', async () => (await fetch(`${stack.influx.url}/write?db=ioc&precision=ms`, { method: 'POST', body: `host,site=elsewhere cpu_pct="text" ${Date.now()}` })).status === 204, 20_000);
  const batch: Batch = { seq: 1, sentAt: Date.now(), points: [{ m: 'host', t: Date.now(), fields: { cpu_pct: 3, mem_pct: 4 } }] };
  const sent = await publishAll(stack, victim, [{ topic: telemetryTopic(victim.site, victim.agent), payload: JSON.stringify(batch) }]);
  const rejected = await waitUntil('rejection counted', async () => {
    const n = await metricWithLabel(stack, 'ioc_hub_influx_rejected_points_total', 'field_type_conflict');
    return n > 0 ? n : undefined;
  }, 10_000).catch(() => 0);
  const view = await agentView(stack, victim);
  const r = await b.finish();
  const log = readFileSync(join(stack.dir, 'hub.log'), 'utf8');
  const problems = view?.problems as { influxRejectedPoints?: number; lastInfluxRejection?: { reason: string } } | undefined | null;
  figures('influx-rejection', { acked: sent.acked, rejectedMetric: rejected, agentRejected: problems?.influxRejectedPoints ?? null, logged: log.includes('InfluxDB refused acknowledged points') });

  expect(sent.acked).toBe(1);
  expect(rejected).toBe(1);
  expect(problems?.influxRejectedPoints).toBe(1);
  expect(problems?.lastInfluxRejection?.reason).toBe('field_type_conflict');
  expect(log).toContain('InfluxDB refused acknowledged points');
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
