// The alert engine of the hub process against a real influxd: an agent's last will → the `alert` measurement,
// the retained MQTT alert record (seen by a service account), GET /api/alerts; and a webhook end to end
// through the Node-RED runtime to a local HTTP server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedRuntime } from '../flows/runtime.ts';
import { ALL_ALERTS_FILTER, statusTopic, type AlertRecord, type Status } from '../protocol/index.ts';
import { runProgram } from '../testkit/child-process.ts';
import { freePort } from '../testkit/free-port.ts';
import { connectAs, endClient } from '../testkit/mqtt-client.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const RULES = `
rules:
  - { name: site-offline, type: agent-offline, for: 1500ms, clearFor: 1s }
`;
const SERVICE = 'ops';

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}
interface Hook {
  headers: Record<string, string | string[] | undefined>;
  body: { kind: string; subject: string; text: string; alert: AlertRecord };
}

let rulesDir = '';
let stack: Stack;
let serviceToken = '';
let nodeRed: NodeRedRuntime | undefined;
let hookServer: Server | undefined;
const hooks: Hook[] = [];
const clients: MqttClient[] = [];
const agents = new Map<string, MqttClient>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function statusPayload(online: boolean): string {
  return JSON.stringify({ online, ts: Date.now(), version: 'test', bootId: 'b', configRev: 1, clockSynced: true } satisfies Status);
}

/** A raw agent connection with the offline last will and a retained online status, as the edge link does. */
async function online(a: AgentCredentials): Promise<void> {
  const client = await connectAs(stack.mqttUrl, `${a.site}/${a.agent}`, a.token, { will: { topic: statusTopic(a.site, a.agent), payload: Buffer.from(statusPayload(false)), qos: 1, retain: true } });
  await client.publishAsync(statusTopic(a.site, a.agent), statusPayload(true), { qos: 1, retain: true });
  agents.set(a.site, client);
}

/** The connection drops without DISCONNECT: the broker publishes the will. */
function dropConnection(a: AgentCredentials): void {
  const c = agents.get(a.site);
  agents.delete(a.site);
  c?.stream.destroy();
  c?.end(true);
}

/** A service-account subscriber to the alert topics, recording what it gets. */
async function subscribeAlerts(suffix: string): Promise<{ client: MqttClient; got: Received[] }> {
  const client = await connectAs(stack.mqttUrl, `service:${SERVICE}`, serviceToken, { clientId: `service:${SERVICE}-${suffix}` });
  clients.push(client);
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
  const granted = await client.subscribeAsync(ALL_ALERTS_FILTER, { qos: 1 });
  expect(granted.map((g) => g.qos)).toEqual([1]);
  return { client, got };
}

async function alertRows(site: string): Promise<unknown[][]> {
  const body = await stack.influx.query(`SELECT "state", "severity" FROM "alert" WHERE "site" = '${site}' AND "rule" = 'site-offline'`, 'ioc');
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.flatMap((s) => s.values ?? []) ?? [];
}

async function apiAlerts(query: string): Promise<AlertRecord[]> {
  const res = await fetch(`${stack.httpUrl}/api/alerts${query}`, { headers: { authorization: stack.readAuth }, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { alerts: AlertRecord[] }).alerts;
}

beforeAll(async () => {
  // A service account as an operator makes one: the printed `services:` entry goes into hub.yaml.
  const printed = await runProgram('ioc-hub', ['services', 'token', '--name', SERVICE]);
  if (printed.code !== 0) throw new Error(`services token failed: ${printed.stderr}`);
  serviceToken = /^token: (\S+)$/m.exec(printed.stdout)?.[1] ?? '';
  const servicesYaml = printed.stdout.slice(printed.stdout.indexOf('services:'));
  rulesDir = mkdtempSync(join(tmpdir(), 'ioc-alert-rules-'));
  const rulesFile = join(rulesDir, 'alerts.yaml');
  writeFileSync(rulesFile, RULES);
  stack = await startStack({ agents: 2, hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 1s', '  evaluateIntervalMs: 100', servicesYaml].join('\n') });

  hookServer = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body: JSON.parse(raw) as Hook['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer?.listen(0, '127.0.0.1', () => r()));
  const addr = hookServer.address();
  const hookPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
  nodeRed = new NodeRedRuntime({
    userDir: join(stack.dir, 'node-red'),
    mqtt: { host: '127.0.0.1', port: stack.mqttPort, username: `service:${SERVICE}`, password: serviceToken },
    credentialSecret: 'test-secret',
    notify: {
      smtp: { host: '127.0.0.1', port: await freePort() }, // no e-mail route: never used
      webhook: { url: `http://127.0.0.1:${hookPort}/ioc-alerts`, headers: { 'x-gateway-key': 'k-123' } },
      defaultRoute: { webhook: true },
      hubApi: { url: stack.httpUrl, token: `${SERVICE}:${serviceToken}` },
    },
  });
  await nodeRed.start();
  await waitUntil('Node-RED connected to the hub', async () => ((await stack.metrics()).get('ioc_hub_connected_clients') ?? 0) >= 1, 20_000, 100);
  await sleep(300); // its subscription follows the connection closely
  for (const a of stack.agents) await online(a);
  await sleep(1200); // past the hub's startup grace
}, 120_000);

afterAll(async () => {
  for (const c of [...clients, ...agents.values()]) await endClient(c);
  await nodeRed?.stop();
  const server = hookServer;
  if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  await stack?.stop();
  if (rulesDir !== '') rmSync(rulesDir, { recursive: true, force: true });
});

function agentAt(i: number): AgentCredentials {
  const a = stack.agents[i];
  if (a === undefined) throw new Error(`no agent ${i}`);
  return a;
}

describe('alerts of the hub process into a real InfluxDB', () => {
  it('an agent whose connection drops: firing then resolved rows, the retained record set then cleared, the API', async () => {
    const a = agentAt(0);
    const live = await subscribeAlerts('live');
    dropConnection(a);

    const firing = await waitUntil('a firing alert in the API', async () => (await apiAlerts(`?site=${a.site}`)).find((x) => x.state === 'firing'), 15_000, 100);
    expect(firing).toMatchObject({ site: a.site, rule: 'site-offline', severity: 'critical', summary: { vi: `Mất kết nối với điểm ${a.site} (thiết bị ${a.agent})`, en: `Site ${a.site} is offline (agent ${a.agent})` } });
    expect((await apiAlerts('')).map((x) => x.id)).toEqual([firing.id]); // the other agent is fine
    const byId = await fetch(`${stack.httpUrl}/api/alerts/${firing.id}`, { headers: { authorization: stack.readAuth } });
    expect(((await byId.json()) as AlertRecord).state).toBe('firing');

    await waitUntil('firing row in InfluxDB', async () => (await alertRows(a.site)).length >= 1, 10_000, 100);
    expect((await alertRows(a.site)).map((r) => r.slice(1))).toEqual([['firing', 'critical']]);

    // A subscriber that connects now gets the record from the broker's retained store.
    const late = await subscribeAlerts('late-1');
    const retained = await waitUntil('retained alert record', async () => late.got.find((m) => m.retain), 5000, 50);
    expect(retained.topic).toBe(`ioc/v1/alerts/${a.site}/${firing.id}`);
    expect(JSON.parse(retained.payload)).toMatchObject({ id: firing.id, state: 'firing', site: a.site });

    await online(a);
    await waitUntil('resolved row in InfluxDB', async () => (await alertRows(a.site)).length >= 2, 15_000, 100);
    expect((await alertRows(a.site)).map((r) => r.slice(1))).toEqual([['firing', 'critical'], ['resolved', 'critical']]);
    expect(await apiAlerts(`?site=${a.site}`)).toEqual([]);
    expect((await apiAlerts(`?site=${a.site}&resolved=true`)).map((x) => [x.id, x.state])).toEqual([[firing.id, 'resolved']]);

    // Live: the record, then the clearing empty retained message, then the final resolved record.
    await waitUntil('resolution on MQTT', async () => live.got.some((m) => m.payload.includes('"resolved"')), 5000, 50);
    expect(live.got.map((m) => (m.payload === '' ? '(cleared)' : (JSON.parse(m.payload) as AlertRecord).state))).toEqual(['firing', '(cleared)', 'resolved']);
    expect(new Set(live.got.map((m) => m.topic))).toEqual(new Set([`ioc/v1/alerts/${a.site}/${firing.id}`]));
    // and nothing is retained any more
    const after = await subscribeAlerts('late-2');
    await sleep(800);
    expect(after.got).toEqual([]);
  });
});

describe('webhook notifications through the Node-RED flows', () => {
  it('one POST per notification with the alert record and its vi/en summaries', async () => {
    const a = agentAt(1);
    const forSite = (): Hook[] => hooks.filter((h) => h.body.alert.site === a.site);
    expect(forSite()).toEqual([]);
    dropConnection(a);
    const [first] = await waitUntil('firing webhook', async () => (forSite().length > 0 ? forSite() : undefined), 15_000, 50);
    expect(first?.headers['content-type']).toMatch(/^application\/json/);
    expect(first?.headers['x-gateway-key']).toBe('k-123');
    expect(first?.body).toMatchObject({
      kind: 'firing',
      alert: { site: a.site, rule: 'site-offline', state: 'firing', severity: 'critical', summary: { vi: `Mất kết nối với điểm ${a.site} (thiết bị ${a.agent})`, en: `Site ${a.site} is offline (agent ${a.agent})` } },
    });
    expect(first?.body.subject).toContain(first?.body.alert.summary.vi);
    expect(first?.body.text).toContain(first?.body.alert.summary.en);
    await online(a);
    await waitUntil('resolved webhook', async () => forSite().some((h) => h.body.kind === 'resolved'), 15_000, 50);
    await sleep(1500); // no repeat, no escalation
    expect(forSite().map((h) => [h.body.kind, h.body.alert.state, h.body.alert.id])).toEqual([
      ['firing', 'firing', first?.body.alert.id],
      ['resolved', 'resolved', first?.body.alert.id],
    ]);
    // the first test's alert was notified exactly the same way: one firing, one resolved
    expect(hooks.filter((h) => h.body.alert.site === agentAt(0).site).map((h) => h.body.kind)).toEqual(['firing', 'resolved']);
    expect(nodeRed?.context.sent).toMatchObject({ webhook: 4, email: 0, failed: 0 });
  });
});
