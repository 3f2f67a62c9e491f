// The registry the CLI and a running hub share (SQLite), with the real hub: agents enrolled by the CLI while the hub
// runs connect without a restart; a revoked agent's connection is closed within a second of the revocation's commit
// and its next connect refused; a rotated token's connection is closed, the old token refused, the new one accepted;
// CLI processes writing while the hub writes lose nothing; the inventory agents report shows in `ioc-hub agents
// list --json` and GET /api/agents.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentIdentity, statusTopic, type Inventory } from '../protocol/index.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { runProgram, type ManagedProcess } from '../testkit/child-process.ts';
import { tokenRecords } from '../testkit/legacy-registry.ts';
import { connectAs, endClient } from '../testkit/mqtt-client.ts';
import { connectOnce } from '../testkit/raw-mqtt.ts';
import { changeAt } from '../testkit/registry-db.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

/** The revocation or rotation reaches the live connection within this of its commit (the bound). */
const CLOSE_BOUND_MS = 1000;

let stack: Stack;
let enrolled: AgentCredentials[] = [];
const live = new Map<string, { creds: AgentCredentials; client: MqttClient; closedAt: number | undefined }>();
let agentProcess: ManagedProcess | undefined;

const registryPath = (): string => join(stack.dir, 'registry.json');
const PI_INVENTORY: Inventory = {
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: '6.6.51+rpt-rpi-v8',
  arch: 'aarch64',
  boardModel: 'Raspberry Pi 4 Model B Rev 1.5',
  boardSerial: '10000000a3f1c2d4',
  diskTotalBytes: 31_000_000_000,
  diskFreeBytes: 20_000_000_000,
  uptimeS: 3600,
  usb: [{ vendorId: '0764', productId: '0501', product: 'CP1500EPFCLCD' }],
};

beforeAll(async () => {
  stack = await startStack({ agents: 1 });
}, 120_000);
afterAll(async () => {
  for (const l of live.values()) await endClient(l.client);
  await agentProcess?.stop();
  await stack?.stop();
});

async function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram('ioc-hub', [...args, '--config', stack.hubConfig]);
}

async function connectAgent(creds: AgentCredentials): Promise<void> {
  const id = agentIdentity(creds.site, creds.agent);
  const client = await connectAs(stack.mqttUrl, id, creds.token);
  const entry = { creds, client, closedAt: undefined as number | undefined };
  client.once('close', () => (entry.closedAt = Date.now()));
  live.set(id, entry);
  const status = { online: true, ts: Date.now(), version: '0.9.0-test', bootId: `boot-${creds.site}`, configRev: 'r1', clockSynced: true, inventory: PI_INVENTORY };
  await new Promise<void>((resolve, reject) => client.publish(statusTopic(creds.site, creds.agent), JSON.stringify(status), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));
}

function liveOf(creds: AgentCredentials): { client: MqttClient; closedAt: number | undefined } {
  const l = live.get(agentIdentity(creds.site, creds.agent));
  if (l === undefined) throw new Error(`${creds.site}/${creds.agent} is not connected`);
  return l;
}

it('enrolls 20 agents with the CLI while the hub runs: all connect without a restart', async () => {
  const hubPid = stack.hub.pid;
  const out = join(stack.dir, 'creds-20.json');
  const r = await cli(['enroll', '--all-sites', '--agent', 'pi-2', '--limit', '20', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  enrolled = (JSON.parse(readFileSync(out, 'utf8')) as { agents: AgentCredentials[] }).agents;
  expect(enrolled).toHaveLength(20);
  // At once: the hub checks a token against the database as it is at CONNECT, not as it was at its start.
  await Promise.all(enrolled.map((a) => connectAgent(a)));
  expect([...live.values()].every((l) => l.client.connected)).toBe(true);
  expect(stack.hub.pid).toBe(hubPid);
  expect(stack.hub.running).toBe(true);
  await waitUntil('the hub applied the 20 enrollments', async () => ((await stack.metrics()).get('ioc_hub_registry_changes_applied_total') ?? 0) >= 20, 10_000);
}, 120_000);

it('revokes one: its connection is closed within 1 s of the commit, its next connect refused, the others untouched', async () => {
  const [victim] = enrolled;
  if (victim === undefined) throw new Error('no agents');
  const r = await cli(['agents', 'revoke', '--site', victim.site, '--agent', victim.agent]);
  expect(r.code, r.stderr).toBe(0);
  const committedAt = changeAt(registryPath(), 'revoke', victim.site, victim.agent);
  expect(committedAt).toBeDefined();
  await waitUntil('the revoked agent disconnected', () => Promise.resolve(liveOf(victim).closedAt !== undefined), 5000);
  const latency = (liveOf(victim).closedAt ?? 0) - (committedAt ?? 0);
  console.log(`revoke: commit → connection closed ${latency} ms`);
  expect(latency).toBeLessThan(CLOSE_BOUND_MS);
  const id = agentIdentity(victim.site, victim.agent);
  expect((await connectOnce(stack.mqttPort, id, id, victim.token)).code).toBe(4); // bad user name or password
  live.delete(id);
  expect([...live.values()].filter((l) => !l.client.connected)).toEqual([]);
  expect((await stack.metrics()).get('ioc_hub_revoked_connections_closed_total')).toBe(1);
  expect(tokenRecords(registryPath()).has(id)).toBe(false);
}, 60_000);

it('rotates one: the old token’s connection is closed within 1 s, the old token refused, the new one accepted', async () => {
  const target = enrolled[1];
  if (target === undefined) throw new Error('no agents');
  const r = await cli(['agents', 'rotate', '--site', target.site, '--agent', target.agent]);
  expect(r.code, r.stderr).toBe(0);
  const token = /token:\s*"?([A-Za-z0-9_-]{43})"?/.exec(r.stdout)?.[1];
  expect(token).toBeDefined();
  expect(token).not.toBe(target.token);
  const committedAt = changeAt(registryPath(), 'rotate', target.site, target.agent);
  await waitUntil('the rotated agent disconnected', () => Promise.resolve(liveOf(target).closedAt !== undefined), 5000);
  const latency = (liveOf(target).closedAt ?? 0) - (committedAt ?? 0);
  console.log(`rotate: commit → connection closed ${latency} ms`);
  expect(latency).toBeLessThan(CLOSE_BOUND_MS);
  const id = agentIdentity(target.site, target.agent);
  expect((await connectOnce(stack.mqttPort, id, id, target.token)).code).toBe(4);
  expect((await connectOnce(stack.mqttPort, id, id, token ?? '')).code).toBe(0);
  live.delete(id);
  await connectAgent({ ...target, token: token ?? '' });
  await new Promise((resolve) => setTimeout(resolve, 3 * 200 + 300)); // several polls: the new connection stays
  expect(liveOf(target).client.connected).toBe(true);
  expect((await stack.metrics()).get('ioc_hub_rotated_connections_closed_total')).toBe(1);
}, 60_000);

it('loses no write when CLI processes enroll while the hub writes the agents’ reports', async () => {
  // 10 agents reconnect (the hub writes their reports and last seen) while 4 CLI processes enroll at once.
  const again = enrolled.slice(2, 12);
  const reconnects = (async () => {
    for (const a of again) {
      const l = liveOf(a);
      await endClient(l.client);
      live.delete(agentIdentity(a.site, a.agent));
      await connectAgent(a);
    }
  })();
  const site = enrolled[2]?.site ?? '';
  const results = await Promise.all(['pi-a', 'pi-b', 'pi-c', 'pi-d'].map((agent) => cli(['enroll', '--site', site, '--agent', agent])));
  await reconnects;
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  const tokens = results.map((r) => /token:\s*"?([A-Za-z0-9_-]{43})"?/.exec(r.stdout)?.[1] ?? '');
  const records = tokenRecords(registryPath());
  for (const agent of ['pi-a', 'pi-b', 'pi-c', 'pi-d']) expect(records.has(agentIdentity(site, agent))).toBe(true);
  for (const [i, agent] of ['pi-a', 'pi-b', 'pi-c', 'pi-d'].entries()) {
    const id = agentIdentity(site, agent);
    expect((await connectOnce(stack.mqttPort, id, id, tokens[i] ?? '')).code).toBe(0);
  }
  expect(records.size).toBe(1 + 20 - 1 + 4); // the stack's agent, 20 enrolled, one revoked, 4 more
}, 120_000);

it('shows every agent’s inventory in `agents list --json` and GET /api/agents, with filters', async () => {
  const [own] = stack.agents;
  if (own === undefined) throw new Error('no agent');
  agentProcess = startAgentProcess(stack, own, ['  - type: host', '    intervalS: 60']);
  const reported = enrolled[3];
  if (reported === undefined) throw new Error('no agents');
  type Listed = { site: string; agent: string; online: boolean; version: string | null; kernel: string | null; boardModel: string | null; boardSerial: string | null; usb: unknown[]; lastSeen: string | null; os: string | null; diskTotalBytes: number | null };
  const list = async (args: readonly string[] = []): Promise<Listed[]> => {
    const r = await cli(['agents', 'list', '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { agents: Listed[] }).agents;
  };
  let all: Listed[] = [];
  await waitUntil(
    'the real agent’s report in the registry',
    async () => {
      all = await list();
      return all.some((a) => a.site === own.site && a.agent === own.agent && a.kernel !== null);
    },
    60_000,
  );
  const mine = all.find((a) => a.site === own.site && a.agent === own.agent);
  expect(mine).toMatchObject({ online: true, kernel: release(), boardModel: null, boardSerial: null }); // x86: no device tree, no Serial
  expect(mine?.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(mine?.diskTotalBytes).toBeGreaterThan(0);
  expect(all.find((a) => a.site === reported.site && a.agent === reported.agent)).toMatchObject({ online: true, version: '0.9.0-test', boardModel: PI_INVENTORY.boardModel, boardSerial: PI_INVENTORY.boardSerial, usb: PI_INVENTORY.usb });
  expect(all.some((a) => a.site === enrolled[0]?.site && a.agent === 'pi-2')).toBe(false); // revoked: listed only with --revoked
  expect((await list(['--revoked'])).some((a) => a.site === enrolled[0]?.site && a.agent === 'pi-2')).toBe(true);
  expect((await list(['--site', reported.site])).map((a) => a.agent).sort()).toEqual(reported.site === own.site ? ['pi-1', 'pi-2'] : ['pi-2']);
  expect((await list(['--version', '0.9.0-test'])).length).toBe(live.size);
  const offline = await list(['--offline']);
  expect(offline.filter((a) => live.has(agentIdentity(a.site, a.agent)))).toEqual([]);
  expect(offline.map((a) => a.agent).sort()).toEqual(['pi-a', 'pi-b', 'pi-c', 'pi-d']); // enrolled, never connected as clients

  expect((await fetch(`${stack.httpUrl}/api/agents`)).status).toBe(401);
  const res = await fetch(`${stack.httpUrl}/api/agents?version=0.9.0-test`, { headers: { authorization: stack.readAuth } });
  expect(res.status).toBe(200);
  const api = ((await res.json()) as { agents: Listed[] }).agents;
  expect(api.length).toBe(live.size);
  expect(api.find((a) => a.site === reported.site && a.agent === reported.agent)).toMatchObject({ online: true, boardModel: PI_INVENTORY.boardModel, usb: PI_INVENTORY.usb });
  expect((await fetch(`${stack.httpUrl}/api/agents?offline=maybe`, { headers: { authorization: stack.readAuth } })).status).toBe(400);
}, 120_000);
