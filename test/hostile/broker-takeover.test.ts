// Hostile: a stolen token used again and again to take over the live agent's connection, and a service
// account that claims another's client id by prefix. The live session must stay, the flapping id must be
// banned for a while (and the ban expire), and a well-behaved agent beside them keeps landing every point.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken, generateToken } from '../../hub/agents/token.ts';
import { agentIdentity, telemetryTopic } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { connectAs, endClient, publishQos1 } from '../../testkit/mqtt-client.ts';
import { connectOnce, metricValue } from '../../testkit/raw-mqtt.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { waitUntil } from '../../testkit/wait.ts';

const BAN_MS = 4000;
const serviceTokens = { 'node-red': generateToken(), node: generateToken() };
let stack: Stack;

beforeAll(async () => {
  const services = await Promise.all(
    Object.entries(serviceTokens).map(async ([name, token]) => `  - name: ${name}\n    tokenHash: "${await hashToken(token)}"\n    subscribe: ["ioc/v1/alerts/#"]`),
  );
  stack = await startStack({
    agents: 3,
    mqttLines: [`flapping: { maxConnects: 60, maxTakeovers: 4, windowMs: 30000, banMs: ${BAN_MS} }`],
    hubYaml: `services:\n${services.join('\n')}\n`,
  });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

/** An agent that publishes every 200 ms and counts how often its connection is taken from it. */
function keepPublishing(client: MqttClient, site: string, agent: string): { stop(): Promise<void>; closes: () => number; acked: () => number } {
  let closes = 0;
  let acked = 0;
  let seq = 0;
  client.on('close', () => closes++);
  const timer = setInterval(() => {
    seq++;
    const batch = { seq, sentAt: Date.now(), points: [{ m: 'net_probe', t: Date.now(), tags: { target: 'victim', method: 'tcp' }, fields: { up: 1, rtt_ms: 1 } }] };
    void publishQos1(client, telemetryTopic(site, agent), JSON.stringify(batch), 5000).then((r) => {
      if (r === 'acked') acked++;
    });
  }, 200);
  return {
    async stop() {
      clearInterval(timer);
      await endClient(client);
    },
    closes: () => closes,
    acked: () => acked,
  };
}

it('a thief with the live agent’s token never kicks it off: refused while it is live, then banned for a while', async () => {
  const [victimCreds, bystanderAgent] = stack.agents;
  if (victimCreds === undefined || bystanderAgent === undefined) throw new Error('no agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const id = agentIdentity(victimCreds.site, victimCreds.agent);
  const victim = keepPublishing(await connectAs(stack.mqttUrl, id, victimCreds.token, { reconnectPeriod: 300 }), victimCreds.site, victimCreds.agent);
  await new Promise((r) => setTimeout(r, 500));
  const thief: (number | string)[] = [];
  const thiefStarted = Date.now();
  for (let i = 0; i < 20; i++) {
    thief.push((await connectOnce(stack.mqttPort, id, id, victimCreds.token)).code);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500));
  const kicked = victim.closes();
  const banned = await metricValue(stack.httpUrl, 'ioc_hub_banned_clients');
  console.log(`thief: 20 connects with the stolen token in ${Date.now() - thiefStarted} ms, answers ${thief.join(',')}; victim kicked off ${kicked} times, ${victim.acked()} batches acked`);
  expect(kicked).toBe(0);
  expect(thief.every((c) => c === 5)).toBe(true);
  expect(await metricValue(stack.httpUrl, 'ioc_hub_takeover_total', 'outcome="refused"')).toBe(3); // the 4th contest trips the ban
  expect(await metricValue(stack.httpUrl, 'ioc_hub_flapping_bans_total')).toBe(1);
  expect(banned).toBe(1);
  expect(await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="banned"')).toBe(17);
  // …and in the agent's status on /api/sites.
  const sites = (await (await fetch(`${stack.httpUrl}/api/sites`, { headers: { authorization: stack.readAuth } })).json()) as { sites: { slug: string; agents: { agent: string; bannedUntil: string | null }[] }[] };
  const view = sites.sites.find((s) => s.slug === victimCreds.site)?.agents.find((a) => a.agent === victimCreds.agent);
  expect(Date.parse(view?.bannedUntil ?? '')).toBeGreaterThan(Date.now());
  await victim.stop();
  // The ban expires: the identity connects again.
  await waitUntil('ban expired', async () => (await metricValue(stack.httpUrl, 'ioc_hub_banned_clients')) === 0, BAN_MS + 5000, 200);
  expect((await connectOnce(stack.mqttPort, id, id, victimCreds.token)).code).toBe(0);
  const r = await b.finish();
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 60_000);

it('a service account cannot take over another’s connection by client-id prefix', async () => {
  const bystanderAgent = stack.agents[2];
  if (bystanderAgent === undefined) throw new Error('no agent');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const nodeRed = await connectAs(stack.mqttUrl, 'service:node-red', serviceTokens['node-red'], { clientId: 'service:node-red-1a2b3c' });
  let kicked = 0;
  nodeRed.on('close', () => kicked++);
  const byPrefix = await connectOnce(stack.mqttPort, 'service:node-red-1a2b3c', 'service:node', serviceTokens.node);
  const exactOther = await connectOnce(stack.mqttPort, 'service:node-red', 'service:node', serviceTokens.node);
  const ownInstance = await connectOnce(stack.mqttPort, 'service:node-7', 'service:node', serviceTokens.node);
  await new Promise((r) => setTimeout(r, 500));
  const r = await b.finish();
  expect([byPrefix.code, exactOther.code, ownInstance.code]).toEqual([5, 5, 0]);
  expect(kicked).toBe(0);
  expect(nodeRed.connected).toBe(true);
  await endClient(nodeRed);
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 60_000);
