// Hostile: many sockets from one address and in all, and a password guesser. The hub refuses past its
// connection caps and, past an address's failed-auth budget, answers at once without running scrypt;
// a well-behaved agent beside them keeps landing every point.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentIdentity } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { connectOnce, median, metricValue, openRaw, type RawSocket } from '../../testkit/raw-mqtt.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { toScryptRecords } from '../../testkit/legacy-registry.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    agents: 2,
    mqttLines: ['maxConnections: 30', 'maxConnectionsPerAddress: 20', 'authFailures: { burst: 5, perMinute: 6 }', 'connectTimeoutMs: 20000'],
  });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const refused = (reason: string): Promise<number> => metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', `reason="${reason}"`);

async function openMany(n: number, localAddress: string): Promise<RawSocket[]> {
  return await Promise.all(Array.from({ length: n }, () => openRaw(stack.mqttPort, localAddress)));
}

it('caps connections per source address and in all, counting each refusal', async () => {
  const agent = stack.agents[0];
  if (agent === undefined) throw new Error('no agent');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent });
  const fromOne = await openMany(40, '127.0.0.1'); // the bystander holds one of this address's 20
  await new Promise((r) => setTimeout(r, 500));
  const oneOpen = fromOne.filter((s) => !s.isClosed()).length;
  const fromTwo = await openMany(20, '127.0.0.2'); // 10 left in the total of 30
  await new Promise((r) => setTimeout(r, 500));
  const twoOpen = fromTwo.filter((s) => !s.isClosed()).length;
  const r = await b.finish();
  for (const s of [...fromOne, ...fromTwo]) s.socket.destroy();
  expect(oneOpen).toBe(19);
  expect(twoOpen).toBe(10);
  expect(await refused('max_per_address')).toBe(21);
  expect(await refused('max_connections')).toBe(10);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 60_000);

it('past the failed-auth budget of an address, refuses at once without scrypt, the right token too; other addresses go on', async () => {
  const [victim, bystanderAgent] = stack.agents;
  if (victim === undefined || bystanderAgent === undefined) throw new Error('no agents');
  // A registry from before HMAC records: a wrong guess then costs one scrypt (tens of ms), so a refusal that runs
  // no token check at all is visible in time. (With HMAC records every check costs microseconds.)
  await stack.hub.stop();
  await toScryptRecords(join(stack.dir, 'registry.json'), stack.agents);
  await stack.restartHub();
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const id = agentIdentity(victim.site, victim.agent);
  const guesses: { code: number | string; ms: number }[] = [];
  for (let i = 0; i < 5; i++) guesses.push(await connectOnce(stack.mqttPort, id, id, `guess-${i}`, { localAddress: '127.0.0.3' }));
  const limited: { code: number | string; ms: number }[] = [];
  for (let i = 0; i < 10; i++) limited.push(await connectOnce(stack.mqttPort, id, id, `guess-more-${i}`, { localAddress: '127.0.0.3' }));
  const rightTokenThere = await connectOnce(stack.mqttPort, id, id, victim.token, { localAddress: '127.0.0.3' });
  const rightTokenElsewhere = await connectOnce(stack.mqttPort, id, id, victim.token, { localAddress: '127.0.0.4' });
  const r = await b.finish();
  console.log(`wrong token: median ${median(guesses.map((g) => g.ms)).toFixed(1)} ms; past the budget: median ${median(limited.map((g) => g.ms)).toFixed(1)} ms`);
  expect(guesses.map((g) => g.code)).toEqual([4, 4, 4, 4, 4]);
  expect(limited.map((g) => g.code)).toEqual(Array(10).fill(3));
  expect(rightTokenThere.code).toBe(3);
  expect(rightTokenElsewhere.code).toBe(0);
  // scrypt (N=16384) takes tens of ms here; the refusal past the budget does not run it.
  expect(median(limited.map((g) => g.ms))).toBeLessThan(median(guesses.map((g) => g.ms)) / 2);
  expect(await refused('auth_rate_limited')).toBe(11);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 60_000);
