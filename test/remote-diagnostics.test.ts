// Remote diagnostics end to end: the real hub process (with influxd) sends each diagnostic to a real `ioc-edge run`
// agent, which runs the real ping and traceroute against 127.0.0.1, resolves through the system and through a DNS
// server of the test, returns its own log lines, restarts a collector and probes now; every request — run, refused
// for a hostile argument, refused for an offline agent — is in the audit log with its outcome and result, readable
// with GET /api/diagnostics and `ioc-hub diag log`. A technician's session may run one, an anonymous visitor may not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, generateToken } from '../hub/agents/token.ts';
import type { AuditEntry } from '../hub/auth/audit-log.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { runProgram, type ManagedProcess } from '../testkit/child-process.ts';
import { startDnsServer, type TestDnsServer } from '../testkit/dns-server.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
let agentProcess: ManagedProcess | undefined;
let dns: TestDnsServer | undefined;
let me: AgentCredentials;
let offline: AgentCredentials;
const runnerToken = generateToken();
const RUNNER = `diag-runner:${runnerToken}`;
let password = '';

interface Answer {
  ok: boolean;
  command: string;
  durationMs: number;
  args?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: string;
  code?: string;
}

const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(90_000) });

async function diag(target: AgentCredentials, command: string, args: Record<string, unknown> = {}, headers: Record<string, string> = { authorization: `Bearer ${RUNNER}` }): Promise<{ status: number; body: Answer }> {
  const res = await api(`/api/agents/${target.site}/${target.agent}/diagnostics`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ command, args }) });
  return { status: res.status, body: (await res.json()) as Answer };
}

async function diagnosticsLog(query = ''): Promise<AuditEntry[]> {
  const res = await api(`/api/diagnostics?${query}`, { headers: { authorization: `Bearer ${RUNNER}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { diagnostics: AuditEntry[] }).diagnostics;
}

/** The newest audit entry of this command on this agent (GET /api/diagnostics is newest first). */
async function lastAudited(target: AgentCredentials, command: string): Promise<AuditEntry | undefined> {
  return (await diagnosticsLog(`site=${target.site}&agent=${target.agent}&limit=100`)).find((e) => e.action === `diagnostics.${command}`);
}

beforeAll(async () => {
  const runner = [`  - name: diag-runner`, `    tokenHash: ${await hashToken(runnerToken, { N: 1024, r: 8, p: 1 })}`, '    subscribe: []', '    api: [diagnostics:run]'].join('\n');
  stack = await startStack({ agents: 2, hubYaml: `services:\n${runner}\n` });
  const [a, b] = stack.agents;
  if (a === undefined || b === undefined) throw new Error('no agents');
  me = a;
  offline = b; // enrolled, never started
  dns = await startDnsServer({ 'portal.test': '10.0.0.7' });
  const added = await runProgram('ioc-hub', ['users', 'add', '--name', 'an', '--role', 'technician', '--display-name', 'Nguyễn Văn An', '--config', stack.hubConfig]);
  expect(added.code, added.stderr).toBe(0);
  password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
  agentProcess = startAgentProcess(stack, me, ['  - type: tcp', '    name: hub-http', '    host: 127.0.0.1', `    port: ${stack.httpPort}`, '    intervalS: 30']);
  await waitUntil(
    'the agent is connected',
    async () => {
      const res = await api('/api/agents', { headers: { authorization: stack.readAuth } });
      const agents = ((await res.json()) as { agents: { site: string; agent: string; online: boolean }[] }).agents;
      return agents.some((x) => x.site === me.site && x.agent === me.agent && x.online);
    },
    60_000,
    200,
  );
}, 180_000);

afterAll(async () => {
  await agentProcess?.stop();
  await dns?.close();
  await stack?.stop();
});

describe('each diagnostic runs on the real agent and is audited with its result', () => {
  it('ping 127.0.0.1 with the real ping', async () => {
    const r = await diag(me, 'ping', { host: '127.0.0.1', count: 2, timeoutS: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body.args).toEqual({ host: '127.0.0.1', count: 2, timeoutS: 1 });
    expect(r.body.result).toMatchObject({ exitCode: 0, summary: { transmitted: 2, received: 2, lossPct: 0 } });
    expect(String(r.body.result?.output)).toContain('2 packets transmitted, 2 received');
    const e = await lastAudited(me, 'ping');
    expect(e).toMatchObject({ who: 'service:diag-runner', target: `${me.site}/${me.agent}`, detail: { outcome: 'ok', args: { host: '127.0.0.1', count: 2 }, result: { exitCode: 0, summary: { received: 2 } } } });
    expect(typeof e?.detail?.durationMs).toBe('number');
    expect(Date.parse(e?.at ?? '')).toBeGreaterThan(Date.now() - 60_000);
  }, 60_000);

  it('traceroute 127.0.0.1 with the real traceroute', async () => {
    const r = await diag(me, 'traceroute', { host: '127.0.0.1', maxHops: 3, waitS: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(String(r.body.result?.output)).toMatch(/^ 1 {2}127\.0\.0\.1 /m);
    expect((await lastAudited(me, 'traceroute'))?.detail).toMatchObject({ outcome: 'ok', result: { exitCode: 0 } });
  }, 90_000);

  it('dns through the system resolver and through a given server', async () => {
    const sys = await diag(me, 'dns', { name: 'localhost' });
    expect(sys.status, JSON.stringify(sys.body)).toBe(200);
    expect(sys.body.result).toMatchObject({ server: 'system', answers: expect.arrayContaining(['127.0.0.1']) });
    const given = await diag(me, 'dns', { name: 'portal.test', server: `127.0.0.1:${dns?.port ?? 0}` });
    expect(given.status, JSON.stringify(given.body)).toBe(200);
    expect(given.body.result).toMatchObject({ answers: ['10.0.0.7'], server: `127.0.0.1:${dns?.port ?? 0}` });
    // an answer that says no: the agent's failure, recorded as such
    const missing = await diag(me, 'dns', { name: 'nowhere.test', server: `127.0.0.1:${dns?.port ?? 0}` });
    expect(missing.status).toBe(200);
    expect(missing.body).toMatchObject({ ok: false, error: expect.stringContaining('ENOTFOUND') });
    const e = await lastAudited(me, 'dns');
    expect(e?.detail).toMatchObject({ outcome: 'failed', args: { name: 'nowhere.test' }, error: expect.stringContaining('ENOTFOUND') });
  }, 60_000);

  it('restart-collector restarts the named collector; an unknown one is refused by the agent with the names it has', async () => {
    const r = await diag(me, 'restart-collector', { name: 'hub-http' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.result).toMatchObject({ collector: 'tcp:hub-http' });
    const unknown = await diag(me, 'restart-collector', { name: 'modbus:ups' });
    expect(unknown.body).toMatchObject({ ok: false, error: expect.stringContaining('it has: tcp:hub-http') });
    expect((await lastAudited(me, 'restart-collector'))?.detail).toMatchObject({ outcome: 'failed', args: { name: 'modbus:ups' } });
  }, 90_000);

  it('logs returns the agent’s own newest lines, the restart among them', async () => {
    const r = await diag(me, 'logs', { lines: 200 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const lines = (r.body.result?.lines ?? []) as string[];
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.length).toBeLessThanOrEqual(200);
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; collector?: string });
    expect(parsed.some((l) => l.msg === 'collector restarted' && l.collector === 'tcp:hub-http')).toBe(true);
    expect(parsed.some((l) => l.msg === 'command handled')).toBe(true);
    expect(lines.join('\n')).not.toContain(me.token); // the logger's redaction holds in the ring too
    const e = await lastAudited(me, 'logs');
    expect(e?.detail).toMatchObject({ outcome: 'ok', args: { lines: 200 } });
  }, 60_000);

  it('probe-now runs every collector', async () => {
    const r = await diag(me, 'probe-now');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.result).toMatchObject({ collectors: 1, points: 1 });
    expect((await lastAudited(me, 'probe-now'))?.detail).toMatchObject({ outcome: 'ok', result: { collectors: 1 } });
  }, 90_000);

  it('ioc-hub diag run and diag log through the API', async () => {
    const env = { IOC_HUB_API_TOKEN: RUNNER };
    const run = await runProgram('ioc-hub', ['diag', 'run', `${me.site}/${me.agent}`, 'ping', '--host', '127.0.0.1', '--count', '1', '--url', stack.httpUrl], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 packets transmitted, 1 received');
    const log = await runProgram('ioc-hub', ['diag', 'log', '--site', me.site, '--url', stack.httpUrl, '--limit', '3'], { env });
    expect(log.code, log.stderr).toBe(0);
    const rows = log.stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[0]?.split('\t').slice(1, 5)).toEqual(['service:diag-runner', 'ping', `${me.site}/${me.agent}`, 'ok']);
    const hostile = await runProgram('ioc-hub', ['diag', 'run', `${me.site}/${me.agent}`, 'ping', '--host', '; rm -rf /', '--url', stack.httpUrl], { env });
    expect(hostile.code).toBe(1);
    expect(hostile.stderr).toContain('400 E_INPUT: ping: host: a host name or an IP address');
  }, 90_000);
});

describe('refusals are clear and audited', () => {
  it('a hostile host or a huge count is refused before it reaches the agent, and audited as refused', async () => {
    for (const args of [{ host: '; rm -rf /' }, { host: '$(reboot)' }, { host: '-f' }, { host: '127.0.0.1', count: 1_000_000 }]) {
      const r = await diag(me, 'ping', args);
      expect(r.status, JSON.stringify(args)).toBe(400);
      expect(r.body).toMatchObject({ ok: false, code: 'E_INPUT', error: expect.stringMatching(/^ping: (host|count): /) });
    }
    const entries = (await diagnosticsLog(`site=${me.site}&agent=${me.agent}&limit=4`)).map((e) => e.detail);
    expect(entries).toHaveLength(4);
    for (const d of entries) expect(d).toMatchObject({ outcome: 'refused', code: 'E_INPUT' });
    expect(entries.map((d) => (d?.args as { host: string }).host).reverse()).toEqual(['; rm -rf /', '$(reboot)', '-f', '127.0.0.1']);
    // an unknown command, too
    const odd = await diag(me, 'shell', { cmd: 'id' });
    expect(odd.status).toBe(400);
    expect(odd.body.error).toContain('command must be one of ping, traceroute, dns, logs, restart-collector, probe-now');
    expect((await lastAudited(me, 'unknown'))?.detail).toMatchObject({ outcome: 'refused', command: 'shell' });
  }, 60_000);

  it('an offline agent is refused with 409 and the reason, audited; an unknown agent with 404', async () => {
    const r = await diag(offline, 'ping', { host: '127.0.0.1' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ ok: false, code: 'E_AGENT_OFFLINE', error: `agent ${offline.site}/${offline.agent} is not connected` });
    expect((await lastAudited(offline, 'ping'))?.detail).toMatchObject({ outcome: 'offline', code: 'E_AGENT_OFFLINE' });
    const ghost = await diag({ ...me, agent: 'pi-404' }, 'logs');
    expect(ghost.status).toBe(404);
    expect(ghost.body).toMatchObject({ code: 'E_UNKNOWN_AGENT' });
    expect(await metricLine('ioc_hub_diagnostics_total{outcome="offline"}')).toBe(1);
  }, 60_000);

  it('a technician with a session runs one (CSRF token required); anonymous, or a reader token, cannot', async () => {
    const login = await api('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'an', password }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await login.json()) as { csrf: string };
    const ok = await diag(me, 'dns', { name: 'localhost' }, { cookie, 'x-csrf-token': csrf });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await lastAudited(me, 'dns'))).toMatchObject({ who: 'user:an', detail: { by: 'Nguyễn Văn An', outcome: 'ok' } });
    expect((await diag(me, 'dns', { name: 'localhost' }, { cookie })).status).toBe(403); // no CSRF token
    const before = (await diagnosticsLog('limit=500')).length;
    const anon = await diag(me, 'ping', { host: '127.0.0.1' }, {});
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ code: 'E_AUTH' });
    expect((await diag(me, 'ping', { host: '127.0.0.1' }, { authorization: stack.readAuth })).status).toBe(401); // reader lacks diagnostics:run
    expect((await api('/api/diagnostics')).status).toBe(401);
    expect((await diagnosticsLog('limit=500')).length).toBe(before); // nothing ran, nothing to record
  }, 60_000);
});

/** One labelled series of /metrics (stack.metrics() sums a name's labels). */
async function metricLine(series: string): Promise<number | undefined> {
  const text = await (await api('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
