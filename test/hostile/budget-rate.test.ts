// Issue 9 item 7 (starvation): one agent publishes 4,000-point batches as fast as the hub takes them.
// Before: another agent's PUBACK went from ~130 ms to seconds (its batches queued behind the flood, the
// event loop busy decoding it). Now the flooding agent's points and bytes budgets hold its PUBACKs
// (only its own socket waits) and refuse what a hold cannot absorb, ingest queues are fair per agent,
// and the bystander keeps its PUBACK p99.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { agentView, BYSTANDER_P99_MS, figures, metricWithLabel, publishAll } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const ATTACK_MS = 15_000;

it('one agent flooding the hub does not starve another agent’s PUBACKs', async () => {
  const [attacker, bystanderAgent] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  await new Promise((r) => setTimeout(r, 1000));
  let seq = 0;
  let t = Date.now() - 600_000;
  const flood = function* (): Generator<{ topic: string; payload: string }> {
    for (;;) {
      const points = Array.from({ length: 4000 }, (_, i) => ({ m: 'net_probe', t: t + i, tags: { target: `f-${i % 100}`, method: 'tcp' }, fields: { up: 1, rtt_ms: i % 100 } }));
      t += 4000;
      yield { topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify({ seq: ++seq, sentAt: Date.now(), points } satisfies Batch) };
    }
  };
  const started = Date.now();
  const attack = await publishAll(stack, attacker, flood(), { inflight: 32, stopAt: started + ATTACK_MS, timeoutMs: 20_000 });
  const r = await b.finish();
  const held = await metricWithLabel(stack, 'ioc_hub_budget_hits_total', 'rate_held');
  const refused = await metricWithLabel(stack, 'ioc_hub_budget_hits_total', 'rate_refused');
  const view = await agentView(stack, attacker);
  const m = await stack.metrics();
  const loopMaxMs = m.get('ioc_hub_event_loop_delay_max_ms') ?? Number.NaN;
  const writeMeanMs = Math.round(((m.get('ioc_hub_write_latency_seconds_sum') ?? 0) / Math.max(1, m.get('ioc_hub_write_latency_seconds_count') ?? 0)) * 1000);
  const attackPointsPerS = Math.round((attack.acked * 4000) / ((Date.now() - started) / 1000));
  figures('item7-starvation', { attackBatches: seq, attackAcked: attack.acked, attackRefused: attack.closed, attackPointsPerS, held, refused, bystanderP50Ms: r.p50Ms, bystanderP99Ms: r.p99Ms, bystanderMaxMs: r.maxMs, loopMaxMs, writeMeanMs });

  expect(held + refused).toBeGreaterThan(0);
  expect(view?.problems).toMatchObject({ budgetHits: expect.objectContaining({}) as unknown });
  expect(attackPointsPerS).toBeLessThan(15_000); // 5,000 points/s and 1 MiB/s budgets, plus the bursts
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
