// The console's site page against the real hub process and influxd: an agent's status and a day of real
// measurements (probes, queue, display, uplink, host, UPS) sent over MQTT, then GET /api/sites/:slug (unknown site,
// bounds in time and series, a partial answer while InfluxDB is stopped) and the page in Debian's Chromium at desktop
// and phone width (Vietnamese name, the probe latency sent, the queue per counter, the uplink, charts with points),
// screenshots kept in test-artifacts/ (gitignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdentity, statusTopic, telemetryTopic, type Batch, type Point, type Status } from '../protocol/index.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { startChromium, type RunningChromium } from '../testkit/chromium.ts';
import { PROJECT_ROOT, runProgram } from '../testkit/child-process.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const HOUR = 3_600_000;
/** The probe latency of the last reading, shown on the page. */
const PORTAL_RTT = 23.7;
/** Chart series the API returns at most (hub/http/site-routes.ts SITE_MAX_CHART_SERIES). */
const MAX_CHART_SERIES = 32;

let stack: Stack;
let rulesDir = '';
let password = '';
let main: AgentCredentials;
let crowded: AgentCredentials;
/** A real `ioc-edge run` agent's site. */
let real: AgentCredentials;
let siteName = '';
const now = Date.now();
const uplinkSince = now - 2 * HOUR;

interface Detail {
  site: { slug: string; name: string };
  agents: { agent: string; online: boolean; connected: boolean; version: string | null; configRev: string | number | null }[];
  uplinks: { uplink: string; iface: string | null; since: number; on4g: boolean }[];
  probes: { target: string; rttMs: number | null; up: number | null }[];
  probeSeries: { target: string; t: number[]; rttMs: (number | null)[] }[];
  counters: { counter: string; currentNumber: number; waiting: number; servedTotal: number }[];
  queueSeries: { counter: string; t: number[]; waiting: (number | null)[] }[];
  displays: { display: string; alive: number; frozen: number }[];
  equipment: { device: string; kind: string; fields: Record<string, number> }[];
  host: { cpuPct: number | null; tempC: number | null; memPct: number | null; diskPct: number | null }[];
  delivery: { agent: string; completenessPct: number | null; backlog: number | null }[];
  alerts: { active: { rule: string; labels: Record<string, string> }[]; resolved: unknown[] };
  window: { from: number; to: number };
  missing: { part: string; error: string }[];
  capped: string[];
}

const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
const detailOf = async (slug: string): Promise<Detail> => {
  const res = await api(`/api/sites/${slug}`, { headers: { authorization: stack.readAuth } });
  expect(res.status).toBe(200);
  return (await res.json()) as Detail;
};

/** A day of one office, every 30 min for the last 4 h: probes, queue per counter, display, uplink, host, a UPS. */
function officePoints(): Point[] {
  const points: Point[] = [];
  for (let k = 8; k >= 0; k--) {
    const t = now - k * 30 * 60_000;
    const rtt = k === 0 ? PORTAL_RTT : 30 + k;
    points.push({ m: 'net_probe', t, tags: { target: 'portal', method: 'http' }, fields: { up: 1, rtt_ms: rtt, loss_pct: 0 } });
    points.push({ m: 'net_probe', t, tags: { target: 'gateway', method: 'icmp' }, fields: { up: 1, rtt_ms: 2 + k / 10, loss_pct: k === 3 ? 20 : 0 } });
    for (const [counter, waiting] of [['1', 3 + k], ['2', 5], ['all', 8 + k]] as const) {
      points.push({ m: 'queue', t, tags: { counter }, fields: { waiting, current_number: counter === '1' ? 1041 : counter === '2' ? 2017 : 2017, served_total: counter === '1' ? 41 - k : 17, issued_total: 60 } });
    }
    points.push({ m: 'display', t, tags: { display: 'quay-1' }, fields: { alive: 1, frozen: 0, last_seen_s: 4 } });
    points.push({ m: 'uplink', t, fields: { uplink: k <= 4 ? '4g' : 'fibre', iface: k <= 4 ? 'wwan0' : 'eth0', uplink_since: k <= 4 ? uplinkSince : now - 10 * HOUR, since_s: 60, on_4g: k <= 4 ? 1 : 0 } });
    points.push({ m: 'host', t, fields: { cpu_pct: 12.5, temp_c: 51.2, mem_pct: 40, disk_pct: 63 } });
    points.push({ m: 'equipment', t, tags: { device: 'ups-1', kind: 'ups' }, fields: { up: 1, battery_pct: 97, on_battery: 0, load_pct: 22 } });
  }
  // Outside the 24 h window: never in the answer.
  points.push({ m: 'net_probe', t: now - 30 * HOUR, tags: { target: 'portal', method: 'http' }, fields: { up: 1, rtt_ms: 999, loss_pct: 0 } });
  // Down now: an active alert of this site.
  points.push({ m: 'net_probe', t: now, tags: { target: 'dns', method: 'dns' }, fields: { up: 0, result: 'timeout' } });
  return points;
}

async function send(client: MqttClient, me: AgentCredentials, seq: number, points: Point[]): Promise<void> {
  const batch: Batch = { seq, sentAt: Date.now(), points };
  expect(await publishQos1(client, telemetryTopic(me.site, me.agent), JSON.stringify(batch))).toBe('acked');
}

async function sendStatus(client: MqttClient, me: AgentCredentials): Promise<void> {
  const status: Status = { online: true, ts: Date.now(), version: '0.9.1-test', bootId: 'boot-1', configRev: 7, clockSynced: true };
  await new Promise<void>((resolve, reject) => client.publish(statusTopic(me.site, me.agent), JSON.stringify(status), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));
}

beforeAll(async () => {
  // `npm ci` builds the console (prepare); a checkout whose build is older than the site page builds it here.
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'console', 'site.html'))) {
    expect(spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 180_000 }).status).toBe(0);
  }
  rulesDir = mkdtempSync(join(tmpdir(), 'ioc-console-site-'));
  const rulesFile = join(rulesDir, 'alerts.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: probe-down, type: threshold, measurement: net_probe, field: up, below: 0.5, severity: critical }\n');
  stack = await startStack({ agents: 3, hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 0s'].join('\n') });
  const [a, b, c] = stack.agents;
  if (a === undefined || b === undefined || c === undefined) throw new Error('no agents');
  main = a;
  crowded = b;
  real = c;
  const added = await runProgram('ioc-hub', ['users', 'add', '--name', 'binh', '--role', 'technician', '--display-name', 'Trần Thị Bình', '--config', stack.hubConfig]);
  expect(added.code, added.stderr).toBe(0);
  password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
  const client = await connectAs(stack.mqttUrl, agentIdentity(main.site, main.agent), main.token);
  await sendStatus(client, main);
  await send(client, main, 1, officePoints());
  await endClient(client);
  // More probe targets than the chart bound at the second site.
  const other = await connectAs(stack.mqttUrl, agentIdentity(crowded.site, crowded.agent), crowded.token);
  await send(other, crowded, 1, Array.from({ length: MAX_CHART_SERIES + 8 }, (_, i) => ({ m: 'net_probe', t: now - i * 1000, tags: { target: `t${String(i).padStart(2, '0')}`, method: 'tcp' }, fields: { up: 1, rtt_ms: 10 + i } })));
  await endClient(other);
  await waitUntil('the site detail has its data', async () => {
    const d = await detailOf(main.site);
    return d.probes.length >= 3 && d.counters.length === 3 && d.alerts.active.length >= 1 ? true : undefined;
  }, 30_000, 250);
  siteName = (await detailOf(main.site)).site.name;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (rulesDir !== '') rmSync(rulesDir, { recursive: true, force: true });
});

describe('GET /api/sites/:slug (real hub, real influxd)', () => {
  it('answers one site: agents with version and config revision, uplink, probes, queue per counter, display, equipment, host, delivery, alerts', async () => {
    const d = await detailOf(main.site);
    expect(d.site).toMatchObject({ slug: main.site });
    expect(d.site.name).toMatch(/^(Xã|Phường|Đặc khu) /);
    expect(d.agents).toEqual([expect.objectContaining({ agent: main.agent, version: '0.9.1-test', configRev: 7 })]);
    expect(d.uplinks).toEqual([expect.objectContaining({ uplink: '4g', since: uplinkSince, on4g: true })]);
    expect(d.probes.map((p) => p.target)).toEqual(['dns', 'gateway', 'portal']);
    expect(d.probes.find((p) => p.target === 'portal')?.rttMs).toBe(PORTAL_RTT);
    expect(d.probes.find((p) => p.target === 'dns')?.up).toBe(0);
    expect(d.counters.map((c) => [c.counter, c.currentNumber, c.waiting, c.servedTotal])).toEqual([['1', 1041, 3, 41], ['2', 2017, 5, 17], ['all', 2017, 8, 17]]);
    expect(d.displays).toEqual([expect.objectContaining({ display: 'quay-1', alive: 1, frozen: 0 })]);
    expect(d.equipment).toEqual([expect.objectContaining({ device: 'ups-1', kind: 'ups', fields: expect.objectContaining({ battery_pct: 97, load_pct: 22 }) })]);
    expect(d.host).toEqual([expect.objectContaining({ cpuPct: 12.5, tempC: 51.2, memPct: 40, diskPct: 63 })]);
    expect(d.delivery).toEqual([expect.objectContaining({ agent: main.agent, completenessPct: 100, backlog: 0 })]);
    expect(d.alerts.active).toEqual([expect.objectContaining({ rule: 'probe-down', labels: expect.objectContaining({ target: 'dns' }) })]);
    expect(d.missing).toEqual([]);
    expect(d.capped).toEqual([]);
  });

  it('charts the last 24 h only: the reading of 30 h ago is in no series, the series are in 10-minute buckets', async () => {
    const d = await detailOf(main.site);
    expect(d.window.to - d.window.from).toBe(24 * HOUR);
    const portal = d.probeSeries.find((s) => s.target === 'portal');
    expect(portal?.t.length).toBe(9);
    expect(portal?.rttMs).not.toContain(999);
    expect(Math.min(...(portal?.t ?? [0]))).toBeGreaterThanOrEqual(d.window.from - 10 * 60_000);
    expect(portal?.rttMs.at(-1)).toBe(PORTAL_RTT);
    expect(d.queueSeries.map((s) => s.counter).sort()).toEqual(['1', '2', 'all']);
  });

  it('bounds the chart series (more probe targets than charted: capped, counted in /metrics)', async () => {
    const before = (await stack.metrics()).get('ioc_hub_site_detail_capped_total') ?? 0;
    const d = await detailOf(crowded.site);
    expect(d.probes).toHaveLength(MAX_CHART_SERIES + 8);
    expect(d.probeSeries).toHaveLength(MAX_CHART_SERIES);
    expect(d.capped).toEqual(['probeSeries']);
    expect((await stack.metrics()).get('ioc_hub_site_detail_capped_total')).toBe(before + 1);
    expect(await (await api('/metrics')).text()).toContain(`ioc_hub_site_detail_capped_total{part="probeSeries"} ${before + 1}`);
  });

  it('reads what a real `ioc-edge run` agent sends (tcp probe, host, uplink, queue collectors)', async () => {
    const target = createServer((socket) => socket.end());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const address = target.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const procDir = join(stack.dir, 'real-proc');
    mkdirSync(join(procDir, 'net'), { recursive: true });
    writeFileSync(join(procDir, 'net', 'route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nwwan0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n');
    const agent = startAgentProcess(stack, real, [
      `  - { type: tcp, name: cong-dich-vu-cong, host: 127.0.0.1, port: ${port}, intervalS: 1 }`,
      '  - { type: host, intervalS: 1 }',
      `  - { type: uplink, procDir: "${procDir}", intervalS: 1 }`,
      `  - { type: queue, listen: { host: 127.0.0.1, port: 0 }, counters: [quay-1, quay-2], intervalS: 1 }`,
    ]);
    try {
      const d = await waitUntil('the real agent\'s readings in the site detail', async () => {
        const x = await detailOf(real.site);
        // cpu_pct comes from the second gather on
        return x.probes.length > 0 && x.host[0]?.cpuPct != null && x.uplinks.length > 0 && x.counters.length > 0 && x.agents[0]?.version != null ? x : undefined;
      }, 60_000, 500);
      expect(d.agents[0]).toMatchObject({ agent: real.agent, online: true, connected: true });
      expect(d.agents[0]?.configRev).not.toBeNull();
      expect(d.probes[0]).toMatchObject({ target: 'cong-dich-vu-cong', method: 'tcp', up: 1 });
      expect(d.probes[0]?.rttMs).toBeGreaterThanOrEqual(0);
      expect(d.host[0]?.cpuPct).toBeGreaterThanOrEqual(0);
      expect(d.host[0]?.memPct).toBeGreaterThan(0);
      expect(d.uplinks[0]).toMatchObject({ uplink: '4g', iface: 'wwan0', on4g: true });
      expect(d.uplinks[0]?.since).toBeGreaterThan(now - 120_000);
      expect(d.counters.map((c) => c.counter)).toEqual(expect.arrayContaining(['quay-1', 'quay-2']));
      expect(d.missing).toEqual([]);
    } finally {
      await agent.stop();
      await new Promise<void>((r) => target.close(() => r()));
    }
  }, 90_000);

  it('an unknown site is a 404 that says so; a malformed one too; without a token or login a 401', async () => {
    const unknown = await api('/api/sites/xa-khong-co', { headers: { authorization: stack.readAuth } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ code: 'E_SITE_NOT_FOUND', error: 'no site "xa-khong-co" in the registry' });
    const bad = await api(`/api/sites/${encodeURIComponent("x' OR 1=1")}`, { headers: { authorization: stack.readAuth } });
    expect(bad.status).toBe(404);
    expect((await api(`/api/sites/${main.site}`)).status).toBe(401);
  });
});

describe('the site page in Chromium (Debian package, playwright-core)', () => {
  let chrome: RunningChromium | undefined;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    chrome = await startChromium(join(stack.dir, 'chromium.log'));
    const context = chrome.browser.contexts()[0] ?? (await chrome.browser.newContext());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(stack.httpUrl);
    await page.fill('input[name=username]', 'binh');
    await page.fill('input[name=password]', password);
    await page.click('form.login button[type=submit]');
    await page.locator('[data-testid=who]').waitFor({ timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await chrome?.stop(); // by its PID, also when a test failed
  });

  it('the alerts page links a site name to its page', async () => {
    const link = page.locator(`a[href="site.html?s=${main.site}"]`).first();
    await link.waitFor({ timeout: 15_000 });
    expect(await link.textContent()).toBe(siteName);
    await link.click();
    await page.waitForURL(`**/site.html?s=${main.site}`);
  });

  it('shows the Vietnamese name, the probe latency sent, the queue per counter, the uplink and charts with points (1280 px)', async () => {
    await page.locator('[data-testid=site-name]').waitFor({ timeout: 15_000 });
    await waitUntil('the probes shown', async () => ((await page.locator('[data-testid=probe-row]').count()) === 3 ? true : undefined), 15_000, 100);
    expect(await page.textContent('[data-testid=site-name]')).toBe(siteName);
    // Vietnamese first: a decimal comma
    expect(await page.textContent('[data-testid=probe-row][data-target=portal] [data-testid=rtt]')).toBe('23,7 ms');
    const counters = await page.locator('[data-testid=counter-row]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-counter'), r.querySelector('[data-testid=current]')?.textContent, r.querySelector('[data-testid=waiting]')?.textContent]));
    expect(counters).toEqual([['1', '1041', '3'], ['2', '2017', '5'], ['all', '2017', '8']]);
    const uplink = (await page.textContent('[data-testid=uplink]')) ?? '';
    expect(uplink).toContain('4G');
    const since = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(uplinkSince));
    expect(uplink).toContain(`${since} (UTC+7)`);
    expect(await page.textContent('[data-testid=asof]')).toMatch(/^Dữ liệu lúc (\d\d:\d\d \d\d\/\d\d\/\d{4}|\d\d\/\d\d\/\d{4} \d\d:\d\d) \(UTC\+7\)$/);
    for (const chart of ['latency', 'loss', 'queue']) {
      const el = page.locator(`[data-testid=chart-${chart}]`);
      expect(Number(await el.getAttribute('data-points'))).toBeGreaterThan(0);
      // the first series' line is drawn on the canvas (its colour, #0b5cad, is in no axis or grid)
      const drawn = await el.locator('canvas').evaluate((c) => {
        const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
        let n = 0;
        for (let i = 0; i + 3 < px.length; i += 4) {
          const [r, g, b, a] = [px[i] ?? 0, px[i + 1] ?? 0, px[i + 2] ?? 0, px[i + 3] ?? 0];
          if (a > 200 && r < 60 && g > 60 && g < 130 && b > 140) n++;
        }
        return n;
      });
      expect(drawn).toBeGreaterThan(30);
    }
    expect(await page.locator('[data-testid=chart-latency]').getAttribute('data-points')).toBe(String(9 + 9));
    expect(await page.textContent('[data-testid=alerts]')).toContain('dns');
    await page.screenshot({ path: join(ARTIFACTS, 'console-site-1280.png'), fullPage: true });
    await page.click('[data-testid=lang]');
    expect(await page.textContent('[data-testid=probe-row][data-target=portal] [data-testid=rtt]')).toBe('23.7 ms');
    await page.click('[data-testid=lang]');
    expect(await page.textContent('[data-testid=probe-row][data-target=portal] [data-testid=rtt]')).toBe('23,7 ms');
  });

  it('at 360×740 nothing is wider than the screen and the buttons are inside it', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.reload();
    await waitUntil('the probes shown', async () => ((await page.locator('[data-testid=probe-row]').count()) === 3 ? true : undefined), 15_000, 100);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    for (const b of await page.locator('button').all()) {
      const box = await b.boundingBox();
      expect(box).not.toBeNull();
      expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(360);
    }
    const chart = await page.locator('[data-testid=chart-latency] canvas').boundingBox();
    expect((chart?.x ?? 0) + (chart?.width ?? 999)).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(ARTIFACTS, 'console-site-360.png'), fullPage: true });
  });

  it('an unknown site shows a clear message', async () => {
    await page.goto(`${stack.httpUrl}/site.html?s=xa-khong-co`);
    const msg = page.locator('[data-testid=not-found]');
    await msg.waitFor({ timeout: 15_000 });
    expect(await msg.textContent()).toContain('xa-khong-co');
    expect(await msg.textContent()).toContain('Không tìm thấy điểm');
  });

  it('shows a banner while the hub cannot be reached, the last data kept, and goes on once it is back', async () => {
    await page.goto(`${stack.httpUrl}/site.html?s=${main.site}`);
    await page.locator('[data-testid=probe-row]').first().waitFor({ timeout: 15_000 });
    await stack.hub.stop();
    const banner = page.locator('#banner.lost');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toBe('Mất kết nối tới hub — dữ liệu có thể đã cũ');
    expect(await page.textContent('[data-testid=site-name]')).toBe(siteName);
    expect(await page.locator('[data-testid=probe-row]').count()).toBe(3);
    await stack.restartHub();
    // the next poll (every 10 s) after the hub is back
    await page.locator('#banner.lost').waitFor({ state: 'detached', timeout: 45_000 });
    expect(await page.textContent('[data-testid=site-name]')).toBe(siteName);
    expect(await page.textContent('[data-testid=probe-row][data-target=portal] [data-testid=rtt]')).toBe('23,7 ms');
  }, 150_000);

  it('without a login the page says to log in', async () => {
    const context = await chrome?.browser.newContext();
    const anonymous = await context?.newPage();
    await anonymous?.goto(`${stack.httpUrl}/site.html?s=${main.site}`);
    const note = anonymous?.locator('[data-testid=login-needed]');
    await note?.waitFor({ timeout: 15_000 });
    expect(await note?.textContent()).toContain('Cần đăng nhập');
    await context?.close();
  });

  it('with InfluxDB stopped: a partial answer naming what is missing, the page says so and keeps the registry and agents', async () => {
    await stack.influx.stop();
    const failuresBefore = (await stack.metrics()).get('ioc_hub_site_detail_query_failures_total') ?? 0;
    const d = await detailOf(main.site);
    expect(d.missing.map((m) => m.part).sort()).toEqual(['latest', 'probeSeries', 'queueSeries']);
    expect(d.site.name).toBe(siteName);
    expect(d.agents.map((a) => a.agent)).toEqual([main.agent]);
    expect(d.alerts.active.length).toBe(1);
    expect(d.probes).toEqual([]);
    expect((await stack.metrics()).get('ioc_hub_site_detail_query_failures_total')).toBe(failuresBefore + 3);
    await page.goto(`${stack.httpUrl}/site.html?s=${main.site}`);
    const missing = page.locator('[data-testid=missing]');
    await missing.waitFor({ timeout: 15_000 });
    expect(await missing.textContent()).toContain('InfluxDB');
    expect(await page.textContent('[data-testid=site-name]')).toBe(siteName);
  });

});
