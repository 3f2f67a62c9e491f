// Agent tokens across hub restarts with the real hub: HMAC records under the hub secret keep every agent able to
// connect after a restart; scrypt records (registries written before) are migrated on connect, in few writes,
// and a CLI enrollment made while the hub migrates is kept beside the migrations.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentIdentity } from '../protocol/index.ts';
import { runProgram } from '../testkit/child-process.ts';
import { toScryptRecords, tokenRecords } from '../testkit/legacy-registry.ts';
import { connectOnce } from '../testkit/raw-mqtt.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 4 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const registryPath = (): string => join(stack.dir, 'registry.json');

async function connectAll(agents: readonly AgentCredentials[]): Promise<(number | string)[]> {
  const codes: (number | string)[] = [];
  for (const a of agents) {
    const id = agentIdentity(a.site, a.agent);
    codes.push((await connectOnce(stack.mqttPort, id, id, a.token)).code);
  }
  return codes;
}

it('keeps every enrolled agent able to connect across a hub restart (one hub secret, 0600, made once)', async () => {
  const secretPath = join(stack.dir, 'hub-secret');
  const secret = readFileSync(secretPath, 'utf8');
  expect(statSync(secretPath).mode & 0o777).toBe(0o600);
  expect([...tokenRecords(registryPath()).values()].every((h) => /^hmac-sha256:[0-9a-f]{64}$/.test(h))).toBe(true);
  expect(await connectAll(stack.agents)).toEqual(stack.agents.map(() => 0));
  await stack.restartHub();
  expect(await connectAll(stack.agents)).toEqual(stack.agents.map(() => 0));
  expect(readFileSync(secretPath, 'utf8')).toBe(secret);
  expect(readFileSync(join(stack.dir, 'hub.log'), 'utf8')).not.toContain(secret.trim());
  const [first] = stack.agents;
  if (first === undefined) throw new Error('no agents');
  const id = agentIdentity(first.site, first.agent);
  expect((await connectOnce(stack.mqttPort, id, id, `${first.token.slice(0, -1)}${first.token.endsWith('A') ? 'B' : 'A'}`)).code).toBe(4);
}, 120_000);

it('migrates scrypt records on connect, keeps a CLI enrollment made meanwhile, and the agents connect after a restart', async () => {
  await stack.hub.stop();
  await toScryptRecords(registryPath(), stack.agents, { N: 1024, r: 8, p: 1 });
  await stack.restartHub();
  expect((await stack.metrics()).get('ioc_hub_registry_scrypt_tokens')).toBe(stack.agents.length);
  expect(await connectAll(stack.agents)).toEqual(stack.agents.map(() => 0));
  // The CLI enrolls while the hub's migrations are pending (written within a second, each write one transaction).
  const [first] = stack.agents;
  if (first === undefined) throw new Error('no agents');
  const enrolled = await runProgram('ioc-hub', ['enroll', '--site', first.site, '--agent', 'pi-new', '--config', stack.hubConfig]);
  expect(enrolled.code).toBe(0);
  const token = /token:\s*"?([A-Za-z0-9_-]{43})"?/.exec(enrolled.stdout)?.[1];
  expect(token).toBeDefined();
  await waitUntil('migrations written', async () => [...tokenRecords(registryPath()).values()].every((h) => h.startsWith('hmac-sha256:')), 10_000);
  expect((await stack.metrics()).get('ioc_hub_registry_scrypt_tokens')).toBe(0);
  const records = tokenRecords(registryPath());
  expect(records.has(agentIdentity(first.site, 'pi-new'))).toBe(true);
  expect(records.size).toBe(stack.agents.length + 1);
  await stack.restartHub(); // and they all still connect after a restart
  const all = [...stack.agents, { site: first.site, agent: 'pi-new', token: token ?? '' }];
  expect(await connectAll(all)).toEqual(all.map(() => 0));
  expect(tokenRecords(registryPath())).toEqual(records); // nothing left to migrate: no write
}, 120_000);
