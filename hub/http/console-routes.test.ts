// Sessions, roles and CSRF on the HTTP API, through fastify's inject (no port): a person logs in, acknowledges as
// themself, a write without the session's CSRF token or without a session is refused, bearer tokens keep working.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentStateTable } from '../agents/agent-state.ts';
import { PointsToday } from '../agents/points-today.ts';
import { hashToken, generateToken } from '../agents/token.ts';
import { AccountStore } from '../auth/accounts.ts';
import { ApiAuth } from '../auth/api-auth.ts';
import { AuditLog } from '../auth/audit-log.ts';
import { ServiceAccounts } from '../auth/service-accounts.ts';
import { consoleConfigSchema, sessionsConfigSchema } from '../auth/session-config.ts';
import { SessionAuth } from '../auth/sessions.ts';
import { AlertEngine } from '../alerts/engine.ts';
import { alertRoutes } from '../alerts/http-routes.ts';
import { incidentRulesOf } from '../alerts/incidents.ts';
import { parseRulesFile } from '../alerts/rules-file.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import { buildHttp } from './http.ts';
import { consoleRoutes } from './console-routes.ts';

const LOW = { N: 1024, r: 8, p: 1 };
const T0 = Date.parse('2025-06-02T02:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'ioc-console-'));
const rules = parseRulesFile({ rules: [{ name: 'ups-on-battery', type: 'threshold', measurement: 'equipment', field: 'on_battery', above: 0.5 }] });
const sites = [{ slug: 'xa-lap-thach', area: 'lap-thach' }, { slug: 'xa-tam-dao', area: 'tam-dao' }];
const metrics = new HubMetrics();
let engine: AlertEngine;
let app: ReturnType<typeof buildHttp>;
let store: AccountStore;
let audit: AuditLog;
const serviceToken = generateToken();

beforeAll(async () => {
  store = AccountStore.open(join(dir, 'accounts.db'), { scrypt: LOW });
  await store.addUser({ name: 'an', displayName: 'Nguyễn Văn An', role: 'technician', password: 'mat-khau-dai-1' });
  engine = new AlertEngine({ rules, outputs: { active: () => undefined, resolved: () => undefined }, now: () => T0, evaluateIntervalMs: 0, startupGraceMs: 0, sliceBudgetMs: 60_000 });
  await engine.start();
  engine.onPoints([{ measurement: 'equipment', tags: { site: 'xa-lap-thach', agent: 'pi-1', device: 'ups', kind: 'ups', area: 'lap-thach', province: 'phu-tho' }, fields: { on_battery: 1 }, timestamp: T0 }]);
  engine.tick();
  const services = new ServiceAccounts([{ name: 'node-red', tokenHash: await hashToken(serviceToken, LOW), subscribe: [], api: ['alerts:write'] }]);
  const sessions = new SessionAuth(store, sessionsConfigSchema.parse({ loginFailures: 3 }), true);
  const auth = new ApiAuth(services, LOW, sessions);
  audit = new AuditLog(join(dir, 'audit.jsonl'));
  const logger = silentLogger();
  app = buildHttp({
    metrics,
    registry: { listSites: () => [], listAgents: () => [] },
    agentState: new AgentStateTable(),
    pointsToday: new PointsToday(),
    influxUp: async () => true,
    brokerUp: () => true,
    logger,
    auth,
    audit,
    plugins: [
      alertRoutes({ engine, auth, audit, logger, rules, incidentRules: incidentRulesOf(rules), sites: () => sites }),
      consoleRoutes({ sessions, console: consoleConfigSchema.parse({ dir: join(dir, 'no-console') }), audit, metrics, logger }),
    ],
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const login = async (password = 'mat-khau-dai-1', username = 'an') => app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
const cookieOf = (res: { headers: Record<string, unknown> }): string => String(res.headers['set-cookie']).split(';')[0] ?? '';
const firingId = (): string => engine.list({ state: 'firing' })[0]?.id ?? engine.list()[0]?.id ?? '';

describe('console sessions', () => {
  it('logs in with an HttpOnly SameSite=Strict cookie and tells who is logged in', async () => {
    const res = await login();
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^ioc_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const body = res.json<{ user: { name: string; displayName: string; role: string }; csrf: string }>();
    expect(body.user).toEqual({ name: 'an', displayName: 'Nguyễn Văn An', role: 'technician' });
    const who = await app.inject({ method: 'GET', url: '/api/session', headers: { cookie: cookieOf(res) } });
    expect(who.json()).toMatchObject({ user: { name: 'an' }, csrf: body.csrf });
    expect((await app.inject({ method: 'GET', url: '/api/session' })).json()).toEqual({ user: null, anonymousWall: true });
    // a form post (no JSON) is not a login
    expect((await app.inject({ method: 'POST', url: '/api/login', payload: 'username=an&password=mat-khau-dai-1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(415);
  });

  it('refuses an unauthenticated acknowledgement (401) and a session write without its CSRF token (403)', async () => {
    const id = firingId();
    expect(id).not.toBe('');
    const anon = await app.inject({ method: 'POST', url: `/api/alerts/${id}/ack`, payload: { by: 'ke-gia-mao' } });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ code: 'E_AUTH' });
    expect((await app.inject({ method: 'GET', url: '/api/alerts' })).statusCode).toBe(401); // anonymous reads only the wall
    const res = await login();
    const cookie = cookieOf(res);
    const noCsrf = await app.inject({ method: 'POST', url: `/api/alerts/${id}/ack`, headers: { cookie }, payload: {} });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json()).toMatchObject({ code: 'E_CSRF' });
    const wrongCsrf = await app.inject({ method: 'POST', url: `/api/alerts/${id}/ack`, headers: { cookie, 'x-csrf-token': 'x'.repeat(32) }, payload: {} });
    expect(wrongCsrf.statusCode).toBe(403);
    expect(engine.get(id)?.state).toBe('firing');
  });

  it('a technician acknowledges as themself (the body cannot name another), recorded in the audit log', async () => {
    const id = firingId();
    const res = await login();
    const { csrf } = res.json<{ csrf: string }>();
    const ack = await app.inject({ method: 'POST', url: `/api/alerts/${id}/ack`, headers: { cookie: cookieOf(res), 'x-csrf-token': csrf }, payload: { by: 'giam-doc' } });
    expect(ack.statusCode).toBe(200);
    expect(engine.get(id)).toMatchObject({ state: 'acknowledged', ackedBy: 'Nguyễn Văn An' });
    const entry = (await audit.tail(100)).find((e) => e.action === 'alert.ack');
    expect(entry).toMatchObject({ who: 'user:an', target: id, detail: { by: 'Nguyễn Văn An' } });
    const incidents = await app.inject({ method: 'GET', url: '/api/incidents', headers: { cookie: cookieOf(res) } });
    expect(incidents.json<{ incidents: { alert: { id: string; ackedBy: string } }[] }>().incidents).toEqual([expect.objectContaining({ alert: expect.objectContaining({ id, ackedBy: 'Nguyễn Văn An' }), parts: [] })]);
  });

  it('refuses a silence for an unknown site, area or rule with a message naming it; a known one is made', async () => {
    const res = await login();
    const headers = { cookie: cookieOf(res), 'x-csrf-token': res.json<{ csrf: string }>().csrf };
    const endsAt = T0 + 3_600_000;
    const typo = await app.inject({ method: 'POST', url: '/api/silences', headers, payload: { sites: ['xa-lap-thac'], endsAt } });
    expect(typo.statusCode).toBe(400);
    expect(typo.json()).toEqual({ code: 'E_ALERT_INPUT', error: 'sites: unknown site (not in the registry) "xa-lap-thac" (did you mean "xa-lap-thach"?)' });
    const rule = await app.inject({ method: 'POST', url: '/api/silences', headers, payload: { sites: ['xa-tam-dao'], rules: ['ups-battery'], endsAt } });
    expect(rule.statusCode).toBe(400);
    expect(rule.json<{ error: string }>().error).toMatch(/^rules: unknown rule \(not in the rules file\) "ups-battery" \(did you mean "ups-on-battery"\?\)$/);
    const area = await app.inject({ method: 'POST', url: '/api/silences', headers, payload: { areas: ['song-lo'], endsAt } });
    expect(area.json<{ error: string }>().error).toMatch(/^areas: unknown area .*"song-lo"$/);
    expect(engine.listSilences()).toEqual([]);
    const ok = await app.inject({ method: 'POST', url: '/api/silences', headers, payload: { sites: ['xa-tam-dao'], rules: ['ups-on-battery'], endsAt, createdBy: 'giam-doc' } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ silence: { createdBy: 'Nguyễn Văn An' } });
    expect((await app.inject({ method: 'GET', url: '/api/alert-rules', headers: { cookie: headers.cookie } })).json()).toEqual({ rules: ['too-many-series', 'ups-on-battery'] });
  });

  it('service tokens keep working beside sessions', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/alerts', headers: { authorization: `Bearer node-red:${serviceToken}` } });
    expect(res.statusCode).toBe(200);
    const silence = await app.inject({ method: 'POST', url: '/api/silences', headers: { authorization: `Bearer node-red:${serviceToken}` }, payload: { sites: ['xa-tam-dao'], endsAt: T0 + 60_000 } });
    expect(silence.statusCode).toBe(201);
    expect(silence.json()).toMatchObject({ silence: { createdBy: 'node-red' } });
  });

  it('logout ends the session (with its CSRF token); the cookie no longer works', async () => {
    const res = await login();
    const cookie = cookieOf(res);
    const { csrf } = res.json<{ csrf: string }>();
    expect((await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })).statusCode).toBe(403);
    const out = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^ioc_session=; Max-Age=0;/);
    expect((await app.inject({ method: 'GET', url: '/api/alerts', headers: { cookie } })).statusCode).toBe(401);
  });

  it('throttles failed logins per user + address, counted in /metrics; the right password is refused unchecked meanwhile', async () => {
    for (let i = 0; i < 3; i++) expect((await login('wrong-password-x')).statusCode).toBe(401);
    const refused = await login();
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'E_LOGIN_THROTTLED' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/^ioc_hub_logins_total\{outcome="failed"\} 3$/m);
    expect(text).toMatch(/^ioc_hub_logins_total\{outcome="throttled"\} 1$/m);
    expect(text).toMatch(/^ioc_hub_login_throttle_entries 1$/m);
    // unknown users are throttled too, and answered like known ones
    expect((await login('whatever-pass', 'nobody')).statusCode).toBe(401);
  });

  it('says the console is not built rather than 404 when dist/console is missing', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
  });
});

describe('without an accounts file', () => {
  it('answers logins 503 with the reason, and the rest of the API goes on', async () => {
    const bare = buildHttp({
      metrics: new HubMetrics(),
      registry: { listSites: () => [], listAgents: () => [] },
      agentState: new AgentStateTable(),
      pointsToday: new PointsToday(),
      influxUp: async () => true,
      brokerUp: () => true,
      logger: silentLogger(),
      auth: new ApiAuth(new ServiceAccounts([]), LOW),
      audit,
      plugins: [consoleRoutes({ sessions: undefined, sessionsError: 'Could not locate the bindings file', console: consoleConfigSchema.parse({ enabled: false }), audit, logger: silentLogger() })],
    });
    const res = await bare.inject({ method: 'POST', url: '/api/login', payload: { username: 'an', password: 'mat-khau-dai-1' } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ code: 'E_ACCOUNTS', error: 'logins are unavailable: Could not locate the bindings file' });
    expect((await bare.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await bare.inject({ method: 'GET', url: '/api/alerts/x/ack' })).statusCode).toBe(404);
    await bare.close();
  });
});
