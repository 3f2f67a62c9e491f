// Hostile: an identity prober. The refusal of an unknown identity must take the time of a known one with
// a wrong token (both run one HMAC against a record, a decoy one for the unknown; while the registry still
// holds scrypt records, every refusal also runs one scrypt), so timing does not tell which identities exist;
// a well-behaved agent beside the prober keeps landing every point.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentIdentity } from '../../protocol/index.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { toScryptRecords } from '../../testkit/legacy-registry.ts';
import { connectOnce, median } from '../../testkit/raw-mqtt.ts';
import { startStack, type Stack } from '../../testkit/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2, mqttLines: ['authFailures: { burst: 1000, perMinute: 1000 }'] });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

async function probe(): Promise<{ known: number; unknownAgent: number; unknownSite: number }> {
  const [known, bystanderAgent] = stack.agents;
  if (known === undefined || bystanderAgent === undefined) throw new Error('no agents');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent: bystanderAgent });
  const knownId = agentIdentity(known.site, known.agent);
  const unknownAgent = agentIdentity(known.site, 'pi-77'); // a real site, no such agent
  const unknownSite = 'no-such-site/pi-1';
  const times = { known: [] as number[], unknownAgent: [] as number[], unknownSite: [] as number[] };
  const codes = new Set<number | string>();
  // Interleaved, the order turning each round, so that load on the machine (and any cost of going first) falls on
  // all three alike; 60 rounds, as a refusal now takes about a millisecond, where scheduling noise is of its order.
  const kinds = [['known', knownId], ['unknownAgent', unknownAgent], ['unknownSite', unknownSite]] as const;
  for (let i = 0; i < 60; i++) {
    for (const [kind, id] of [...kinds.slice(i % 3), ...kinds.slice(0, i % 3)]) {
      const r = await connectOnce(stack.mqttPort, id, id, `wrong-token-${i}`);
      codes.add(r.code);
      times[kind].push(r.ms);
    }
  }
  const r = await b.finish();
  const m = { known: median(times.known), unknownAgent: median(times.unknownAgent), unknownSite: median(times.unknownSite) };
  console.log(`median refusal: known identity + wrong token ${m.known.toFixed(1)} ms, unknown agent ${m.unknownAgent.toFixed(1)} ms, unknown site ${m.unknownSite.toFixed(1)} ms`);
  expect([...codes]).toEqual([4]);
  for (const unknown of [m.unknownAgent, m.unknownSite]) {
    expect(unknown).toBeGreaterThan(m.known * 0.7);
    expect(unknown).toBeLessThan(m.known * 1.3);
  }
  expect(bystanderProblems(r, 500)).toEqual([]);
  return m;
}

it('answers an unknown identity in the time of a known one with a wrong token (medians within 30%)', async () => {
  await probe(); // HMAC records: every refusal is fast
}, 120_000);

it('does so too while the registry still holds scrypt records (every refusal runs one scrypt)', async () => {
  await stack.hub.stop();
  await toScryptRecords(join(stack.dir, 'registry.json'), stack.agents);
  await stack.restartHub();
  const m = await probe();
  expect(m.known).toBeGreaterThan(5); // scrypt ran at all
}, 120_000);
