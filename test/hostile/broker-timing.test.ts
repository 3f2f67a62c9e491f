// Hostile: an identity prober. The refusal of an unknown identity must take the time of a known one with
// a wrong token (both run one scrypt), so timing does not tell which identities exist; a well-behaved
// agent beside the prober keeps landing every point.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentIdentity } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { connectOnce, median } from '../../testkit/raw-mqtt.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2, mqttLines: ['authFailures: { burst: 1000, perMinute: 1000 }'] });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('answers an unknown identity in the time of a known one with a wrong token (medians within 30%)', async () => {
  const [known, bystanderAgent] = stack.agents;
  if (known === undefined || bystanderAgent === undefined) throw new Error('no agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const knownId = agentIdentity(known.site, known.agent);
  const unknownAgent = agentIdentity(known.site, 'pi-77'); // a real site, no such agent
  const unknownSite = 'no-such-site/pi-1';
  const times = { known: [] as number[], unknownAgent: [] as number[], unknownSite: [] as number[] };
  const codes = new Set<number | string>();
  // Interleaved, so that load on the machine falls on all three alike.
  for (let i = 0; i < 30; i++) {
    for (const [kind, id] of [['known', knownId], ['unknownAgent', unknownAgent], ['unknownSite', unknownSite]] as const) {
      const r = await connectOnce(stack.mqttPort, id, id, `wrong-token-${i}`);
      codes.add(r.code);
      times[kind].push(r.ms);
    }
  }
  const r = await b.finish();
  const m = { known: median(times.known), unknownAgent: median(times.unknownAgent), unknownSite: median(times.unknownSite) };
  console.log(`median refusal: known identity + wrong token ${m.known.toFixed(1)} ms, unknown agent ${m.unknownAgent.toFixed(1)} ms, unknown site ${m.unknownSite.toFixed(1)} ms`);
  expect([...codes]).toEqual([4]);
  expect(m.known).toBeGreaterThan(5); // scrypt ran at all
  for (const unknown of [m.unknownAgent, m.unknownSite]) {
    expect(unknown).toBeGreaterThan(m.known * 0.7);
    expect(unknown).toBeLessThan(m.known * 1.3);
  }
  expect(bystanderProblems(r, 500)).toEqual([]);
}, 120_000);
