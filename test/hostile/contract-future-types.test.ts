// Issue 9 item 2: one batch with string values for `host` fields, one point per day for the past 30 and
// the next 1,000 days. Before: stored, one shard per future day, and every other site's `host` points
// for those days then failed with "field type conflict" (acknowledged and dropped). Now: the contract
// refuses the future points (clock problem of the attacker's site) and the string-typed ones; the other
// site's `host` points for those days are stored, and no shard is created for the future.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { telemetryTopic, type Batch } from '../../protocol/index.ts';
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

const DAY = 86_400_000;

it('future days and string-typed host fields from one agent cost the other site nothing', async () => {
  const [attacker, bystanderAgent, victim] = stack.agents;
  if (attacker === undefined || bystanderAgent === undefined || victim === undefined) throw new Error('agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const now = Date.now();
  // Noon of each day (UTC): one point per day, each in its own daily shard.
  const noon = (d: number): number => Math.floor(now / DAY) * DAY + d * DAY + 12 * 3_600_000 + 123;
  const days = Array.from({ length: 1031 }, (_, i) => i - 30).filter((d) => d !== 0);
  const shardsBefore = (await queryRows(stack, 'SHOW SHARDS')).length;
  const attack: Batch = { seq: 1, sentAt: now, points: days.map((d) => ({ m: 'host', t: noon(d), fields: { cpu_pct: 'pwned', mem_pct: 'x' } })) };
  const sent = await publishAll(stack, attacker, [{ topic: telemetryTopic(attacker.site, attacker.agent), payload: JSON.stringify(attack) }]);
  await new Promise((r) => setTimeout(r, 1500));
  const shardsAfter = (await queryRows(stack, 'SHOW SHARDS')).length;
  // The other site replays its host readings for the past days (late), and sends one now.
  const pastDays = days.filter((d) => d < 0);
  const replay: Batch = { seq: 1, sentAt: Date.now(), late: true, points: pastDays.map((d) => ({ m: 'host', t: noon(d) + 1, fields: { cpu_pct: 12.5, mem_pct: 40 } })) };
  const live: Batch = { seq: 2, sentAt: Date.now(), points: [{ m: 'host', t: Date.now(), fields: { cpu_pct: 10, mem_pct: 41 } }] };
  const victimSent = await publishAll(stack, victim, [replay, live].map((x) => ({ topic: telemetryTopic(victim.site, victim.agent), payload: JSON.stringify(x) })));
  await new Promise((r) => setTimeout(r, 1500));
  const victimStored = await queryCount(stack, `SELECT count(cpu_pct) FROM host WHERE site='${victim.site}' AND time > ${now - 40 * DAY}ms`);
  const attackerStored = await queryCount(stack, `SELECT count(cpu_pct) FROM host WHERE site='${attacker.site}' AND time > ${now - 40 * DAY}ms AND time < ${now + 2000 * DAY}ms`);
  const r = await b.finish();
  const view = await agentView(stack, attacker);
  const refusedFuture = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'clock_future');
  const refusedType = await metricWithLabel(stack, 'ioc_hub_points_refused_total', 'field_type');
  const clockAgents = await metricWithLabel(stack, 'ioc_hub_agents_clock_problem');
  figures('item2-future-and-types', { victimSent: pastDays.length + 1, victimStored, attackerStored, shardsCreatedByAttack: shardsAfter - shardsBefore, refusedFuture, refusedType, bystanderP99Ms: r.p99Ms, bystanderP50Ms: r.p50Ms, bystanderMaxMs: r.maxMs, bystanderSent: r.sent });

  expect(sent.acked).toBe(1); // acknowledged: resending it could never help
  expect(victimSent.acked).toBe(2);
  expect(victimStored).toBe(pastDays.length + 1);
  expect(attackerStored).toBe(0);
  expect(shardsAfter - shardsBefore).toBeLessThanOrEqual(1); // at most the current day's, never one per future day
  expect(refusedFuture).toBe(days.filter((d) => d > 0).length);
  expect(refusedType).toBe(pastDays.length);
  expect(view?.clockProblem).toBe(true);
  expect(view?.problems).toMatchObject({ refusedPoints: { clock_future: 1000, field_type: 30 }, clock: { futurePoints: 1000 } });
  expect(clockAgents).toBe(1);
  expect(bystanderProblems(r, BYSTANDER_P99_MS)).toEqual([]);
}, 120_000);
