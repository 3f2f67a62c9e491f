// A Node-RED restart loses no notification: the flows' logic (flows-context.ts) with its queue file in a user dir,
// a relay port that refuses connections, a stop while the message waits, a new process' context on the same dir,
// then a real SMTP server on that port: the message arrives once, with the Message-ID it had before the restart.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFlowsContext, type FlowsContext } from '../flows/lib/flows-context.ts';
import type { NotifyConfigInput } from '../flows/lib/notify-config.ts';
import { alertTopic, type AlertRecord } from '../protocol/index.ts';
import { freePort } from '../testkit/free-port.ts';
import { headerValue, startMailSink, type MailSink } from '../testkit/mail-sink.ts';
import { waitUntil } from '../testkit/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-notify-restart-'));
const QUIET = { warn: () => undefined, error: () => undefined };
let smtp: MailSink | undefined;
const contexts: FlowsContext[] = [];

afterAll(async () => {
  for (const c of contexts) {
    await c.stop();
    c.close();
  }
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the delivery queue over a restart', () => {
  it('what waited for the relay is sent by the next process, once per recipient, with the same Message-ID', async () => {
    const port = await freePort(); // nothing listens there yet
    const path = join(dir, 'notify-delivery.json');
    const config: NotifyConfigInput = { smtp: { host: '127.0.0.1', port, timeoutMs: 2000 }, defaultRoute: { email: ['kt@ioc.test', 'lead@ioc.test'] }, retry: { minDelay: '200ms', maxDelay: '1s' } };
    const a: AlertRecord = { id: 'site-offline-restart-1', site: 'xa-lap-thach', rule: 'site-offline', severity: 'warning', state: 'firing', since: Date.now(), updatedAt: Date.now(), summary: { vi: 'Mất kết nối', en: 'Offline' }, labels: {} };

    const first = createFlowsContext(config, Date.now, { deliveryPath: path, log: QUIET });
    contexts.push(first);
    first.start();
    const ns = first.onMessage(alertTopic(a.site, a.id), JSON.stringify(a), false);
    expect(ns).toHaveLength(1);
    for (const n of ns) await first.send(n);
    await waitUntil('a few refused attempts', async () => first.delivery.stats().failedAttempts >= 4, 20_000, 50);
    await first.stop(); // Node-RED stops (a deploy, a reboot)
    first.close();
    contexts.splice(0);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { queue: { key: string; id: string }[] };
    expect(saved.queue.map((d) => d.key).sort()).toEqual([`${a.id}:firing:kt@ioc.test`, `${a.id}:firing:lead@ioc.test`]);

    const mails: { to: string; messageId: string }[] = [];
    // The sink opens on the port the queue has been retrying all along.
    smtp = await startMailSink((m) => mails.push({ to: m.to.join(','), messageId: headerValue(m.raw, 'message-id') ?? '' }), '127.0.0.1', port);

    const second = createFlowsContext(config, Date.now, { deliveryPath: path, log: QUIET });
    contexts.push(second);
    second.start();
    await waitUntil('both mails', async () => mails.length >= 2, 20_000, 50);
    for (const n of ns) await second.send(n); // handed over again (the policy forgot it): already delivered
    await new Promise((r) => setTimeout(r, 2500)); // past the largest back-off: no copy follows
    expect(mails.map((m) => m.to).sort()).toEqual(['kt@ioc.test', 'lead@ioc.test']);
    const ids = Object.fromEntries(saved.queue.map((d) => [d.key.split(':')[2], `<ioc.${d.id}@localhost>`]));
    for (const m of mails) expect(m.messageId).toBe(ids[m.to]);
    expect(second.delivery.stats()).toMatchObject({ queued: 0, delivered: 2, expired: 0, duplicates: 2 });
    expect(second.sent.email).toBe(2);
  });
});
