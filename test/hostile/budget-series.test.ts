// Issue 9 item 3: one agent writes 100,000 distinct `target` values. Before: InfluxDB's
// max-values-per-tag (100,000) was exhausted for everyone, and every other agent's new probe targets
// were acknowledged and lost. Now the agent's series budget (budgets.seriesPerDay) refuses its new
// series past the budget (counted, in /api/sites), and another agent's new targets are stored.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { agentView, BYSTANDER_P99_MS, figures, metricWithLabel, publishAll, queryCount } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 3 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('100,000 targets from one agent leave another agent’s new targets stored', async () => {
  const [attacker, bystanderAgent, victim] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined || victim === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const t0 = Date.now();
  const batches = function* (): Generator<{ topic: string; payload: string }> {
    for (let k = 0; k < 25; k++) {
      const t = Date.now();
      const batch: Batch = { seq: k + 1, sentAt: t, points: Array.from({ length: 4000 }, (_, i) => ({ m: 'net_probe', t, tags: { target: `t-${k * 4000 + i}`, method: 'tcp' }, fields: { up: 1, rtt_ms: i % 100 } })) };
      yield { topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify(batch) };
    }
  };
  const attack = await publishAll(stack, attacker, batches(), { inflight: 4 });
  const attackMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const victimBatch: Batch = { seq: 1, sentAt: Date.now(), points: Array.from({ length: 50 }, (_, i) => ({ m: 'net_probe', t: Date.now(), tags: { target: `victim-new-${i}`, method: 'icmp' }, fields: { up: 1, rtt_ms: 5 } })) };
  const victimSent = await publishAll(stack, victim, [{ topic: telemetryTopic(victim.site, victim.agent), payload: JSON.stringify(victimBatch) }]);
  await new Promise((r) => setTimeout(r, 1500));
  const victimStored = await queryCount(stack, `SELECT count(rtt_ms) FROM net_probe WHERE site='${victim.site}' AND time > ${t0 - 1000}ms`);
  const attackerStored = await queryCount(stack, `SELECT count(rtt_ms) FROM net_probe WHERE site='${attacker.site}' AND time > ${t0 - 1000}ms`);
  const r = await b.finish();
  const seriesRefused = await metricWithLabel(stack, 'ioc_hub_budget_hits_total', 'series');
  const view = await agentView(stack, attacker);
  figures('item3-100k-targets', { attackAcked: attack.acked, attackRefused: attack.closed, attackMs, attackerStored, victimSent: 50, victimStored, seriesRefused, bystanderP99Ms: r.p99Ms });

  // Past its rate budget some of the attacker's batches are refused unacknowledged (it would resend them).
  expect(attack.acked + attack.closed).toBe(25);
  expect(attack.acked).toBeGreaterThanOrEqual(3);
  expect(victimSent.acked).toBe(1);
  expect(victimStored).toBe(50);
  expect(attackerStored).toBe(2000); // budgets.seriesPerDay
  expect(seriesRefused).toBe(attack.acked * 4000 - 2000);
  expect(view?.problems).toMatchObject({ refusedPoints: { series_budget: seriesRefused }, budgetHits: { series: seriesRefused } });
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
