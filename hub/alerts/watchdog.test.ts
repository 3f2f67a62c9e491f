// The notification watchdog on a fake clock: heartbeats published, only issued ids accepted, the engine's
// critical notify-path-down alert past the bound (and resolved by the next delivery), one fallback mail per outage.
import { describe, expect, it } from 'vitest';
import { WATCHDOG_TOPIC, type AlertRecord } from '../../protocol/index.ts';
import { parseHubConfig } from '../config.ts';
import { silentLogger } from '../logger.ts';
import { AlertEngine } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';
import { HUB_SITE, NOTIFY_PATH_RULE, NotifyWatchdog } from './watchdog.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');
const MIN = 60_000;

function setup(fallbackTo: string[] = ['truc-ban@ioc.test'], failMails = 0) {
  const clock = { t: T0 };
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const mails: { to: string[]; subject: string }[] = [];
  const state = { failMails };
  const config = parseHubConfig({ alerts: { watchdog: { enabled: true, interval: '5m', bound: '15m', fallback: { to: fallbackTo, minDelay: '1s', maxDelay: '10s' } } } });
  const w = new NotifyWatchdog({
    config: config.alerts.watchdog,
    publish: (topic, payload, retain) => published.push({ topic, payload, retain }),
    logger: silentLogger(),
    now: () => clock.t,
    sendMail: async (m) => {
      if (state.failMails-- > 0) throw new Error('connect ECONNREFUSED');
      mails.push({ to: m.to, subject: m.subject });
    },
  });
  const out = { active: [] as AlertRecord[], resolved: [] as AlertRecord[] };
  const engine = new AlertEngine({ rules: { ...parseRulesFile({}), rules: [w.rule] }, outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r) }, now: () => clock.t, evaluateIntervalMs: 0, sliceBudgetMs: 60_000 });
  return { clock, published, mails, w, engine, out, state };
}

async function tick(engine: AlertEngine): Promise<void> {
  engine.tick();
  await engine.idle();
}

describe('NotifyWatchdog', () => {
  it('publishes a heartbeat on start and every interval, QoS 1 not retained, with an id it then accepts', () => {
    const { w, published } = setup();
    w.start();
    try {
      expect(published).toHaveLength(1);
      const hb = JSON.parse(published[0]?.payload ?? '{}') as { id: string; sentAt: number };
      expect(published[0]).toMatchObject({ topic: WATCHDOG_TOPIC, retain: false });
      expect(hb.sentAt).toBe(T0);
      expect(w.report('hb-not-ours')).toBe(false);
      expect(w.unknown.get()).toBe(1);
      expect(w.report(hb.id)).toBe(true);
      expect(w.delivered.get()).toBe(1);
    } finally {
      w.stop();
    }
  });

  it('no delivered heartbeat within the bound: the critical alert, one fallback mail; a delivery resolves it', async () => {
    const { w, engine, out, clock, mails } = setup();
    await engine.start();
    w.start();
    try {
      clock.t = T0 + 15 * MIN; // at the bound: not yet
      await tick(engine);
      await w.check();
      expect(out.active).toEqual([]);
      expect(mails).toEqual([]);
      clock.t = T0 + 15 * MIN + 1000;
      await tick(engine);
      await tick(engine);
      expect(out.active.filter((a) => a.state === 'firing')).toEqual([expect.objectContaining({ rule: NOTIFY_PATH_RULE, site: HUB_SITE, severity: 'critical', summary: expect.objectContaining({ en: 'Notification path down (no heartbeat delivered)' }) as unknown })]);
      expect(engine.list().map((a) => `${a.rule} ${a.state}`)).toEqual([`${NOTIFY_PATH_RULE} firing`]);
      await w.check();
      await w.check();
      clock.t += 10 * MIN;
      await w.check();
      expect(mails).toEqual([{ to: ['truc-ban@ioc.test'], subject: '[CẢNH BÁO / FIRING] [critical] Đường gửi thông báo không hoạt động (không nhận được nhịp kiểm tra)' }]);
      expect(w.fallback.get('sent')).toBe(1);
      // the path is back
      const hb = w.beat();
      expect(w.report(hb.id)).toBe(true);
      expect(w.ageMs()).toBe(0);
      await tick(engine);
      await tick(engine);
      expect(out.resolved.map((a) => a.rule)).toEqual([NOTIFY_PATH_RULE]);
      // a second outage mails again
      clock.t += 16 * MIN;
      await w.check();
      expect(mails).toHaveLength(2);
    } finally {
      w.stop();
      await engine.stop();
    }
  });

  it('a fallback mail that fails is retried with back-off until it goes', async () => {
    const { w, clock, mails } = setup(['truc-ban@ioc.test'], 3);
    w.start();
    try {
      clock.t = T0 + 16 * MIN;
      for (let i = 0; i < 20 && mails.length === 0; i++) {
        await w.check();
        clock.t += 10_000; // past any back-off (maxDelay 10 s)
      }
      expect(mails).toHaveLength(1);
      expect(w.fallback.get('failed')).toBe(3);
      expect(w.fallback.get('sent')).toBe(1);
    } finally {
      w.stop();
    }
  });

  it('disabled (the default): no heartbeat, no alert', () => {
    const w = new NotifyWatchdog({ config: parseHubConfig({}).alerts.watchdog, publish: () => expect.fail('published'), logger: silentLogger() });
    w.start();
    expect(w.isDown(Date.now() + 365 * 24 * 60 * MIN)).toBe(false);
    expect(w.rule.tick(Date.now())).toEqual([]);
    w.stop();
  });
});
