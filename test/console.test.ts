// The console against the real hub process and influxd: logins made with `ioc-hub users add` while the hub runs,
// acknowledgement refused without a session and recorded by name with one, silences checked against the
// registry and the rules; then the same in Debian's Chromium at desktop and phone width, screenshots kept in
// test-artifacts/ (gitignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdentity, telemetryTopic, type AlertRecord, type Batch } from '../protocol/index.ts';
import { startChromium, type RunningChromium } from '../testkit/chromium.ts';
import { PROJECT_ROOT, runProgram } from '../testkit/child-process.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const TARGETS = ['portal', 'dns', 'gateway'];
let stack: Stack;
let rulesDir = '';
let password = '';
let site = '';
let siteName = '';

const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const alerts = async (): Promise<AlertRecord[]> => ((await (await api('/api/alerts?limit=100', { headers: { authorization: stack.readAuth } })).json()) as { alerts: AlertRecord[] }).alerts;
const firingOf = async (target: string): Promise<AlertRecord | undefined> => (await alerts()).find((a) => a.labels.target === target);

async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await api('/api/login', json({ username: 'an', password }));
  expect(res.status).toBe(200);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
}

beforeAll(async () => {
  // `npm ci` builds the console (prepare); a checkout that skipped it builds it here.
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'console', 'index.html'))) {
    expect(spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 120_000 }).status).toBe(0);
  }
  rulesDir = mkdtempSync(join(tmpdir(), 'ioc-console-'));
  const rulesFile = join(rulesDir, 'alerts.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: probe-down, type: threshold, measurement: net_probe, field: up, below: 0.5, severity: critical }\n');
  stack = await startStack({ agents: 1, hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 0s'].join('\n') });
  const a = stack.agents[0];
  if (a === undefined) throw new Error('no agent');
  site = a.site;
  siteName = ((await (await api('/api/sites', { headers: { authorization: stack.readAuth } })).json()) as { sites: { slug: string; name: string }[] }).sites.find((s) => s.slug === site)?.name ?? '';
  // The login is made from the command line while the hub runs: the hub sees it at its next request.
  const added = await runProgram('ioc-hub', ['users', 'add', '--name', 'an', '--role', 'technician', '--display-name', 'Nguyễn Văn An', '--config', stack.hubConfig]);
  expect(added.code, added.stderr).toBe(0);
  password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
  const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
  const t = Date.now();
  const batch: Batch = { seq: 1, sentAt: t, points: TARGETS.map((target) => ({ m: 'net_probe', t, tags: { target, method: 'tcp' }, fields: { up: 0 } })) };
  expect(await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(batch))).toBe('acked');
  await endClient(client);
  await waitUntil('three alerts firing', async () => ((await alerts()).filter((x) => x.state === 'firing').length === TARGETS.length ? true : undefined), 20_000, 200);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (rulesDir !== '') rmSync(rulesDir, { recursive: true, force: true });
});

describe('the console API over HTTP (real hub)', () => {
  it('refuses an unauthenticated acknowledgement and any anonymous write', async () => {
    const a = await firingOf('portal');
    expect(a?.state).toBe('firing');
    const anon = await api(`/api/alerts/${a?.id ?? ''}/ack`, json({ by: 'ke-gia-mao' }));
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { code: string }).code).toBe('E_AUTH');
    expect((await api('/api/silences', json({ sites: [site], endsAt: Date.now() + 60_000 }))).status).toBe(401);
    // the anonymous wall reads only its own data: the alert list stays closed
    expect((await api('/api/alerts')).status).toBe(401);
    expect(((await (await api('/api/session')).json()) as { user: unknown }).user).toBeNull();
    expect((await firingOf('portal'))?.state).toBe('firing');
  });

  it('a technician logs in, acknowledges, and the alert shows acknowledged by their name in /api/alerts and the audit log', async () => {
    const { cookie, csrf } = await login();
    expect(cookie).toMatch(/^ioc_session=/);
    const a = await firingOf('portal');
    // without the session's CSRF token the write is refused
    expect((await api(`/api/alerts/${a?.id ?? ''}/ack`, json({}, { cookie }))).status).toBe(403);
    const res = await api(`/api/alerts/${a?.id ?? ''}/ack`, json({ by: 'someone-else' }, { cookie, 'x-csrf-token': csrf }));
    expect(res.status).toBe(200);
    expect(await firingOf('portal')).toMatchObject({ id: a?.id, state: 'acknowledged', ackedBy: 'Nguyễn Văn An' });
    const audit = ((await (await api('/api/audit?limit=1000', { headers: { authorization: stack.readAuth } })).json()) as { entries: { who: string; action: string; target?: string; detail?: Record<string, unknown> }[] }).entries;
    expect(audit.find((e) => e.action === 'alert.ack' && e.target === a?.id)).toMatchObject({ who: 'user:an', detail: { by: 'Nguyễn Văn An', site } });
    expect(audit.find((e) => e.action === 'user.add')).toMatchObject({ target: 'an', who: expect.stringMatching(/^cli:/) });
    expect(audit.find((e) => e.action === 'user.login')).toMatchObject({ who: 'user:an' });
  });

  it('refuses a silence for an unknown site or rule with a 400 naming it', async () => {
    const { cookie, csrf } = await login();
    const headers = { cookie, 'x-csrf-token': csrf };
    const typo = `${site.slice(0, -1)}`;
    const badSite = await api('/api/silences', json({ sites: [typo], endsAt: Date.now() + 3_600_000 }, headers));
    expect(badSite.status).toBe(400);
    expect(((await badSite.json()) as { error: string }).error).toContain(`unknown site (not in the registry) "${typo}" (did you mean "${site}"?)`);
    const badRule = await api('/api/silences', json({ sites: [site], rules: ['probe-dwn'], endsAt: Date.now() + 3_600_000 }, headers));
    expect(badRule.status).toBe(400);
    expect(((await badRule.json()) as { error: string }).error).toBe('rules: unknown rule (not in the rules file) "probe-dwn" (did you mean "probe-down"?)');
    expect(((await (await api('/api/silences', { headers: { authorization: stack.readAuth } })).json()) as { silences: unknown[] }).silences).toEqual([]);
  });
});

describe('the console in Chromium (Debian package, playwright-core)', () => {
  let chrome: RunningChromium | undefined;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    chrome = await startChromium(join(stack.dir, 'chromium.log'));
    const context = chrome.browser.contexts()[0] ?? (await chrome.browser.newContext());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  afterAll(async () => {
    await chrome?.stop(); // by its PID, also when a test failed
  });

  it('logs in as a technician, shows Vietnamese site names and UTC+7 times, acknowledges an incident by name', async () => {
    await page.goto(stack.httpUrl);
    await page.fill('input[name=username]', 'an');
    await page.fill('input[name=password]', password);
    await page.click('form.login button[type=submit]');
    const target = await firingOf('dns');
    const row = page.locator(`article[data-alert-id="${target?.id ?? ''}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await page.textContent('[data-testid=who]')).toContain('Nguyễn Văn An');
    expect(siteName).toMatch(/^(Xã|Phường|Đặc khu) /);
    expect(await row.locator('.site').textContent()).toBe(siteName);
    const since = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(target?.since ?? 0));
    expect(await row.locator('.meta').textContent()).toContain(`${since} (UTC+7)`);
    await page.screenshot({ path: join(ARTIFACTS, 'console-alerts-1280.png'), fullPage: true });
    await row.locator('[data-testid=ack]').click();
    await waitUntil('acknowledged on the page', async () => ((await row.locator('[data-testid=state]').textContent())?.includes('Nguyễn Văn An') === true ? true : undefined), 15_000, 100);
    expect(await row.locator('[data-testid=ack]').count()).toBe(0);
    expect(await firingOf('dns')).toMatchObject({ state: 'acknowledged', ackedBy: 'Nguyễn Văn An' });
    // English on demand, Vietnamese first
    await page.click('[data-testid=lang]');
    expect(await row.locator('[data-testid=state]').textContent()).toBe('Acknowledged by Nguyễn Văn An');
    await page.click('[data-testid=lang]');
    expect(await row.locator('[data-testid=state]').textContent()).toBe('Đã xác nhận bởi Nguyễn Văn An');
  });

  it('at 360×740 the Ack button is inside the viewport', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.reload();
    const target = await firingOf('gateway');
    const button = page.locator(`article[data-alert-id="${target?.id ?? ''}"] [data-testid=ack]`);
    await button.waitFor({ timeout: 15_000 });
    await button.scrollIntoViewIfNeeded();
    const box = await button.boundingBox();
    expect(box).not.toBeNull();
    expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(360);
    expect(box?.y ?? -1).toBeGreaterThanOrEqual(0);
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(740);
    // nothing wider than the screen: no horizontal scrolling
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(ARTIFACTS, 'console-alerts-360.png'), fullPage: true });
  });

  it('keeps a typed silence across a reload, and shows the hub refusing an unknown site by name', async () => {
    await page.click('nav.tabs button:nth-child(2)');
    const sites = page.locator('[data-testid=silence-sites]');
    await sites.waitFor();
    const typo = `${site}-x`;
    await sites.fill(typo);
    await page.fill('[data-testid=silence-comment]', 'thay modem, chờ nhà mạng');
    await page.reload();
    await sites.waitFor({ timeout: 15_000 });
    expect(await sites.inputValue()).toBe(typo);
    expect(await page.inputValue('[data-testid=silence-comment]')).toBe('thay modem, chờ nhà mạng');
    await page.click('form.silence button[type=submit]');
    await waitUntil('the refusal shown', async () => ((await page.textContent('#silence-error'))?.includes(`"${typo}"`) === true ? true : undefined), 10_000, 100);
    expect(await page.textContent('#silence-error')).toContain('unknown site');
    expect(await sites.inputValue()).toBe(typo); // the draft stays for correcting
    await page.screenshot({ path: join(ARTIFACTS, 'console-silence-360.png'), fullPage: true });
  });
});
