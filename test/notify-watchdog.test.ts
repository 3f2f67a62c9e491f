// The notification path's watchdog end to end: the real hub publishes heartbeats, Node-RED delivers them to a
// watched mailbox on a real SMTP sink and reports each delivery back; when Node-RED stops, the hub raises the
// critical notify-path-down alert within the bound and mails it itself to a fallback mailbox on another sink.
// The interval and the bound are shortened (2 s, 20 s) so that the test takes seconds, not a quarter of an hour.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStack } from '../testkit/alerts-stack.ts';
import { headerValue, startMailSink, type MailSink, type SunkMail } from '../testkit/mail-sink.ts';
import { parsePromText } from '../testkit/prom-text.ts';
import { waitUntil } from '../testkit/wait.ts';

// Longer than the stack's start takes under load (the bound counts from the hub's start, before Node-RED is up).
const BOUND_MS = 20_000;
let s: AlertStack;
let fallbackSink: MailSink;
const fallback: SunkMail[] = [];

beforeAll(async () => {
  fallbackSink = await startMailSink((m) => fallback.push(m));
  s = await AlertStack.start({
    sites: 1,
    rulesYaml: 'rules: []\n',
    hubAlerts: { watchdog: { enabled: true, interval: '2s', bound: `${BOUND_MS}ms`, fallback: { to: ['fallback@ioc.test'], port: fallbackSink.port, minDelay: '1s', maxDelay: '5s' } } },
    notify: { watchdog: { email: ['watchdog@ioc.test'] } },
  });
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await fallbackSink?.stop();
});

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${s.apiUrl}/metrics`)).text();
  return parsePromText(text).get(name);
}

async function pathAlerts(): Promise<{ rule: string; state: string; severity: string; site: string }[]> {
  const res = await fetch(`${s.apiUrl}/api/alerts`, { headers: { authorization: `Bearer ${s.apiToken}` } });
  return ((await res.json()) as { alerts: { rule: string; state: string; severity: string; site: string }[] }).alerts.filter((a) => a.rule === 'notify-path-down');
}

describe('the notification watchdog', () => {
  it('heartbeats reach the watched mailbox and are reported back; the path is up', async () => {
    await waitUntil('three heartbeats delivered and reported', async () => ((await metric('ioc_hub_notify_heartbeats_delivered_total')) ?? 0) >= 3, 30_000, 200);
    const beats = s.mails.filter((m) => m.rule === 'watchdog');
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.every((m) => m.to === 'watchdog@ioc.test' && m.subject.startsWith('[IOC WATCHDOG] hb-'))).toBe(true);
    expect(new Set(beats.map((m) => m.alertId)).size).toBe(beats.length); // one mail per heartbeat
    expect(await metric('ioc_hub_notify_heartbeat_age_seconds')).toBeLessThan(BOUND_MS / 1000);
    expect(await pathAlerts()).toEqual([]);
    expect(fallback).toEqual([]);
  });

  it('a report needs alerts:write and a heartbeat the hub published', async () => {
    const post = (body: unknown, auth?: string): Promise<Response> => fetch(`${s.apiUrl}/api/notify/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }) }, body: JSON.stringify(body) });
    expect((await post({ id: 'hb-x' })).status).toBe(401);
    expect((await post({ id: 'hb-forged' }, s.apiToken)).status).toBe(404);
    expect((await post({ nope: 1 }, s.apiToken)).status).toBe(400);
    expect(await metric('ioc_hub_notify_heartbeats_unknown_total')).toBe(1);
  });

  it('Node-RED stopped: notify-path-down within the bound, and the fallback mail arrives', async () => {
    await s.nodeRed.stop();
    const stoppedAt = Date.now();
    const [alert] = await waitUntil('notify-path-down firing', async () => {
      const a = (await pathAlerts()).filter((x) => x.state === 'firing');
      return a.length > 0 ? a : undefined;
    }, BOUND_MS + 30_000, 200);
    const raisedAfter = Date.now() - stoppedAt;
    expect(alert).toMatchObject({ severity: 'critical', site: 'ioc-hub' });
    // the last report came at most one interval (2 s) before the stop: raised between bound − 2 s and bound + slack
    expect(raisedAfter).toBeGreaterThan(BOUND_MS - 2500);
    expect(raisedAfter).toBeLessThan(BOUND_MS + 15_000);
    expect(await metric('ioc_hub_notify_heartbeat_age_seconds')).toBeGreaterThanOrEqual(BOUND_MS / 1000);
    await waitUntil('the fallback mail', async () => fallback.length > 0, 30_000, 200);
    await new Promise((r) => setTimeout(r, 3000));
    expect(fallback).toHaveLength(1); // once per outage
    expect(fallback[0]?.to).toEqual(['fallback@ioc.test']);
    expect(fallback[0]?.subject).toContain('Đường gửi thông báo không hoạt động');
    expect(headerValue(fallback[0]?.raw ?? '', 'x-ioc-alert-rule')).toBe('notify-path-down');
    expect(await metric('ioc_hub_notify_fallback_mails_total')).toBe(1);
    console.log(`Node-RED stopped: notify-path-down raised after ${raisedAfter} ms (bound ${BOUND_MS} ms), fallback mail sent`);
  }, 90_000);
});
