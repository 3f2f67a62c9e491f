// Issue 9 item 7 (retained): retained messages were unbounded, +200 MiB of hub memory from one agent
// through `cmd-result/{any id}` and a retain flag on telemetry. Now retain is honoured on `status` only
// (one message per agent, at most 4 KiB), cmd-result is accepted only for ids the hub issued (none
// today: dropped and counted), and the agent's bytes budget holds then refuses the flood.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { BYSTANDER_P99_MS, figures, hubRssMiB, metricWithLabel, publishAll } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const ATTACK_MS = 15_000;
const TARGET_BYTES = 200 * 1024 * 1024;

it('200 MiB of retained messages from one agent are impossible', async () => {
  const [attacker, bystanderAgent] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = hubRssMiB(stack);
  const chunk = JSON.stringify({ id: 'x', ok: true, at: Date.now(), result: 'r'.repeat(500 * 1024) });
  const n = Math.ceil(TARGET_BYTES / chunk.length);
  const base = `ioc/v1/${attacker.site}/${attacker.agent}`;
  const telemetry: Batch = { seq: 1, sentAt: Date.now(), points: [{ m: 'host', t: Date.now(), fields: { cpu_pct: 1 } }] };
  const messages = function* (): Generator<{ topic: string; payload: string; retain: boolean }> {
    yield { topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify(telemetry), retain: true };
    for (let i = 0; i < n; i++) yield { topic: `${base}/cmd-result/id-${i}`, payload: chunk, retain: true };
  };
  const started = Date.now();
  const attack = await publishAll(stack, attacker, messages(), { inflight: 8, stopAt: started + ATTACK_MS, timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = hubRssMiB(stack);
  const r = await b.finish();
  const retainRefused = await metricWithLabel(stack, 'ioc_hub_retain_refused_total');
  const cmdResultRefused = await metricWithLabel(stack, 'ioc_hub_cmd_result_refused_total');
  const ackedMiB = ((attack.acked - 1) * chunk.length) / 1024 / 1024;
  figures('item7-retained', { attackMs: Date.now() - started, acked: attack.acked, refused: attack.closed, ackedMiB: Math.round(ackedMiB), rssBeforeMiB: Math.round(rssBefore), rssAfterMiB: Math.round(rssAfter), retainRefused, cmdResultRefused, bystanderP99Ms: r.p99Ms });

  expect(retainRefused).toBeGreaterThanOrEqual(attack.acked);
  expect(cmdResultRefused).toBe(attack.acked - 1);
  expect(ackedMiB).toBeLessThan(50); // the bytes budget: 2 MiB burst + 1 MiB/s
  expect(rssAfter - rssBefore).toBeLessThan(60);
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
