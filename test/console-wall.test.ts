// The wall (console/wall.html) in Debian's Chromium against the real hub process and influxd, with raw MQTT agents
// at four communes of Vĩnh Phúc's legacy list (districts and coordinates; five coordinates blanked here): one tile
// per registry commune, each tile's state the same as /api/sites; an agent that stops turns its tile from up to
// down, then blind, within the (short) bounds configured here; a replaying agent shows backfilling; a maintenance
// silence shows maintenance; the figures from InfluxDB; the map; the lost-hub banner. Screenshots at 1920×1080,
// 3840×2160 and phone width go to test-artifacts/ (gitignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdentity, statusTopic, telemetryTopic, type Batch } from '../protocol/index.ts';
import { startChromium, type RunningChromium } from '../testkit/chromium.ts';
import { PROJECT_ROOT, runProgram } from '../testkit/child-process.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const LEGACY_CSV = join(PROJECT_ROOT, 'data', 'vinh-phuc-communes.csv');
/** Short bounds, with headroom for a loaded machine (the wall polls every second). */
const FRESH_MS = 6_000;
const DOWN_MS = 12_000;
/** Rows of the CSV whose coordinates are blanked: communes without coordinates stay on the board. */
const NO_COORDS = [5, 25, 45, 65, 85];

type Tiles = Record<string, string>;
interface SiteRow {
  slug: string;
  state: string;
  lat: number | null;
}

let stack: Stack;
let dir = '';
let chrome: RunningChromium | undefined;
let page: Page;
let keeper: NodeJS.Timeout | undefined;
const clients = new Map<string, MqttClient>();
const seqs = new Map<string, number>();
let up: AgentCredentials;
let stopping: AgentCredentials;
let replaying: AgentCredentials;
let maint: AgentCredentials;

const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
const sites = async (): Promise<SiteRow[]> => ((await (await api('/api/sites', { headers: { authorization: stack.readAuth } })).json()) as { sites: SiteRow[] }).sites;
const statesOf = (rows: readonly SiteRow[]): Tiles => Object.fromEntries(rows.map((s) => [s.slug, s.state]));
/** A state map in a fixed order, to compare two of them. */
const key = (t: Tiles): string => JSON.stringify(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : 1)));
const tilesOnPage = async (): Promise<Tiles> => Object.fromEntries(await page.evaluate<[string, string][]>("[...document.querySelectorAll('.tile')].map((e) => [e.dataset.slug, e.dataset.state])"));
const tileState = async (slug: string): Promise<string | undefined> => (await tilesOnPage())[slug];

function nextSeq(a: AgentCredentials): number {
  const s = (seqs.get(a.site) ?? 0) + 1;
  seqs.set(a.site, s);
  return s;
}

/** One second's data of an agent: the portal probe and the office queue; the replaying one adds a late batch. */
async function sendRound(a: AgentCredentials, client: MqttClient): Promise<void> {
  const t = Date.now();
  // Two offices report their queue: 40 + 2 tickets today, waits of 300 s and 600 s.
  const office = a === up ? { issued_total: 40, avg_wait_s: 300, waiting: 3, served_total: 37 } : { issued_total: 2, avg_wait_s: 600, waiting: 1, served_total: 1 };
  const backlog = a === replaying ? { depth: 40, oldestT: t - 3_600_000 } : undefined;
  const live: Batch = {
    seq: nextSeq(a),
    sentAt: t,
    points: [
      { m: 'net_probe', t, tags: { target: 'portal', method: 'http' }, fields: { up: a === maint ? 0 : 1, rtt_ms: 40 } },
      ...(a === up || a === maint ? [{ m: 'queue', t, tags: { counter: 'all' }, fields: office }] : []),
    ],
    ...(backlog === undefined ? {} : { backlog }),
  };
  await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(live));
  if (a === replaying) {
    const old = t - 600_000;
    const late: Batch = { seq: nextSeq(a), sentAt: t, late: true, backlog: { depth: 39, oldestT: old }, points: [{ m: 'net_probe', t: old, tags: { target: 'gateway', method: 'icmp' }, fields: { up: 1, rtt_ms: 2 } }] };
    await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(late));
  }
}

async function connectAgent(a: AgentCredentials): Promise<void> {
  const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
  const status = { online: true, ts: Date.now(), version: '0.0.0-test', bootId: `boot-${a.site}`, configRev: 1, clockSynced: true };
  expect(await publishQos1(client, statusTopic(a.site, a.agent), JSON.stringify(status))).toBe('acked');
  clients.set(a.site, client);
}

function startKeeper(): void {
  let busy = false;
  keeper = setInterval(() => {
    if (busy) return;
    busy = true;
    const all = [up, stopping, replaying, maint].flatMap((a) => {
      const c = clients.get(a.site);
      return c === undefined ? [] : [sendRound(a, c)];
    });
    void Promise.allSettled(all).finally(() => {
      busy = false;
    });
  }, 1000);
}

async function openWall(query: string, width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  await page.goto(`${stack.httpUrl}/wall.html?${query}`);
  await page.locator('.wall-main').waitFor({ timeout: 15_000 });
}

/** Waits until every tile on the page has the state /api/sites gives its site (both move with time). */
async function tilesMatchApi(): Promise<Tiles> {
  let last = '';
  return await waitUntil(
    'tiles as /api/sites',
    async () => {
      const [before, onPage, after] = [statesOf(await sites()), await tilesOnPage(), statesOf(await sites())];
      last = JSON.stringify(Object.entries(onPage).filter(([slug, st]) => before[slug] !== st));
      return key(before) === key(after) && key(onPage) === key(before) ? onPage : undefined;
    },
    15_000,
    300,
  ).catch((err: unknown) => {
    throw new Error(`tiles differing from /api/sites: ${last}`, { cause: err });
  });
}

beforeAll(async () => {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'console', 'wall.html'))) {
    expect(spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 120_000 }).status).toBe(0);
  }
  dir = mkdtempSync(join(tmpdir(), 'ioc-wall-'));
  const lines = readFileSync(LEGACY_CSV, 'utf8').trimEnd().split('\n');
  for (const i of NO_COORDS) lines[i] = (lines[i] ?? '').replace(/,[-0-9.]+,[-0-9.]+(\r?)$/, ',,$1');
  const csv = join(dir, 'communes.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  // The portal probe of the fourth office fails: a warning alert, so its tile is degraded (until its maintenance).
  const rules = join(dir, 'alerts.yaml');
  writeFileSync(rules, "rules:\n  - { name: portal-down, type: threshold, measurement: net_probe, field: up, below: 0.5, severity: warning, select: { tags: { target: portal } }, summary: { vi: 'Không truy cập được cổng dịch vụ công từ {site}', en: 'Portal unreachable from {site}' } }\n");
  const hubYaml = ['alerts:', `  rulesFile: ${rules}`, '  startupGrace: 0s', 'wall:', `  freshFor: ${FRESH_MS}`, `  downFor: ${DOWN_MS}`, '  figuresCache: 500'];
  stack = await startStack({ agents: 4, communes: { csv }, hubYaml: hubYaml.join('\n') });
  const [a, b, c, d] = stack.agents;
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error('four agents expected');
  [up, stopping, replaying, maint] = [a, b, c, d];
  for (const x of stack.agents) await connectAgent(x);
  startKeeper();
  mkdirSync(ARTIFACTS, { recursive: true });
  chrome = await startChromium(join(stack.dir, 'chromium.log'));
  const context = chrome.browser.contexts()[0] ?? (await chrome.browser.newContext());
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  if (keeper !== undefined) clearInterval(keeper);
  for (const c of clients.values()) await endClient(c).catch(() => undefined);
  await chrome?.stop(); // by its PID, also when a test failed
  await stack?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the wall in Chromium (Debian package, real hub and influxd)', () => {
  it('is open to an anonymous visitor through /api/wall alone (wall:read), while /api/sites stays closed', async () => {
    expect((await api('/api/sites')).status).toBe(401);
    const res = await api('/api/wall');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sites: unknown[]; bounds: { freshForMs: number; downForMs: number } };
    expect(body.sites).toHaveLength(121);
    expect(body.bounds).toEqual({ freshForMs: FRESH_MS, downForMs: DOWN_MS });
    expect(JSON.stringify(body)).not.toContain('token');
  });

  it('shows one tile per registry commune, grouped by district, each in the state /api/sites gives, and fits 1920×1080', async () => {
    await waitUntil('agents up, the replaying one backfilling, the one without portal degraded', async () => {
      const s = statesOf(await sites());
      return s[up.site] === 'up' && s[stopping.site] === 'up' && s[maint.site] === 'degraded' && s[replaying.site] === 'backfilling' ? true : undefined;
    }, 20_000, 250);
    await openWall('view=tiles&rotate=0&poll=1', 1920, 1080);
    const rows = await sites();
    expect(rows).toHaveLength(121);
    const tiles = await tilesMatchApi();
    expect(Object.keys(tiles).sort()).toEqual(rows.map((s) => s.slug).sort());
    // the communes without agents have never been seen: blind, never green
    expect(Object.values(tiles).filter((st) => st === 'blind')).toHaveLength(117);
    expect(tiles[replaying.site]).toBe('backfilling');
    expect(tiles[maint.site]).toBe('degraded');
    expect(await page.locator(`.tile[data-slug="${maint.site}"] .icon`).textContent()).toBe('!');
    expect(await page.locator('.group').count()).toBe(9);
    expect(await page.locator(`.tile[data-slug="${up.site}"] .name`).textContent()).toMatch(/^(Xã|Phường|Thị trấn) /);
    // the state as a word and a sign too, not colour alone
    expect(await page.locator(`.tile[data-slug="${up.site}"] .state-text`).textContent()).toBe('Hoạt động');
    expect(await page.locator(`.tile[data-slug="${up.site}"] .icon`).textContent()).toBe('✓');
    await expectFits(1920, 1080);
    expect(await page.textContent('[data-testid=as-of]')).toMatch(/^Dữ liệu lúc \d\d:\d\d:\d\d \(UTC\+7\)$/);
    await page.screenshot({ path: join(ARTIFACTS, 'wall-1920x1080.png') });
  });

  it('shows the headline figures from the hub and InfluxDB: online, tickets today, waiting time, the portal', async () => {
    await waitUntil('figures read', async () => ((await page.textContent('[data-testid=fig-tickets] .value'))?.includes('42') === true ? true : undefined), 20_000, 250);
    expect(await page.textContent('[data-testid=fig-wait] .value')).toBe('8 phút'); // (300 s + 600 s) / 2
    expect(await page.textContent('[data-testid=fig-portal] .value')).toBe('3/4 xã'); // the fourth probe says down
    expect(await page.textContent('[data-testid=fig-online] .value')).toBe('4/121');
    expect(await page.textContent('[data-testid=fig-incidents] .value')).toBe('1');
  });

  it('shows a site under a maintenance silence as maintenance', async () => {
    const added = await runProgram('ioc-hub', ['users', 'add', '--name', 'binh', '--role', 'operator', '--display-name', 'Trần Bình', '--config', stack.hubConfig]);
    expect(added.code, added.stderr).toBe(0);
    const password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    const login = await api('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'binh', password }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await login.json()) as { csrf: string };
    const silence = await api('/api/silences', { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf }, body: JSON.stringify({ kind: 'maintenance', sites: [maint.site], endsAt: Date.now() + 3_600_000, comment: 'thay UPS' }) });
    expect(silence.status, await silence.clone().text()).toBe(201);
    await waitUntil('maintenance tile', async () => ((await tileState(maint.site)) === 'maintenance' ? true : undefined), 10_000, 200);
    expect(statesOf(await sites())[maint.site]).toBe('maintenance');
    expect(await page.textContent('[data-testid=fig-online] .value')).toBe('3/121');
  });

  it('turns a site whose agent stops from up to down, then blind, within its bounds', async () => {
    expect(await tileState(stopping.site)).toBe('up');
    const client = clients.get(stopping.site);
    clients.delete(stopping.site);
    const stoppedAt = Date.now();
    if (client !== undefined) await endClient(client);
    await waitUntil('down on the wall', async () => ((await tileState(stopping.site)) === 'down' ? true : undefined), 8_000, 100);
    const downAfter = Date.now() - stoppedAt;
    expect(statesOf(await sites())[stopping.site]).toMatch(/^(down|blind)$/);
    await waitUntil('blind on the wall', async () => ((await tileState(stopping.site)) === 'blind' ? true : undefined), DOWN_MS + 10_000, 200);
    const blindAfter = Date.now() - stoppedAt;
    // down at once (the disconnect is the last contact), blind once that contact is older than downFor
    expect(downAfter).toBeLessThan(8_000);
    expect(blindAfter).toBeGreaterThanOrEqual(DOWN_MS - 1000);
    expect(blindAfter).toBeLessThan(DOWN_MS + 10_000);
    expect(statesOf(await sites())[stopping.site]).toBe('blind');
    await tilesMatchApi();
  });

  it('fits 3840×2160 without scrolling', async () => {
    await openWall('view=tiles&rotate=0&poll=1', 3840, 2160);
    await tilesMatchApi();
    await expectFits(3840, 2160);
    await page.screenshot({ path: join(ARTIFACTS, 'wall-3840x2160.png') });
  });

  it('fits 170 communes of a registry without districts (one province group) at both wall sizes, in type that can be read', async () => {
    // The hub's own answer, widened to 170 sites without area or coordinates (as the 2025 list imports).
    const real = (await (await api('/api/wall')).json()) as { sites: Record<string, unknown>[] };
    const first = real.sites[0] ?? {};
    const wide = { ...real, sites: Array.from({ length: 170 }, (_, i) => ({ ...first, slug: `xa-thu-${i}`, name: `Xã Thử Nghiệm Số ${i}`, area: '', areaName: '', lat: null, lon: null, state: ['up', 'blind', 'down', 'degraded'][i % 4] })) };
    await page.route('**/api/wall', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(wide) }));
    try {
      for (const [w, h] of [[1920, 1080], [3840, 2160]] as const) {
        await openWall('view=tiles&rotate=0&poll=1', w, h);
        await page.locator('.tile[data-slug="xa-thu-169"]').waitFor({ timeout: 10_000 });
        expect(await page.locator('.tile').count()).toBe(170);
        expect(await page.locator('.group').count()).toBe(1);
        await expectFits(w, h);
        const px = Number.parseFloat(await page.evaluate<string>("getComputedStyle(document.querySelector('.tile .name')).fontSize"));
        expect(px).toBeGreaterThanOrEqual(w === 1920 ? 12 : 24);
        await page.screenshot({ path: join(ARTIFACTS, `wall-170-${w}x${h}.png`) });
      }
    } finally {
      await page.unroute('**/api/wall');
    }
  });

  it('draws a map point for every commune with coordinates and lists the others beside it', async () => {
    await openWall('view=map&rotate=0&poll=1', 1920, 1080);
    const rows = await sites();
    const placed = rows.filter((s) => s.lat !== null);
    expect(placed).toHaveLength(121 - NO_COORDS.length);
    await page.locator('[data-testid=map]').waitFor({ timeout: 10_000 });
    const points = Object.fromEntries(await page.evaluate<[string, string][]>("[...document.querySelectorAll('svg.map .point')].map((e) => [e.dataset.slug, e.dataset.state])"));
    expect(Object.keys(points).sort()).toEqual(placed.map((s) => s.slug).sort());
    const unplaced = await page.evaluate<string[]>("[...document.querySelectorAll('[data-testid=unplaced] li')].map((e) => e.dataset.slug)");
    expect(unplaced.sort()).toEqual(rows.filter((s) => s.lat === null).map((s) => s.slug).sort());
    const api = statesOf(rows);
    expect(points[up.site] ?? api[up.site]).toBe(api[up.site]);
    await expectFits(1920, 1080);
    await page.screenshot({ path: join(ARTIFACTS, 'wall-map-1920x1080.png') });
  });

  it('rotates tiles → map → incidents at the interval of the URL', async () => {
    const maintName = ((await (await api('/api/sites', { headers: { authorization: stack.readAuth } })).json()) as { sites: { slug: string; name: string }[] }).sites.find((x) => x.slug === maint.site)?.name;
    await openWall('rotate=2&poll=1', 1920, 1080);
    expect(await page.getAttribute('.wall-main', 'data-view')).toBe('tiles');
    await waitUntil('map view', async () => ((await page.getAttribute('.wall-main', 'data-view')) === 'map' ? true : undefined), 6_000, 100);
    await waitUntil('incidents view', async () => ((await page.getAttribute('.wall-main', 'data-view')) === 'incidents' ? true : undefined), 6_000, 100);
    const row = page.locator('[data-testid=incidents] .incident');
    expect(await row.count()).toBe(1);
    expect(await row.locator('.where').textContent()).toBe(maintName);
    expect(await row.locator('.what').textContent()).toBe(`Không truy cập được cổng dịch vụ công từ ${maint.site}`);
    expect(await row.locator('.sev').textContent()).toBe('Cảnh báo');
    await page.screenshot({ path: join(ARTIFACTS, 'wall-incidents-1920x1080.png') });
  });

  it('at phone width stays within the screen (scrolling down only)', async () => {
    await openWall('view=tiles&rotate=0&poll=1', 360, 740);
    await page.locator('.tile').first().waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(ARTIFACTS, 'wall-360.png'), fullPage: true });
  });

  it('reads again when the hub pushes that sites changed, without waiting for its poll', async () => {
    await openWall('view=tiles&rotate=0&poll=120', 1920, 1080);
    await waitUntil('first read', async () => ((await tileState(up.site)) === 'up' ? true : undefined), 10_000, 100);
    const client = clients.get(up.site);
    clients.delete(up.site);
    const stoppedAt = Date.now();
    if (client !== undefined) await endClient(client);
    await waitUntil('down on the wall by a push', async () => ((await tileState(up.site)) === 'down' ? true : undefined), 10_000, 100);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000); // the poll would take 120 s
  });

  it('says so, keeping the last data, when the hub cannot be reached, and recovers when it is back', async () => {
    await openWall('view=tiles&rotate=0&poll=1', 1920, 1080);
    await page.locator('.tile').first().waitFor();
    expect(await page.locator('[data-testid=banner]').count()).toBe(0);
    const asOf = await page.getAttribute('[data-testid=as-of]', 'data-as-of');
    await stack.hub.stop();
    await page.locator('[data-testid=banner]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('[data-testid=banner]')).toContain('Mất kết nối tới hub');
    expect(await page.locator('.tile').count()).toBe(121);
    expect(Number(await page.getAttribute('[data-testid=as-of]', 'data-as-of'))).toBeGreaterThanOrEqual(Number(asOf));
    await page.screenshot({ path: join(ARTIFACTS, 'wall-lost-hub-1920x1080.png') });
    await stack.restartHub();
    await waitUntil('banner gone', async () => ((await page.locator('[data-testid=banner]').count()) === 0 ? true : undefined), 15_000, 200);
  });
});

/** No scrolling: the page is the viewport's size and the last tile (or the map) is inside it. */
async function expectFits(width: number, height: number): Promise<void> {
  expect(await page.evaluate<number>('document.documentElement.scrollHeight')).toBeLessThanOrEqual(height);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
  const main = await page.evaluate<number[]>("(() => { const m = document.querySelector('.wall-main'); return [m.scrollHeight, m.clientHeight]; })()");
  expect(main[0] ?? Infinity).toBeLessThanOrEqual((main[1] ?? 0) + 1);
  // Read in one evaluation: the page redraws on every poll, so a located element may be replaced before a second call.
  const bottom = await page.evaluate<number | null>("(() => { const all = document.querySelectorAll('.wall-main .tile, .wall-main svg.map'); const el = all[all.length - 1]; return el === undefined ? null : el.getBoundingClientRect().bottom; })()");
  expect(bottom).not.toBeNull();
  expect(bottom ?? Infinity).toBeLessThanOrEqual(height);
}
