// The hub's HTTP API as a client sees it (hub process, real influxd): reads need a scope, tokens cannot be
// enumerated by timing, /api/alerts pages, silences are authored by the login and bounded, writes are audited.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, hashToken } from '../hub/agents/token.ts';
import { agentIdentity, telemetryTopic, type AlertRecord, type Batch } from '../protocol/index.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
let rulesDir = '';
let writer = '';
const SERIES = 230;

const get = (path: string, auth?: string): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { headers: auth === undefined ? {} : { authorization: auth }, signal: AbortSignal.timeout(10_000) });
const send = (method: string, path: string, body: unknown, auth = writer): Promise<Response> =>
  fetch(`${stack.httpUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'ioc-alerts-api-'));
  const rulesFile = join(rulesDir, 'alerts.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: probe-down, type: threshold, measurement: net_probe, field: up, below: 0.5 }\n');
  const token = generateToken();
  writer = `Bearer ops:${token}`;
  // default scrypt parameters, as `ioc-hub services token` makes them
  const servicesYaml = ['services:', '  - name: ops', `    tokenHash: ${await hashToken(token)}`, '    api: [alerts:write]'].join('\n');
  stack = await startStack({ agents: 1, hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 0s', '  maxAlertsPerRuleSite: 1000', '  maxPageSize: 100', servicesYaml].join('\n') });
  const a = stack.agents[0];
  if (a === undefined) throw new Error('no agent');
  const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
  const t = Date.now();
  const batch: Batch = { seq: 1, sentAt: t, points: Array.from({ length: SERIES }, (_, i) => ({ m: 'net_probe', t, tags: { target: `t-${i}`, method: 'tcp' }, fields: { up: 0 } })) };
  expect(await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(batch))).toBe('acked');
  await endClient(client);
  await waitUntil('every alert firing', async () => (((await (await get('/api/alerts?state=firing&limit=100', stack.readAuth)).json()) as { alerts: unknown[] }).alerts.length === 100 ? true : undefined), 20_000, 200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (rulesDir !== '') rmSync(rulesDir, { recursive: true, force: true });
});

describe('reads need a role', () => {
  it('401 without a token, 200 with a read token; /healthz and /metrics stay open', async () => {
    for (const path of ['/api/sites', '/api/alerts', '/api/alerts/x', '/api/silences', '/api/audit']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('E_AUTH');
      expect((await get(path, 'Bearer test-reader:wrong')).status, path).toBe(401);
    }
    for (const path of ['/api/sites', '/api/alerts', '/api/silences', '/api/audit']) expect((await get(path, stack.readAuth)).status, path).toBe(200);
    const sites = (await (await get('/api/sites', stack.readAuth)).json()) as { sites: unknown[] };
    expect(sites.sites.length).toBeGreaterThan(100);
    expect((await get('/api/audit', writer)).status).toBe(401); // alerts:write is not audit:read
    expect((await send('POST', '/api/silences', { sites: ['x'], endsAt: Date.now() + 60_000 }, stack.readAuth)).status).toBe(401); // read is not write
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
  });

  it('a refusal takes as long for an unknown name as for a known name with a wrong token', async () => {
    const time = async (auth: string): Promise<number> => {
      const t0 = performance.now();
      expect((await get('/api/alerts?limit=1', auth)).status).toBe(401);
      return performance.now() - t0;
    };
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 12; i++) {
      unknown.push(await time(`Bearer nobody-${i}:${generateToken()}`));
      known.push(await time(`Bearer ops:${generateToken()}`));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    // A known name costs one scrypt (tens of ms); without the dummy check an unknown name answered at once.
    expect(median(known)).toBeGreaterThan(5);
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(unknown)).toBeLessThan(median(known) * 2);
  });
});

describe('GET /api/alerts pages', () => {
  it('returns every alert exactly once across pages, none larger than the bound', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await get(`/api/alerts?limit=40${cursor === undefined ? '' : `&cursor=${cursor}`}`, stack.readAuth);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { alerts: AlertRecord[]; nextCursor?: string };
      expect(body.alerts.length).toBeLessThanOrEqual(40);
      ids.push(...body.alerts.map((a) => a.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(Math.ceil(SERIES / 40));
    expect(ids).toHaveLength(SERIES);
    expect(new Set(ids).size).toBe(SERIES);
    // no limit: the default page; past the bound or a bad cursor: a clear 400
    expect(((await (await get('/api/alerts', stack.readAuth)).json()) as { alerts: unknown[] }).alerts).toHaveLength(100);
    const tooBig = await get('/api/alerts?limit=100000', stack.readAuth);
    expect(tooBig.status).toBe(400);
    expect(((await tooBig.json()) as { error: string }).error).toBe('limit: an integer from 1 to 100');
    expect((await get('/api/alerts?cursor=bm9wZQ', stack.readAuth)).status).toBe(400);
  });
});

describe('silences', () => {
  it('take the author from the login, need a matcher unless allSites, and have a bounded end', async () => {
    const site = stack.agents[0]?.site ?? '';
    const forged = await send('POST', '/api/silences', { sites: [site], endsAt: Date.now() + 3_600_000, createdBy: 'giam-doc' });
    expect(forged.status).toBe(201);
    const { silence } = (await forged.json()) as { silence: { id: string; createdBy: string } };
    expect(silence.createdBy).toBe('ops');

    const matcherless = await send('POST', '/api/silences', { endsAt: Date.now() + 3_600_000 });
    expect(matcherless.status).toBe(400);
    expect(await matcherless.json()).toEqual({ code: 'E_ALERT_INPUT', error: 'sites: a silence needs sites, areas or rules to match (or allSites: true to silence the whole province)' });
    const forever = await send('POST', '/api/silences', { sites: [site], endsAt: '2286-01-01T00:00:00Z' });
    expect(forever.status).toBe(400);
    expect(((await forever.json()) as { error: string }).error).toMatch(/^endsAt: a silence may last at most 168 h \(alerts\.maxSilence\)/);
    const province = await send('POST', '/api/silences', { allSites: true, endsAt: Date.now() + 60_000, comment: 'bảo trì toàn tỉnh' });
    expect(province.status).toBe(201);
    const provinceId = ((await province.json()) as { silence: { id: string } }).silence.id;
    expect((await send('DELETE', `/api/silences/${provinceId}`, {})).status).toBe(204);
  });
});

describe('the audit log', () => {
  it('holds each write: ack, silence create and delete from the API; sites import and enroll from the CLI', async () => {
    const firing = ((await (await get('/api/alerts?state=firing&limit=1', stack.readAuth)).json()) as { alerts: AlertRecord[] }).alerts[0];
    expect(firing).toBeDefined();
    expect((await send('POST', `/api/alerts/${firing?.id}/ack`, { by: 'ky-thuat-an' })).status).toBe(200);
    const created = (await (await send('POST', '/api/silences', { rules: ['probe-down'], endsAt: Date.now() + 60_000 })).json()) as { silence: { id: string } };
    expect((await send('DELETE', `/api/silences/${created.silence.id}`, {})).status).toBe(204);

    const res = await get('/api/audit?limit=1000', stack.readAuth);
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: { at: string; who: string; action: string; target?: string; detail?: Record<string, unknown> }[] };
    const api = entries.filter((e) => e.who === 'service:ops');
    expect(api.find((e) => e.action === 'alert.ack')).toMatchObject({ target: firing?.id, detail: { by: 'ky-thuat-an' } });
    expect(api.filter((e) => e.action === 'silence.create').map((e) => e.target)).toContain(created.silence.id);
    expect(api.filter((e) => e.action === 'silence.delete').map((e) => e.target)).toContain(created.silence.id);
    expect(entries.find((e) => e.action === 'sites.import')?.who).toMatch(/^cli:/);
    expect(entries.find((e) => e.action === 'agent.enroll')).toMatchObject({ target: '*/pi-1', detail: { sites: 1 } });
    for (const e of entries) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    // the file beside the registry, one JSON object a line
    const file = readFileSync(join(dirname(join(stack.dir, 'registry.json')), 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(file.length).toBe(entries.length);
    expect(file.map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(entries.map((e) => e.action));
  });
});
