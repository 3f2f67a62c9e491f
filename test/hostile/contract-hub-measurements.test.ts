// Issue 9 item 6: an agent writes the hub's own measurements. Before: a forged `agent` point with
// online=false, forged `alert`, `delivery` and `site_info` rows were stored, and a newline in a tag value
// started a line of any measurement; an agent could also write `agent uptime_s=…` itself. Now all are
// refused per point (the batch's valid points are stored), counted by reason, and the bystander is
// unharmed. The agent's self-report arrives as `agent_report` and is stored as `agent`, the same point
// on a replay.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch, type Point } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { agentView, BYSTANDER_P99_MS, figures, metricWithLabel, publishAll, queryCount, queryRows } from '../../testkit/contract-kit.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 3 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('forged agent/alert/delivery/site_info points and newline-injected lines are refused; the rest is stored, agent_report as agent', async () => {
  const [attacker, bystanderAgent, victim] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined || victim === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const T = Date.now() - 12_345;
  const report: Point = { m: 'agent_report', t: T + 3, fields: { uptime_s: 777, outbox_depth: 2, dropped_total: 1 } };
  const forged: Batch = {
    seq: 1,
    sentAt: Date.now(),
    points: [
      { m: 'agent', t: T, fields: { online: false } },
      // The self-report's fields, but under the hub's name: refused like any hub measurement.
      { m: 'agent', t: T + 4, fields: { uptime_s: 424_242, outbox_depth: 0, dropped_total: 0 } },
      { m: 'alert', t: T, tags: { rule: 'forged', severity: 'critical' }, fields: { state: 'firing', value: 1 } },
      { m: 'delivery', t: T, fields: { late_points: 999 } },
      { m: 'site_info', t: T, fields: { name: 'forged', lat: 1, lon: 1 } },
      { m: 'net_probe', t: T, tags: { target: 'x\nalert', method: 'tcp' }, fields: { up: 1 } },
      { m: 'net_probe', t: T + 1, tags: { target: `x\ndelivery,site=${victim.site}`, method: 'tcp' }, fields: { up: 1 } },
      { m: 'net_probe', t: T + 2, tags: { target: 'x\u0085y', method: 'tcp' }, fields: { up: 1 } },
      { m: 'host', t: T, fields: { cpu_pct: 7 } },
      report,
    ],
  };
  // The same report again in a later batch (a replay after a lost PUBACK): the identical point, stored once.
  const replay: Batch = { seq: 2, sentAt: Date.now(), late: true, points: [report] };
  const topic = telemetryTopic(attacker.site, attacker.agent);
  const sent = await publishAll(stack, attacker, [{ topic, payload: JSON.stringify(forged) }, { topic, payload: JSON.stringify(replay) }], { inflight: 1 });
  await new Promise((r) => setTimeout(r, 1500));
  const stored = {
    agentOffline: await queryCount(stack, `SELECT count(online) FROM agent WHERE site='${attacker.site}' AND time = ${T}ms`),
    alert: await queryCount(stack, `SELECT count(state) FROM alert WHERE rule='forged'`),
    injectedAlert: await queryCount(stack, `SELECT count(up) FROM alert`),
    delivery: await queryCount(stack, `SELECT count(late_points) FROM delivery WHERE time = ${T}ms`),
    injectedDelivery: await queryCount(stack, `SELECT count(up) FROM delivery`),
    siteInfo: await queryCount(stack, `SELECT count(lat) FROM site_info WHERE time = ${T}ms`),
    host: await queryCount(stack, `SELECT count(cpu_pct) FROM host WHERE site='${attacker.site}' AND time = ${T}ms`),
    agentUptimeForged: await queryCount(stack, `SELECT count(uptime_s) FROM agent WHERE site='${attacker.site}' AND time = ${T + 4}ms`),
    agentReportAsAgent: await queryCount(stack, `SELECT count(uptime_s) FROM agent WHERE site='${attacker.site}' AND agent='${attacker.agent}' AND time = ${T + 3}ms`),
    agentReportUnderOwnName: await queryCount(stack, `SELECT count(*) FROM agent_report`),
  };
  const reportRows = await queryRows(stack, `SELECT uptime_s, outbox_depth, dropped_total FROM agent WHERE site='${attacker.site}' AND time = ${T + 3}ms`);
  const r = await b.finish();
  const refusedHub = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'hub_measurement');
  const refusedCtl = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'control_char');
  const view = await agentView(stack, attacker);
  figures('item6-hub-measurements', { ...stored, refusedHub, refusedCtl, bystanderP99Ms: r.p99Ms });

  expect(sent.acked).toBe(2);
  expect(stored).toEqual({ agentOffline: 0, alert: 0, injectedAlert: 0, delivery: 0, injectedDelivery: 0, siteInfo: 0, host: 1, agentUptimeForged: 0, agentReportAsAgent: 1, agentReportUnderOwnName: 0 });
  expect(reportRows.map((row) => row.slice(1))).toEqual([[777, 2, 1]]);
  expect(refusedHub).toBe(5);
  expect(refusedCtl).toBe(3);
  expect(view?.problems).toMatchObject({ refusedPoints: { hub_measurement: 5, control_char: 3 } });
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
