// Issue 9 item 7 (spool): during an InfluxDB outage one agent floods the spool. Before: past the spool's
// size the oldest batches were dropped, other agents' acknowledged batches among them (lost: the agents
// had deleted them on PUBACK). Now each agent has a spool share (budgets.spoolShareBytes): past it its
// batches are refused before the ack, and a full spool refuses rather than evicts, so every
// acknowledged bystander batch is in InfluxDB once it is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InfluxdProcess } from '../../testkit/influxd.ts';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { waitUntil } from '../../testkit/wait.ts';
import { BYSTANDER_P99_MS, figures, metricWithLabel, publishAll } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2, hubYaml: ['spool:', '  maxBytes: 16777216', 'budgets:', '  spoolShareBytes: 2097152'].join('\n') });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const OUTAGE_MS = 20_000;

it('one agent flooding the spool during an InfluxDB outage evicts none of another agent’s acknowledged batches', async () => {
  const [attacker, bystanderAgent] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent, ackTimeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 1000));
  const { dir, port } = stack.influx;
  await stack.influx.stop();
  const outageEnd = Date.now() + OUTAGE_MS;
  let seq = 0;
  let t = Date.now() - 3_600_000;
  const flood = function* (): Generator<{ topic: string; payload: string }> {
    for (;;) {
      const points = Array.from({ length: 4000 }, (_, i) => ({ m: 'net_probe', t: t + i, tags: { target: `a-${i % 50}`, method: 'tcp' }, fields: { up: 1, rtt_ms: i % 100 } }));
      t += 4000;
      const batch: Batch = { seq: ++seq, sentAt: Date.now(), points };
      yield { topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify(batch) };
    }
  };
  const attack = await publishAll(stack, attacker, flood(), { inflight: 4, stopAt: outageEnd, timeoutMs: 20_000 });
  const spoolPeak = (await stack.metrics()).get('ioc_hub_spool_bytes') ?? 0;
  while (Date.now() < outageEnd) await new Promise((r) => setTimeout(r, 200));
  stack.influx = await InfluxdProcess.start({ dir, port });
  await waitUntil('spool drained', async () => ((await stack.metrics()).get('ioc_hub_spool_depth') ?? 1) === 0, 90_000);
  const r = await b.finish();
  const m = await stack.metrics();
  const spoolRefused = await metricWithLabel(stack, 'ioc_hub_budget_hits_total', 'spool_refused');
  figures('item7-spool', { attackBatches: seq, attackAcked: attack.acked, attackRefused: attack.closed, spoolPeakBytes: spoolPeak, spoolDropped: m.get('ioc_hub_spool_dropped_total') ?? 0, spoolRefused, bystanderAcked: r.pointsAcked, bystanderStored: r.pointsStored, bystanderP99Ms: r.p99Ms });

  expect(spoolRefused).toBeGreaterThan(0);
  expect(m.get('ioc_hub_spool_dropped_total') ?? 0).toBe(0);
  expect(r.sent).toBeGreaterThan(100);
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 240_000);
