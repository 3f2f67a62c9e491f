// Issue 9 item 6: an agent writes the hub's own measurements. Before: a forged `agent` point with
// online=false, forged `alert`, `delivery` and `site_info` rows were stored, and a newline in a tag value
// started a line of any measurement. Now all are refused per point (the batch's valid points are
// stored), counted by reason, and the bystander is unharmed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../harness/bystander.ts';
import { startStack, type Stack } from '../harness/stack.ts';
import { agentView, BYSTANDER_P99_MS, figures, metricWithLabel, publishAll, queryCount } from './contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 3 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('forged agent/alert/delivery/site_info points and newline-injected lines are refused; the rest is stored', async () => {
  const [attacker, bystanderAgent, victim] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined || victim === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const T = Date.now() - 12_345;
  const forged: Batch = {
    seq: 1,
    sentAt: Date.now(),
    points: [
      { m: 'agent', t: T, fields: { online: false } },
      { m: 'alert', t: T, tags: { rule: 'forged', severity: 'critical' }, fields: { state: 'firing', value: 1 } },
      { m: 'delivery', t: T, fields: { late_points: 999 } },
      { m: 'site_info', t: T, fields: { name: 'forged', lat: 1, lon: 1 } },
      { m: 'net_probe', t: T, tags: { target: 'x\nalert', method: 'tcp' }, fields: { up: 1 } },
      { m: 'net_probe', t: T + 1, tags: { target: `x\ndelivery,site=${victim.site}`, method: 'tcp' }, fields: { up: 1 } },
      { m: 'net_probe', t: T + 2, tags: { target: 'x\u0085y', method: 'tcp' }, fields: { up: 1 } },
      { m: 'host', t: T, fields: { cpu_pct: 7 } },
    ],
  };
  const sent = await publishAll(stack, attacker, [{ topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify(forged) }]);
  await new Promise((r) => setTimeout(r, 1500));
  const stored = {
    agentOffline: await queryCount(stack, `SELECT count(online) FROM agent WHERE site='${attacker.site}' AND time = ${T}ms`),
    alert: await queryCount(stack, `SELECT count(state) FROM alert WHERE rule='forged'`),
    injectedAlert: await queryCount(stack, `SELECT count(up) FROM alert`),
    delivery: await queryCount(stack, `SELECT count(late_points) FROM delivery WHERE time = ${T}ms`),
    injectedDelivery: await queryCount(stack, `SELECT count(up) FROM delivery`),
    siteInfo: await queryCount(stack, `SELECT count(lat) FROM site_info WHERE time = ${T}ms`),
    host: await queryCount(stack, `SELECT count(cpu_pct) FROM host WHERE site='${attacker.site}' AND time = ${T}ms`),
  };
  const r = await b.finish();
  const refusedHub = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'hub_measurement');
  const refusedCtl = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'control_char');
  const view = await agentView(stack, attacker);
  figures('item6-hub-measurements', { ...stored, refusedHub, refusedCtl, bystanderP99Ms: r.p99Ms });

  expect(sent.acked).toBe(1);
  expect(stored).toEqual({ agentOffline: 0, alert: 0, injectedAlert: 0, delivery: 0, injectedDelivery: 0, siteInfo: 0, host: 1 });
  expect(refusedHub).toBe(4);
  expect(refusedCtl).toBe(3);
  expect(view?.problems).toMatchObject({ refusedPoints: { hub_measurement: 4, control_char: 3 } });
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
