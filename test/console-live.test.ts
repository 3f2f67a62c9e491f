// Live updates of the console (GET /api/events, console/src/live.ts, banner.ts) against the real hub process and
// influxd, in Debian's Chromium: an alert raised on the hub appears on the alerts page without a reload (long before
// its safety poll); a hub that goes silent (SIGSTOP) or stops shows the "lost the hub — data as of" banner within its
// bound, and once it is back the banner goes and alerts come live again; the stream cap refuses the N+1-th stream, a
// client that never reads is dropped, both counted in /metrics; a hub with open streams (one of them never reading)
// stops quickly. Screenshots of the banner in test-artifacts/.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentIdentity, telemetryTopic, type AlertRecord, type Batch } from '../protocol/index.ts';
import { startChromium, type RunningChromium } from '../testkit/chromium.ts';
import { PROJECT_ROOT, runProgram, spawnGuarded } from '../testkit/child-process.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const HEARTBEAT_MS = 2000;
const MAX_STREAMS = 4;
const BUFFER_BYTES = 2048;
/** The alerts page's safety poll (console/src/main.ts): a live alert must come well before it. */
const SAFETY_POLL_MS = 60_000;
/** A live alert: `for: 1s`, the engine's 1 s tick, the page's 250 ms debounce and a loaded machine. */
const LIVE_BOUND_MS = 15_000;

let stack: Stack;
let tmp = '';
let password = '';
let site = '';
let seq = 0;
const socats: ChildProcess[] = [];

const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${stack.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
const alerts = async (): Promise<AlertRecord[]> => ((await (await api('/api/alerts?limit=100', { headers: { authorization: stack.readAuth } })).json()) as { alerts: AlertRecord[] }).alerts;
const metric = async (name: string): Promise<number> => (await stack.metrics()).get(name) ?? Number.NaN;

/** A failing probe batch from the site's agent (a raw MQTT client): the rule raises an alert for the target. */
async function raiseAlert(target: string): Promise<void> {
  const a = stack.agents[0];
  if (a === undefined) throw new Error('no agent');
  const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
  const t = Date.now();
  const batch: Batch = { seq: ++seq, sentAt: t, points: [{ m: 'net_probe', t, tags: { target, method: 'tcp' }, fields: { up: 0 } }] };
  expect(await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify(batch))).toBe('acked');
  await endClient(client);
}

interface RawStream {
  status: number;
  body: string;
  req: ClientRequest;
  res: IncomingMessage;
}

/** GET /api/events over a plain socket; resolves once the headers (and, for a 200, the hello) came. */
function openStream(headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.httpUrl}/api/events`, { headers }, (res) => {
      const s: RawStream = { status: res.statusCode ?? 0, body: '', req, res };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        s.body += chunk;
        if (s.status === 200 && s.body.includes('event: hello')) resolve(s);
      });
      res.on('end', () => resolve(s));
      res.on('error', () => resolve(s));
      if (s.status !== 200) res.resume();
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer from /api/events')));
    req.end();
  });
}

function helloOf(s: RawStream): { bootId: string; alerts: boolean; heartbeatMs: number } {
  const m = /event: hello\ndata: (.*)\n/.exec(s.body);
  return JSON.parse(m?.[1] ?? '{}') as { bootId: string; alerts: boolean; heartbeatMs: number };
}

/**
 * A client that asks for the stream and never reads a byte of it: socat writes the request and never reads its TCP
 * side (-U), with a small receive buffer and MSS so that the kernel takes tens of KiB, not the ~4 MiB it takes on
 * loopback for a Node socket.
 */
function neverReadingClient(auth: string): ChildProcess {
  const script = join(tmp, `never-reads-${socats.length}.sh`);
  writeFileSync(script, `printf '%s\\r\\n' 'GET /api/events HTTP/1.1' 'Host: 127.0.0.1' '${`Authorization: ${auth}`}' ''\nexec sleep 600\n`);
  const child = spawnGuarded('socat', ['-U', `TCP:127.0.0.1:${stack.httpPort},rcvbuf=1024,mss=536`, `SYSTEM:sh ${script}`], { stdio: 'ignore' });
  socats.push(child);
  return child;
}

beforeAll(async () => {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'console', 'index.html'))) {
    expect(spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit', timeout: 120_000 }).status).toBe(0);
  }
  tmp = mkdtempSync(join(tmpdir(), 'ioc-console-live-'));
  const rulesFile = join(tmp, 'alerts.yaml');
  writeFileSync(rulesFile, 'rules:\n  - { name: probe-down, type: threshold, measurement: net_probe, field: up, below: 0.5, for: 1s, severity: critical }\n');
  stack = await startStack({
    agents: 1,
    hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 0s', 'console:', `  eventHeartbeat: ${HEARTBEAT_MS}`, `  maxEventStreams: ${MAX_STREAMS}`, `  eventBufferBytes: ${BUFFER_BYTES}`].join('\n'),
  });
  site = stack.agents[0]?.site ?? '';
  const added = await runProgram('ioc-hub', ['users', 'add', '--name', 'an', '--role', 'technician', '--display-name', 'Nguyễn Văn An', '--config', stack.hubConfig]);
  expect(added.code, added.stderr).toBe(0);
  password = /^password: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
}, 180_000);

afterAll(async () => {
  for (const c of socats) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); // by PID; its group goes with it
  const pid = stack?.hub.pid;
  if (pid !== undefined && stack.hub.running) process.kill(pid, 'SIGCONT'); // never left stopped
  await stack?.stop();
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('the console live in Chromium across a hub restart', () => {
  let chrome: RunningChromium | undefined;
  let page: Page;
  const banner = () => page.locator('[data-testid=lost-banner]');
  const rowOf = async (target: string) => page.locator(`article[data-alert-id="${(await alerts()).find((a) => a.labels.target === target)?.id ?? 'none'}"]`);

  /** Raises an alert and returns how long until its row showed on the page (no reload: the marker survives). */
  async function appearsLive(target: string): Promise<number> {
    await page.evaluate('window.__notReloaded = true');
    const t0 = Date.now();
    await raiseAlert(target);
    await waitUntil(`alert ${target} on the page`, async () => ((await (await rowOf(target)).count()) === 1 ? true : undefined), LIVE_BOUND_MS + 5000, 100);
    const ms = Date.now() - t0;
    expect(await page.evaluate('window.__notReloaded === true')).toBe(true);
    return ms;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    chrome = await startChromium(join(stack.dir, 'chromium.log'));
    const context = chrome.browser.contexts()[0] ?? (await chrome.browser.newContext());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  afterAll(async () => {
    await chrome?.stop();
  });

  it('logs in on the alerts page, which opens one stream, and an alert raised on the hub appears without a reload', async () => {
    await page.goto(stack.httpUrl);
    await page.fill('input[name=username]', 'an');
    await page.fill('input[name=password]', password);
    await page.click('form.login button[type=submit]');
    await page.locator('#incident-list').waitFor({ timeout: 15_000 });
    await waitUntil('the page stream open', async () => ((await metric('ioc_hub_event_streams')) === 1 ? true : undefined), 15_000, 200);
    expect(await banner().isHidden()).toBe(true);
    const ms = await appearsLive('portal');
    console.log(`live alert on the page after ${ms} ms (safety poll ${SAFETY_POLL_MS} ms)`);
    expect(ms).toBeLessThan(LIVE_BOUND_MS);
    expect(ms).toBeLessThan(SAFETY_POLL_MS / 4);
    expect(await page.textContent('#asof')).toMatch(/^Dữ liệu lúc .*\d\d:\d\d.* \(UTC\+7\)$/);
  }, 60_000);

  it('a hub that goes silent (SIGSTOP) shows the banner within two heartbeats; it goes once the hub answers again', async () => {
    const pid = stack.hub.pid;
    if (pid === undefined) throw new Error('no hub pid');
    await page.waitForTimeout(HEARTBEAT_MS + 200); // a heartbeat arrived lately: the bound counts from the last one
    const t0 = Date.now();
    process.kill(pid, 'SIGSTOP');
    try {
      await banner().waitFor({ state: 'visible', timeout: 2 * HEARTBEAT_MS + 8000 });
      const ms = Date.now() - t0;
      console.log(`silent hub: banner after ${ms} ms (heartbeat ${HEARTBEAT_MS} ms)`);
      // Nothing for 2 heartbeats (checked each second), counted from the last one before the stop.
      expect(ms).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 1000 + 3000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await banner().waitFor({ state: 'hidden', timeout: 20_000 });
  }, 60_000);

  it('a stopped hub: it stops at once with open streams (one never reading), the banner says since when the data is; restarted, the banner goes and alerts come live again', async () => {
    const slow = neverReadingClient(stack.readAuth);
    await waitUntil('the never-reading stream open', async () => ((await metric('ioc_hub_event_streams')) === 2 ? true : undefined), 15_000, 200);
    const t0 = Date.now();
    const ended = await stack.hub.stop();
    const stopMs = Date.now() - t0;
    console.log(`hub stop with 2 open streams (one never reading): ${stopMs} ms`);
    expect(ended).toEqual({ code: 0, signal: null }); // stopped by itself, not killed after the grace
    expect(stopMs).toBeLessThan(5000);
    await banner().waitFor({ state: 'visible', timeout: 2 * HEARTBEAT_MS + 5000 });
    const shownMs = Date.now() - t0;
    expect(shownMs).toBeLessThan(2 * HEARTBEAT_MS + 5000);
    const text = (await banner().textContent()) ?? '';
    const m = /^Mất kết nối tới hub — dữ liệu lúc (\d\d):(\d\d):(\d\d)$/.exec(text);
    expect(m, text).not.toBeNull();
    // The time is the hub's last word (UTC+7), at most a heartbeat and a bit before the stop.
    const vn = new Date(t0 + 7 * 3_600_000);
    const asOf = Number(m?.[1]) * 3600 + Number(m?.[2]) * 60 + Number(m?.[3]);
    const stopAt = vn.getUTCHours() * 3600 + vn.getUTCMinutes() * 60 + vn.getUTCSeconds();
    const before = (stopAt - asOf + 86_400) % 86_400;
    expect(before).toBeLessThanOrEqual(HEARTBEAT_MS / 1000 + 3);
    await page.screenshot({ path: join(ARTIFACTS, 'console-live-lost-1280.png'), fullPage: true });
    await page.click('[data-testid=lang]');
    expect(await banner().textContent()).toMatch(/^Lost the hub — data as of \d\d:\d\d:\d\d$/);
    await page.setViewportSize({ width: 360, height: 740 });
    await page.screenshot({ path: join(ARTIFACTS, 'console-live-lost-360-en.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('[data-testid=lang]');
    slow.kill('SIGKILL');

    await stack.restartHub();
    const back = Date.now();
    await banner().waitFor({ state: 'hidden', timeout: 20_000 });
    console.log(`banner gone ${Date.now() - back} ms after the restarted hub answered`);
    expect(await (await rowOf('portal')).count()).toBe(1); // still shown after the refetch
    const ms = await appearsLive('dns');
    console.log(`live alert after the restart: ${ms} ms`);
    expect(ms).toBeLessThan(LIVE_BOUND_MS);
    await page.screenshot({ path: join(ARTIFACTS, 'console-live-back-1280.png'), fullPage: true });
  }, 120_000);

  it(`refuses the stream past console.maxEventStreams (${MAX_STREAMS}), counted; alerts only to those who may read them`, async () => {
    await waitUntil('only the page stream', async () => ((await metric('ioc_hub_event_streams')) === 1 ? true : undefined), 15_000, 200);
    const refusedBefore = await metric('ioc_hub_event_streams_refused_total');
    const open: RawStream[] = [];
    try {
      const anonymous = await openStream();
      open.push(anonymous);
      expect(anonymous.status).toBe(200);
      expect(anonymous.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(anonymous.body).toMatch(/^retry: \d+\n\n/);
      expect(helloOf(anonymous)).toMatchObject({ alerts: false, heartbeatMs: HEARTBEAT_MS });
      for (let i = open.length + 1; i < MAX_STREAMS; i++) {
        const s = await openStream({ authorization: stack.readAuth });
        open.push(s);
        expect(s.status).toBe(200);
        expect(helloOf(s).alerts).toBe(true);
      }
      expect(await metric('ioc_hub_event_streams')).toBe(MAX_STREAMS);
      const refused = await openStream({ authorization: stack.readAuth });
      expect(refused.status).toBe(503);
      expect(refused.res.headers['retry-after']).toBe('10');
      expect(await metric('ioc_hub_event_streams_refused_total')).toBe(refusedBefore + 1);
      // An agent connects, writes, raises an alert and goes: `sites` to all (naming the site, at most once a second),
      // `alerts` only to the stream that may read alerts.
      const reader = open[1];
      if (reader === undefined) throw new Error('no reader stream');
      await raiseAlert('cap-probe');
      await waitUntil('alerts to the reader, sites to all', async () => (reader.body.includes('event: alerts') && /event: sites\ndata: .*"sites":\[[^\]]*"/.test(anonymous.body) ? true : undefined), LIVE_BOUND_MS, 100);
      await new Promise((r) => setTimeout(r, 2500)); // the disconnect's and the alert point's sites events too
      expect(anonymous.body).not.toContain('event: alerts');
      const sitesEvents = [...anonymous.body.matchAll(/event: sites\ndata: (.*)\n/g)].map((x) => JSON.parse(x[1] ?? '{}') as { at: number; sites?: string[] });
      expect(sitesEvents.some((e) => e.sites?.includes(site) === true)).toBe(true);
      for (let i = 1; i < sitesEvents.length; i++) expect((sitesEvents[i]?.at ?? 0) - (sitesEvents[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
      // Same boot, last id known: nothing missed; an id of another boot: resync.
      const bootId = helloOf(anonymous).bootId;
      open.shift()?.req.destroy();
      await waitUntil('a place free', async () => ((await metric('ioc_hub_event_streams')) === MAX_STREAMS - 1 ? true : undefined), 10_000, 100);
      const other = await openStream({ 'last-event-id': 'deadbeef.7' });
      open.push(other);
      expect(helloOf(other)).toMatchObject({ bootId, alerts: false });
      expect(other.body).toContain('"resync":true');
    } finally {
      for (const s of open) s.req.destroy();
    }
    await waitUntil('the raw streams closed', async () => ((await metric('ioc_hub_event_streams')) === 1 ? true : undefined), 10_000, 100);
  }, 60_000);

  it('drops a client that never reads once it has console.eventBufferBytes waiting, counted; the page stays live', async () => {
    const droppedBefore = await metric('ioc_hub_event_streams_dropped_slow_total');
    const slow = neverReadingClient(stack.readAuth);
    await waitUntil('the never-reading stream open', async () => ((await metric('ioc_hub_event_streams')) === 2 ? true : undefined), 15_000, 200);
    // Each silence added or removed is an `alerts` event to every stream that may read alerts.
    const login = await api('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'an', password }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await login.json()) as { csrf: string };
    const headers = { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const other = ((await (await api('/api/sites', { headers: { authorization: stack.readAuth } })).json()) as { sites: { slug: string }[] }).sites.find((s) => s.slug !== site)?.slug ?? '';
    const t0 = Date.now();
    let writes = 0;
    while ((await metric('ioc_hub_event_streams_dropped_slow_total')) === droppedBefore) {
      expect(Date.now() - t0, `no drop after ${writes} silence writes`).toBeLessThan(90_000);
      for (let i = 0; i < 25; i++) {
        const made = await api('/api/silences', { method: 'POST', headers, body: JSON.stringify({ sites: [other], endsAt: Date.now() + 3_600_000, comment: 'live test' }) });
        expect(made.status).toBe(201);
        const { silence } = (await made.json()) as { silence: { id: string } };
        expect((await api(`/api/silences/${silence.id}`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
        writes += 2;
      }
    }
    console.log(`never-reading client dropped after ${writes} alerts events (${Date.now() - t0} ms)`);
    expect(await metric('ioc_hub_event_streams_dropped_slow_total')).toBe(droppedBefore + 1);
    await waitUntil('only the page stream left', async () => ((await metric('ioc_hub_event_streams')) === 1 ? true : undefined), 10_000, 100);
    expect(await banner().isHidden()).toBe(true);
    slow.kill('SIGKILL');
    // The page still hears the hub: a new alert comes live.
    const ms = await appearsLive('gateway');
    expect(ms).toBeLessThan(LIVE_BOUND_MS);
  }, 150_000);
});
