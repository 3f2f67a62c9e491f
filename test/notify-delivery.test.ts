// Notifications survive a dead mail relay and a failing webhook: the real hub, Node-RED with the flows, a real SMTP
// sink (smtp-server) whose port is really closed for five minutes, and a webhook receiver answering 500 then 200.
// Only the back-off is shortened (retry.maxDelay 10 s); the outage lasts the full five minutes.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStack } from '../testkit/alerts-stack.ts';
import { freePort } from '../testkit/free-port.ts';
import { waitUntil } from '../testkit/wait.ts';

const RULES = `
rules:
  - { name: site-offline, type: agent-offline, for: 1s, clearFor: 1s }
`;
const OUTAGE_MS = 5 * 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Hook {
  status: number;
  key: string;
  kind: string;
  alertId: string;
}

let s: AlertStack;
let hookServer: Server;
const hooks: Hook[] = [];
/** Answers 500 to the first two requests of each idempotency key, then 200. */
const seen = new Map<string, number>();

beforeAll(async () => {
  const hookPort = await freePort();
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const status = n <= 2 ? 500 : 200;
      const b = JSON.parse(body) as { kind: string; alert: { id: string } };
      hooks.push({ status, key, kind: b.kind, alertId: b.alert.id });
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'gateway busy');
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(hookPort, '127.0.0.1', () => resolve()));
  s = await AlertStack.start({
    sites: 4,
    rulesYaml: RULES,
    notify: {
      routes: [{ areas: ['tam-dao'], email: ['tam-dao@ioc.test', 'truc-ban@ioc.test'], webhook: true }],
      webhook: { url: `http://127.0.0.1:${hookPort}/hook` },
      escalation: { after: '1h', email: ['lead@ioc.test'] },
      retry: { minDelay: '1s', maxDelay: '10s' },
    },
  });
  for (const site of s.sites) await s.online(site.slug);
  await sleep(1500); // past the hub's startup grace
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await new Promise<void>((resolve) => (hookServer === undefined ? resolve() : hookServer.close(() => resolve())));
});

async function records(what: 'attempts' | 'failed', token = s.apiToken): Promise<{ status: number; body: { counts: Record<string, number>; attempts?: { key: string; outcome: string; error?: string }[]; failed?: unknown[] } }> {
  const res = await fetch(`${s.nodeRed.url}/notifications/${what}`, { headers: token === '' ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as never };
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.once('error', () => resolve(true));
  });

describe('notification delivery with retries', () => {
  it(
    'the SMTP sink down for 5 minutes: the notification arrives after it returns, exactly once per recipient',
    async () => {
      await s.smtpDown();
      expect(await refused(s.smtpSinkPort)).toBe(true); // the port is really closed
      s.offline('xa-0');
      const alertId = await waitUntil(
        'failed attempts to both recipients',
        async () => {
          const a = (await records('attempts')).body.attempts ?? [];
          const mailRetries = a.filter((x) => x.outcome === 'retry' && x.key.includes('@ioc.test'));
          const keys = new Set(mailRetries.map((x) => x.key));
          return keys.size === 2 ? mailRetries[0]?.key.split(':')[0] : undefined;
        },
        30_000,
        500,
      );
      const outageStart = Date.now();
      const errors = ((await records('attempts')).body.attempts ?? []).filter((x) => x.outcome === 'retry' && x.key.includes('@'));
      expect(errors[0]?.error).toMatch(/ECONNREFUSED/);
      // five minutes of outage: nothing arrives, the retries go on
      while (Date.now() - outageStart < OUTAGE_MS) {
        await sleep(10_000);
        expect(s.mails.filter((m) => m.alertId === alertId)).toEqual([]);
      }
      const during = (await records('attempts')).body;
      expect(during.counts.failedAttempts).toBeGreaterThanOrEqual(2 * 25); // ~every 5 s on average per recipient
      expect(during.counts.queued).toBeGreaterThanOrEqual(2);
      await s.smtpUp();
      const back = Date.now();
      await waitUntil('both mails after the relay returns', async () => s.mails.filter((m) => m.alertId === alertId).length >= 2, 60_000, 200);
      const lag = Date.now() - back;
      expect(lag).toBeLessThan(30_000); // the cap is 10 s; headroom for load
      await sleep(15_000); // longer than the largest back-off: no second copy comes
      const got = s.mails.filter((m) => m.alertId === alertId);
      expect(got.map((m) => m.to).sort()).toEqual(['tam-dao@ioc.test', 'truc-ban@ioc.test']);
      expect(got.every((m) => m.kind === 'firing' && /^<ioc\.[0-9a-f]{32}@localhost>$/.test(m.messageId))).toBe(true);
      const after = (await records('attempts')).body;
      expect(after.attempts?.filter((x) => x.outcome === 'delivered' && x.key.startsWith(`${alertId}:firing:`) && x.key.includes('@')).map((x) => x.key).sort()).toEqual([`${alertId}:firing:tam-dao@ioc.test`, `${alertId}:firing:truc-ban@ioc.test`]);
      expect(after.counts.expired).toBe(0);
      expect((await records('failed')).body.failed).toEqual([]);
      console.log(`SMTP outage ${Math.round((back - outageStart) / 1000)} s: ${during.counts.failedAttempts} failed attempts, delivered ${lag} ms after the relay returned, ${got.length} mails for 2 recipients`);
    },
    OUTAGE_MS + 180_000,
  );

  it('a webhook recipient answering 500 then 200: delivered once, every attempt with the same idempotency key', async () => {
    s.offline('xa-2');
    const alertId = await waitUntil('the firing mail of xa-2', async () => s.mails.find((m) => m.site === 'xa-2' && m.kind === 'firing')?.alertId, 30_000, 100);
    await waitUntil('the webhook accepted', async () => hooks.some((h) => h.alertId === alertId && h.status === 200), 60_000, 100);
    await sleep(12_000); // past the largest back-off
    const mine = hooks.filter((h) => h.alertId === alertId);
    expect(mine.map((h) => `${h.kind} ${h.status}`)).toEqual(['firing 500', 'firing 500', 'firing 200']);
    expect(new Set(mine.map((h) => h.key)).size).toBe(1);
    expect(mine[0]?.key).toMatch(/^[0-9a-f]{32}$/);
    // and the first alert's webhook (through the SMTP outage) was delivered once too
    expect(hooks.filter((h) => h.status === 200).length).toBe(new Set(hooks.map((h) => h.key)).size);
  }, 120_000);

  it('the delivery records need a hub API login', async () => {
    expect((await records('attempts', '')).status).toBe(401);
    expect((await records('failed', 'node-red:not-the-token')).status).toBe(401);
    const ok = await records('failed');
    expect(ok.status).toBe(200);
    expect(ok.body.counts).toMatchObject({ expired: 0, dropped: 0 });
  });
});
