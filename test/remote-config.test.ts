// Remote configuration with the real hub, real `ioc-edge run` agent processes and real influxd: a config set for
// all agents with `ioc-hub config set` reaches every one of them (each reports the new revision in its status);
// a config that breaks one agent's hub connection is rolled back by that agent by itself and the rollback shows in
// the hub's history; a config that would not validate on the agent is refused before delivery, naming the field.
// Prints what the push cost (bytes sent by the hub, seconds until every agent reported the revision).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateToken, hashToken } from '../hub/agents/token.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { runProgram, type ManagedProcess } from '../testkit/child-process.ts';
import { freePort } from '../testkit/free-port.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

/** The fleet: 50 agents (IOC_TEST_CONFIG_AGENTS to try another size). */
const AGENTS = Number(process.env.IOC_TEST_CONFIG_AGENTS ?? 50);

let stack: Stack;
const agents: ManagedProcess[] = [];
const opsToken = generateToken();
let opsAuth = '';

interface AgentConfigState {
  site: string;
  agent: string;
  rev: number;
  last?: { kind: string; detail?: string };
}

beforeAll(async () => {
  const services = ['services:', '  - name: ops', `    tokenHash: ${await hashToken(opsToken, { N: 1024, r: 8, p: 1 })}`, '    subscribe: []', '    api: [config:write]'].join('\n');
  stack = await startStack({ agents: AGENTS, hubYaml: `${services}\nremoteConfig:\n  retryMs: 5000\n  timeoutMs: 15000\n` });
  opsAuth = `Bearer ops:${opsToken}`;
  // A modest collector set: 50 agent processes share this machine with the hub and influxd.
  for (const me of stack.agents) agents.push(startAgentProcess(stack, me, ['  - { type: host, intervalS: 30 }']));
  await waitUntil(`${AGENTS} agents online`, async () => ((await stack.metrics()).get('ioc_hub_agents_online') ?? 0) >= AGENTS, 240_000, 500);
}, 360_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await stack?.stop();
}, 120_000);

async function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram('ioc-hub', [...args, '--config', stack.hubConfig], { timeoutMs: 60_000 });
}

async function states(): Promise<AgentConfigState[]> {
  const res = await fetch(`${stack.httpUrl}/api/config/agents`, { headers: { authorization: opsAuth }, signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { agents: AgentConfigState[] }).agents;
}

/** One labelled series of /metrics (stack.metrics() sums a name's series). */
async function outcome(name: string): Promise<number> {
  const text = await (await fetch(`${stack.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = new RegExp(`^ioc_hub_config_deliveries_total\\{outcome="${name}"\\} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

function configFile(site: string, agent: string): string {
  return readFileSync(join(stack.dir, `${site}-${agent}.yaml`), 'utf8');
}

let fleetRev = 0;

it(`pushes a config to ${AGENTS} agents: every one reports the new revision`, async () => {
  const template = join(stack.dir, 'fleet.yaml');
  writeFileSync(
    template,
    ['logLevel: info', 'batch:', '  flushIntervalMs: 500', 'remoteConfig:', '  confirmTimeoutS: 60', 'collectors:', '  - { type: host, name: "{{site}}-{{agent}}", intervalS: 60 }', ''].join('\n'),
  );
  const bytesBefore = (await stack.metrics()).get('ioc_hub_config_delivery_bytes_total') ?? 0;
  const t0 = performance.now();
  const set = await cli(['config', 'set', '--all', '--template', template, '--comment', 'fleet host collector']);
  expect(set.code, set.stderr).toBe(0);
  fleetRev = Number(/revision (\d+) set/.exec(set.stdout)?.[1]);
  expect(set.stdout).toContain(`${AGENTS} agent(s)`);
  await waitUntil(`${AGENTS} agents applied revision ${fleetRev}`, async () => (await states()).filter((s) => s.rev === fleetRev && s.last?.kind === 'applied').length === AGENTS, 300_000, 500);
  const seconds = (performance.now() - t0) / 1000;
  const m = await stack.metrics();
  const bytes = (m.get('ioc_hub_config_delivery_bytes_total') ?? 0) - bytesBefore;
  // Every agent runs it: its file carries the revision and the site's variable, its token kept.
  for (const a of stack.agents) {
    const text = configFile(a.site, a.agent);
    expect(text).toContain(`configRev: ${fleetRev}`);
    expect(text).toContain(`name: ${a.site}-${a.agent}`);
    expect(text).toContain(a.token);
  }
  expect(await outcome('applied')).toBe(AGENTS);
  expect(await outcome('delivered')).toBeGreaterThanOrEqual(AGENTS);
  expect(m.get('ioc_hub_config_deliveries_inflight')).toBe(0);
  const perAgent = bytes / AGENTS;
  const rssKiB = agents.map((p) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p.pid ?? 0}/status`, 'utf8'))?.[1] ?? 0));
  console.log(`agent processes after the push: ${(rssKiB.reduce((x, y) => x + y, 0) / 1024).toFixed(0)} MiB RSS in all, ${(Math.max(...rssKiB) / 1024).toFixed(0)} MiB the largest`);
  console.log(
    `config push: ${AGENTS} agents in ${seconds.toFixed(1)} s, ${bytes} bytes of config-apply commands (${perAgent.toFixed(0)} per agent); ` +
      `150 agents: ~${((perAgent * 150) / 1024).toFixed(1)} KiB of commands; time measured for ${AGENTS} on this 2-core machine (all agents restarting on it at once)`,
  );
  const history = await cli(['config', 'history']);
  expect(history.stdout).toMatch(new RegExp(`^${fleetRev}\\t\\S+\\tcli:\\S+\\tall\\t${AGENTS} agent\\(s\\)\\tfleet host collector$`, 'm'));
  const audit = readFileSync(join(stack.dir, 'audit.jsonl'), 'utf8');
  expect(audit).toContain(`"action":"config.set","target":"all","detail":{"rev":${fleetRev},"agents":${AGENTS}`);
}, 420_000);

it('a config that breaks the hub connection of one agent is rolled back by that agent and reported', async () => {
  const victim = stack.agents[0];
  if (victim === undefined) throw new Error('no agent');
  const closed = await freePort(); // nothing listens there
  const template = join(stack.dir, 'broken.yaml');
  writeFileSync(template, [`hub:`, `  url: mqtt://127.0.0.1:${closed}`, 'remoteConfig:', '  confirmTimeoutS: 4', 'collectors:', '  - { type: host, intervalS: 60 }', ''].join('\n'));
  const set = await cli(['config', 'set', '--agent', `${victim.site}/${victim.agent}`, '--template', template, '--comment', 'wrong port']);
  expect(set.code, set.stderr).toBe(0);
  const badRev = Number(/revision (\d+) set/.exec(set.stdout)?.[1]);
  expect(set.stdout).toContain('1 agent(s)');
  await waitUntil('the rollback reported', async () => (await states()).some((s) => s.site === victim.site && s.rev === badRev && s.last?.kind === 'rolled-back'), 120_000, 500);
  // The agent runs its previous config again, and its history shows the revision delivered, then rolled back.
  expect(configFile(victim.site, victim.agent)).toContain(`configRev: ${fleetRev}`);
  const history = await cli(['config', 'history', '--agent', `${victim.site}/${victim.agent}`]);
  expect(history.code, history.stderr).toBe(0);
  expect(history.stdout).toMatch(new RegExp(`revision ${badRev}\\tdelivered`));
  expect(history.stdout).toMatch(new RegExp(`revision ${badRev}\\trolled-back\\tno connection to the hub within 4 s`));
  expect(await outcome('rolled-back')).toBe(1);
  // The others were not touched.
  expect((await states()).filter((s) => s.rev === fleetRev && s.last?.kind === 'applied')).toHaveLength(AGENTS - 1);
}, 180_000);

it('refuses before delivery a config that would not validate on the agent, naming the field', async () => {
  const site = stack.agents[1]?.site ?? '';
  const template = join(stack.dir, 'invalid.yaml');
  writeFileSync(template, ['batch:', '  maxPoints: 0', ''].join('\n'));
  const before = (await cli(['config', 'history'])).stdout;
  const set = await cli(['config', 'set', '--site', site, '--template', template]);
  expect(set.code).toBe(1);
  expect(set.stderr).toContain(`config for ${site}/pi-1 would not validate on the agent`);
  expect(set.stderr).toMatch(/batch\.maxPoints: .*>=1/);
  expect(set.stderr).toContain('nothing was stored or delivered');
  // The API refuses it the same way (422), and nothing was stored by either.
  const res = await fetch(`${stack.httpUrl}/api/config/revisions`, {
    method: 'POST',
    headers: { authorization: opsAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: `site:${site}`, template: 'hub:\n  keepaliveS: 1\n' }),
  });
  expect(res.status).toBe(422);
  expect(((await res.json()) as { error: string }).error).toMatch(/hub\.keepaliveS/);
  expect((await cli(['config', 'history'])).stdout).toBe(before);
  // A read-only account may not write.
  const denied = await fetch(`${stack.httpUrl}/api/config/revisions`, { method: 'POST', headers: { authorization: stack.readAuth, 'content-type': 'application/json' }, body: '{}' });
  expect(denied.status).toBe(401);
}, 120_000);

it("an operator's console session sets and rolls back a site's config through the API (CSRF), both in the audit log", async () => {
  const target = stack.agents[2];
  if (target === undefined) throw new Error('no agent');
  const users = [['op', 'operator'], ['tech', 'technician']] as const;
  const sessions = new Map<string, { cookie: string; csrf: string }>();
  for (const [name, role] of users) {
    const added = await cli(['users', 'add', '--name', name, '--role', role]);
    expect(added.code, added.stderr).toBe(0);
    const password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    const res = await fetch(`${stack.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password }) });
    expect(res.status).toBe(200);
    sessions.set(name, { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '', csrf: ((await res.json()) as { csrf: string }).csrf });
  }
  const post = (path: string, who: string, body: unknown, csrf = true): Promise<Response> => {
    const s = sessions.get(who);
    return fetch(`${stack.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: s?.cookie ?? '', ...(csrf ? { 'x-csrf-token': s?.csrf ?? '' } : {}) }, body: JSON.stringify(body) });
  };
  const scope = `site:${target.site}`;
  expect((await post('/api/config/revisions', 'op', { scope, template: 'logLevel: warn\n' }, false)).status).toBe(403); // no CSRF token
  expect((await post('/api/config/revisions', 'tech', { scope, template: 'logLevel: warn\n' })).status).toBe(403); // a technician may not
  const first = await post('/api/config/revisions', 'op', { scope, template: 'logLevel: warn\n', comment: 'quieter' });
  expect(first.status).toBe(201);
  const { rev: revA } = (await first.json()) as { rev: number };
  const second = await post('/api/config/revisions', 'op', { scope, template: 'logLevel: debug\n' });
  const { rev: revB } = (await second.json()) as { rev: number };
  const back = await post('/api/config/rollback', 'op', { scope, comment: 'too verbose' });
  expect(back.status).toBe(201);
  const rolled = (await back.json()) as { rev: number; from: number; agents: string[] };
  expect(rolled).toMatchObject({ from: revA, agents: [`${target.site}/${target.agent}`] });
  expect(rolled.rev).toBeGreaterThan(revB);
  await waitUntil(`${target.site} applies revision ${rolled.rev}`, async () => (await states()).some((s) => s.site === target.site && s.rev === rolled.rev && s.last?.kind === 'applied'), 120_000, 500);
  expect(configFile(target.site, target.agent)).toMatch(/^logLevel: warn$/m);
  const audit = readFileSync(join(stack.dir, 'audit.jsonl'), 'utf8');
  expect(audit).toContain(`"who":"user:op","action":"config.set","target":"${scope}","detail":{"rev":${revA},"agents":1,"comment":"quieter"}`);
  expect(audit).toContain(`"who":"user:op","action":"config.rollback","target":"${scope}","detail":{"rev":${rolled.rev},"to":${revA},"agents":1,"comment":"too verbose"}`);
  const history = await cli(['config', 'history', '--site', target.site]);
  expect(history.stdout).toMatch(new RegExp(`^${rolled.rev}\\t\\S+\\tuser:op\\t${scope}\\t1 agent\\(s\\)\\trollback to ${revA}; too verbose$`, 'm'));
}, 180_000);
