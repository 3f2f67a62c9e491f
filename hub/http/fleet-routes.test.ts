// The fleet's writes and the logins' management over the API, through fastify's inject (no port): who may enroll,
// rotate and revoke (operator, admin, a service with agents:write; not a technician, not anonymous, not without
// CSRF), the token answered once and working at once, an unknown site named with the nearest one, an in-process
// revoke passed to the change listeners at once; users for an admin's session alone, the last admin kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentStateTable } from '../agents/agent-state.ts';
import { PointsToday } from '../agents/points-today.ts';
import { Registry, type AgentChange } from '../agents/registry.ts';
import { generateToken, hashToken } from '../agents/token.ts';
import { AccountStore } from '../auth/accounts.ts';
import { ApiAuth } from '../auth/api-auth.ts';
import { AuditLog } from '../auth/audit-log.ts';
import { ServiceAccounts } from '../auth/service-accounts.ts';
import { consoleConfigSchema, sessionsConfigSchema } from '../auth/session-config.ts';
import { SessionAuth } from '../auth/sessions.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import { consoleRoutes } from './console-routes.ts';
import { fleetRoutes } from './fleet-routes.ts';
import { buildHttp } from './http.ts';
import { usersRoutes } from './users-routes.ts';

const LOW = { N: 1024, r: 8, p: 1 };
const PASSWORD = 'mat-khau-dai-1';
const dir = mkdtempSync(join(tmpdir(), 'ioc-fleet-api-'));
const site = { slug: 'xa-lap-thach', name: 'Xã Lập Thạch', code: '08800', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'lap-thach', areaName: 'Huyện Lập Thạch' };
let registry: Registry;
let store: AccountStore;
let audit: AuditLog;
let app: ReturnType<typeof buildHttp>;
const changes: AgentChange[] = [];
const writerToken = generateToken();
const readerToken = generateToken();

beforeAll(async () => {
  registry = await Registry.open(join(dir, 'registry.db'), { secret: Buffer.alloc(32, 7), scrypt: LOW });
  await registry.upsertSite(site);
  registry.onAgentChange((c) => changes.push(c));
  store = AccountStore.open(join(dir, 'accounts.db'), { scrypt: LOW });
  for (const [name, role] of [['an', 'technician'], ['binh', 'operator'], ['chi', 'admin']] as const) await store.addUser({ name, role, password: PASSWORD, displayName: name.toUpperCase() });
  const services = new ServiceAccounts([
    { name: 'provisioner', tokenHash: await hashToken(writerToken, LOW), subscribe: [], api: ['agents:write'] },
    { name: 'reader', tokenHash: await hashToken(readerToken, LOW), subscribe: [], api: ['agents:read'] },
  ]);
  const sessions = new SessionAuth(store, sessionsConfigSchema.parse({}), true);
  const auth = new ApiAuth(services, LOW, sessions);
  audit = new AuditLog(join(dir, 'audit.jsonl'));
  const logger = silentLogger();
  app = buildHttp({
    metrics: new HubMetrics(),
    registry,
    agentState: new AgentStateTable(),
    pointsToday: new PointsToday(),
    influxUp: async () => true,
    brokerUp: () => true,
    logger,
    auth,
    audit,
    listFleet: () => registry.listFleet(),
    plugins: [
      consoleRoutes({ sessions, console: consoleConfigSchema.parse({ dir: join(dir, 'no-console') }), audit, logger }),
      fleetRoutes({ registry, auth, audit, logger, mqtt: { host: '0.0.0.0', port: 1883 } }),
      usersRoutes({ store, auth, audit, logger }),
    ],
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function session(username: string, password = PASSWORD): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
  expect(res.statusCode, `login of ${username}`).toBe(200);
  return { cookie: String(res.headers['set-cookie']).split(';')[0] ?? '', 'x-csrf-token': res.json<{ csrf: string }>().csrf };
}

const post = (url: string, headers: Record<string, string>, payload: unknown = {}) => app.inject({ method: 'POST', url, headers: { host: 'ioc.example.gov.vn:8080', ...headers }, payload: payload as Record<string, unknown> });

describe('POST /api/agents and /api/agents/:site/:agent/{rotate,revoke}', () => {
  it('an operator enrolls: the token once, valid at once, an agent.yaml for the console host, recorded in the audit log', async () => {
    const res = await post('/api/agents', await session('binh'), { site: site.slug, agent: 'pi-1' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ token: string; hubUrl: string; config: string }>();
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.hubUrl).toBe('mqtt://ioc.example.gov.vn:1883');
    expect(body.config).toContain(`token: ${body.token}`);
    expect(body.config).toContain('url: mqtt://ioc.example.gov.vn:1883');
    expect(await registry.verify(site.slug, 'pi-1', body.token)).toBe(true);
    // the inventory never shows it again
    expect(JSON.stringify((await app.inject({ method: 'GET', url: '/api/agents', headers: { authorization: `Bearer reader:${readerToken}` } })).json())).not.toContain(body.token);
    expect((await audit.tail(10)).find((e) => e.action === 'agent.enroll')).toMatchObject({ who: 'user:binh', target: `${site.slug}/pi-1` });
  });

  it('refuses a technician (403), anonymous (401), a session write without CSRF (403), a service without agents:write (401)', async () => {
    const tech = await post('/api/agents', await session('an'), { site: site.slug, agent: 'pi-9' });
    expect(tech.statusCode).toBe(403);
    expect(tech.json<{ error: string }>().error).toBe('the role technician may not do this (agents:write)');
    const anon = await post(`/api/agents/${site.slug}/pi-1/revoke`, {});
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ code: 'E_AUTH' });
    const { cookie } = await session('binh');
    expect((await post(`/api/agents/${site.slug}/pi-1/revoke`, { cookie })).json()).toMatchObject({ code: 'E_CSRF' });
    expect((await post('/api/agents', { authorization: `Bearer reader:${readerToken}` }, { site: site.slug, agent: 'pi-9' })).statusCode).toBe(401);
    expect(registry.getAgent(site.slug, 'pi-9')).toBeUndefined();
    expect(registry.getAgent(site.slug, 'pi-1')).toBeDefined();
  });

  it('names an unknown site with the nearest of the registry (400) and a bad agent id; an unknown agent is 404', async () => {
    const headers = await session('chi');
    const typo = await post('/api/agents', headers, { site: 'xa-lap-thac', agent: 'pi-2' });
    expect(typo.statusCode).toBe(400);
    expect(typo.json()).toEqual({ code: 'E_INPUT', error: 'site: unknown site (not in the registry) "xa-lap-thac" (did you mean "xa-lap-thach"?)' });
    expect((await post('/api/agents', headers, { site: site.slug, agent: 'Pi 2' })).statusCode).toBe(400);
    expect((await post('/api/agents', headers, { site: site.slug, agent: 'pi-2', hubUrl: 'http://x' })).json()).toMatchObject({ code: 'E_INPUT', error: expect.stringContaining('hubUrl') });
    const none = await post(`/api/agents/${site.slug}/pi-8/revoke`, headers);
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ code: 'E_UNKNOWN_AGENT' });
  });

  it('a service with agents:write rotates (old token refused) and revokes; both reach the change listeners at once', async () => {
    const auth = { authorization: `Bearer provisioner:${writerToken}` };
    const first = (await post('/api/agents', auth, { site: site.slug, agent: 'pi-3', hubUrl: 'mqtts://hub.tinh.gov.vn:8883' })).json<{ token: string; config: string }>();
    expect(first.config).toContain('url: mqtts://hub.tinh.gov.vn:8883');
    expect(await registry.verify(site.slug, 'pi-3', first.token)).toBe(true);
    changes.length = 0;
    const rotated = await post(`/api/agents/${site.slug}/pi-3/rotate`, auth);
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json<{ token: string }>().token;
    expect(second).not.toBe(first.token);
    expect(await registry.verify(site.slug, 'pi-3', first.token)).toBe(false);
    expect(await registry.verify(site.slug, 'pi-3', second)).toBe(true);
    expect(changes).toEqual([expect.objectContaining({ site: site.slug, agent: 'pi-3', kind: 'rotate' })]);
    const revoked = await post(`/api/agents/${site.slug}/pi-3/revoke`, auth);
    expect(revoked.json()).toEqual({ site: site.slug, agent: 'pi-3', revoked: true });
    // no poll ran: the listeners (fleet-sync: close the connection) got it from the write itself
    expect(changes.at(-1)).toEqual({ site: site.slug, agent: 'pi-3', kind: 'revoke', tokenRev: undefined });
    expect(await registry.verify(site.slug, 'pi-3', second)).toBe(false);
    const entries = await audit.tail(20);
    expect(entries.filter((e) => e.target === `${site.slug}/pi-3`).map((e) => [e.who, e.action])).toEqual([
      ['service:provisioner', 'agent.enroll'],
      ['service:provisioner', 'agent.rotate'],
      ['service:provisioner', 'agent.revoke'],
    ]);
  });
});

describe('/api/users (admin session only)', () => {
  it('an admin lists and adds a user (a made-up password answered once) who can log in; recorded', async () => {
    const headers = await session('chi');
    const list = await app.inject({ method: 'GET', url: '/api/users', headers: { cookie: headers.cookie } });
    expect(list.json<{ users: { name: string }[] }>().users.map((u) => u.name)).toEqual(['an', 'binh', 'chi']);
    expect(JSON.stringify(list.json())).not.toContain('scrypt');
    const added = await post('/api/users', headers, { name: 'dung', role: 'technician', displayName: 'Trần Thị Dung' });
    expect(added.statusCode).toBe(201);
    const { password, user } = added.json<{ password: string; user: { name: string; role: string; displayName: string } }>();
    expect(user).toMatchObject({ name: 'dung', role: 'technician', displayName: 'Trần Thị Dung', disabled: false });
    await session('dung', password);
    expect((await post('/api/users', headers, { name: 'dung', role: 'technician' })).statusCode).toBe(409);
    expect((await post('/api/users', headers, { name: 'em', role: 'boss' })).json()).toMatchObject({ code: 'E_INPUT', error: expect.stringContaining('role') });
    expect((await post('/api/users', headers, { name: 'em', role: 'operator', password: 'short' })).statusCode).toBe(400);
    expect((await audit.tail(50)).find((e) => e.action === 'user.add')).toMatchObject({ who: 'user:chi', target: 'dung', detail: { role: 'technician' } });
  });

  it('refuses an operator (403), anonymous (401) and any service token (403)', async () => {
    const op = await session('binh');
    expect((await app.inject({ method: 'GET', url: '/api/users', headers: { cookie: op.cookie } })).statusCode).toBe(403);
    expect((await post('/api/users', op, { name: 'x1', role: 'admin', password: 'mot-mat-khau-dai' })).statusCode).toBe(403);
    expect((await post('/api/users', {}, { name: 'x1', role: 'admin', password: 'mot-mat-khau-dai' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/users', headers: { authorization: `Bearer provisioner:${writerToken}` } })).statusCode).toBe(403);
    expect(store.listUsers().map((u) => u.name)).not.toContain('x1');
  });

  it('disables (sessions end), enables, resets a password; the last enabled admin cannot disable themself', async () => {
    const headers = await session('chi');
    const victim = await session('an');
    expect((await post('/api/users/an/disable', headers)).json()).toMatchObject({ user: { name: 'an', disabled: true } });
    expect((await app.inject({ method: 'GET', url: '/api/session', headers: { cookie: victim.cookie } })).json()).toMatchObject({ user: null });
    expect((await post('/api/users/an/enable', headers)).json()).toMatchObject({ user: { disabled: false } });
    const reset = (await post('/api/users/an/password', headers)).json<{ password: string }>();
    await session('an', reset.password);
    const last = await post('/api/users/chi/disable', headers);
    expect(last.statusCode).toBe(409);
    expect(last.json()).toMatchObject({ code: 'E_LAST_ADMIN' });
    expect(store.user('chi').disabled).toBe(false);
    expect((await post('/api/users/nobody/disable', headers)).statusCode).toBe(404);
    const entries = (await audit.tail(50)).filter((e) => e.target === 'an' && e.action !== 'user.login');
    expect(entries.map((e) => [e.who, e.action])).toEqual([['user:chi', 'user.disable'], ['user:chi', 'user.enable'], ['user:chi', 'user.passwd']]);
  });
});
