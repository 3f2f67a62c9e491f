// The notification path's watchdog (Alertmanager's Watchdog, a dead man's switch): a heartbeat on MQTT every
// `interval`, which Node-RED delivers like a notification and reports back once delivered. No delivered heartbeat
// for `bound`: the critical `notify-path-down` alert (a rule of the engine: /api/alerts, MQTT), and, since
// Node-RED or its relay may be the dead part, that one alert mailed straight from here to `fallback.to`.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fullJitterDelay } from '../../common/backoff.ts';
import { WATCHDOG_TOPIC, watchdogHeartbeatSchema, type WatchdogHeartbeat } from '../../protocol/index.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { HubConfig } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import { HUB_SITE } from './self-check.ts';
import type { RuleInstance, RuleSignal } from './types.ts';

export type WatchdogConfig = HubConfig['alerts']['watchdog'];

/** The alert's rule name; it stands on the hub's own pseudo-site, as the hub-link incident does. */
export const NOTIFY_PATH_RULE = 'notify-path-down';
export { HUB_SITE };

/** Node-RED also sends when and to whom it delivered; only the id counts. */
const reportSchema = z.object({ id: watchdogHeartbeatSchema.shape.id });

const SUMMARY = { vi: 'Đường gửi thông báo không hoạt động (không nhận được nhịp kiểm tra)', en: 'Notification path down (no heartbeat delivered)' };

export interface NotifyWatchdogOptions {
  config: WatchdogConfig;
  publish: (topic: string, payload: string, retain: boolean) => void;
  logger: Logger;
  now?: () => number;
  /** Sends the fallback mail; default: nodemailer to `fallback`'s relay. */
  sendMail?: (mail: { to: string[]; subject: string; text: string }) => Promise<void>;
}

export class NotifyWatchdog {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly issued = new Map<string, number>();
  private startedAt = 0;
  private lastDeliveredAt: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** The current outage's fallback mail: sent (or being retried) once per outage. */
  private episode: { since: number; mailed: boolean; attempts: number; nextAt: number } | undefined;
  private transport: Transporter | undefined;
  private mailing = false;
  readonly sent = new Counter('ioc_hub_notify_heartbeats_sent_total', 'Heartbeats published on ioc/v1/alerts/watchdog');
  readonly delivered = new Counter('ioc_hub_notify_heartbeats_delivered_total', 'Heartbeat deliveries reported by Node-RED (POST /api/notify/heartbeat)');
  readonly unknown = new Counter('ioc_hub_notify_heartbeats_unknown_total', 'Heartbeat reports refused: not a heartbeat this hub published recently');
  readonly fallback = new Counter('ioc_hub_notify_fallback_mails_total', 'Fallback mails of notify-path-down, by outcome', 'outcome');
  /** The engine's rule: active while no heartbeat was delivered within `bound`. */
  readonly rule: RuleInstance;

  constructor(private readonly opts: NotifyWatchdogOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'notify-watchdog' });
    this.rule = {
      name: NOTIFY_PATH_RULE,
      type: 'notify-watchdog',
      severity: 'critical',
      forMs: 0,
      clearForMs: 0,
      officeHoursOnly: false,
      group: undefined,
      marksSiteDown: false,
      maxSeriesPerSite: 1,
      maxSeries: 1,
      onPoint: () => [],
      tick: (now) => this.signals(now),
      snapshot: () => ({}),
      restore: () => undefined,
    };
  }

  get enabled(): boolean {
    return this.opts.config.enabled;
  }

  /** Publishes a heartbeat now and every `interval`; checks the bound every few seconds. Idempotent. */
  start(): void {
    if (!this.enabled || this.timers.length > 0) return;
    this.startedAt = this.now();
    const { interval, bound } = this.opts.config;
    this.beat();
    const beat = setInterval(() => this.beat(), interval);
    const check = setInterval(() => void this.check(), Math.max(200, Math.min(5000, Math.floor(Math.min(interval, bound) / 10))));
    beat.unref();
    check.unref();
    this.timers = [beat, check];
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.transport?.close();
    this.transport = undefined;
  }

  /** Publishes one heartbeat (QoS 1, not retained). */
  beat(): WatchdogHeartbeat {
    const hb: WatchdogHeartbeat = { id: `hb-${this.now().toString(36)}-${randomBytes(3).toString('hex')}`, sentAt: this.now() };
    this.issued.set(hb.id, hb.sentAt);
    // Reports may come as late as a delivery's retries allow; older ids are forgotten.
    for (const [id, at] of this.issued) if (at < this.now() - 2 * this.opts.config.bound || this.issued.size > 1000) this.issued.delete(id);
    this.opts.publish(WATCHDOG_TOPIC, JSON.stringify(hb), false);
    this.sent.inc();
    return hb;
  }

  /** Node-RED delivered heartbeat `id`: the path works. False for an id this hub did not publish recently. */
  report(id: string): boolean {
    if (!this.issued.has(id)) {
      this.unknown.inc();
      return false;
    }
    this.lastDeliveredAt = this.now();
    this.delivered.inc();
    if (this.episode !== undefined) this.log.info({ downForMs: this.now() - this.episode.since }, 'notification path back: heartbeat delivered');
    this.episode = undefined;
    return true;
  }

  /** Time since the last delivered heartbeat (since the start when none has been). */
  ageMs(now = this.now()): number {
    return now - (this.lastDeliveredAt ?? this.startedAt);
  }

  isDown(now = this.now()): boolean {
    return this.enabled && this.startedAt > 0 && this.ageMs(now) > this.opts.config.bound;
  }

  private signals(now: number): RuleSignal[] {
    if (!this.enabled || this.startedAt === 0) return [];
    const age = Math.round(this.ageMs(now) / 1000);
    return [{ site: HUB_SITE, instance: '', active: this.isDown(now), value: age, labels: { component: 'notifications' }, summary: SUMMARY }];
  }

  /** Opens the outage once the bound is passed and mails it to the fallback address, retried until it goes. */
  async check(): Promise<void> {
    const now = this.now();
    if (!this.isDown(now)) return;
    if (this.episode === undefined) {
      this.episode = { since: now, mailed: false, attempts: 0, nextAt: now };
      this.log.error({ ageMs: this.ageMs(now), lastDeliveredAt: this.lastDeliveredAt }, 'notification path down: no heartbeat delivered in time');
    }
    const f = this.opts.config.fallback;
    const ep = this.episode;
    if (f.to.length === 0 || ep.mailed || this.mailing || now < ep.nextAt) return;
    this.mailing = true;
    try {
      await this.mail(now);
      ep.mailed = true;
      this.fallback.inc(1, 'sent');
      this.log.warn({ to: f.to }, 'notify-path-down mailed to the fallback address');
    } catch (err: unknown) {
      ep.attempts++;
      ep.nextAt = this.now() + fullJitterDelay(ep.attempts - 1, { minMs: f.minDelay, maxMs: f.maxDelay });
      this.fallback.inc(1, 'failed');
      this.log.error({ to: f.to, attempt: ep.attempts, err: errorMessage(err) }, 'fallback mail not sent, will retry');
    } finally {
      this.mailing = false;
    }
  }

  private async mail(now: number): Promise<void> {
    const f = this.opts.config.fallback;
    const last = this.lastDeliveredAt === undefined ? `none since the hub started (${new Date(this.startedAt).toISOString()})` : new Date(this.lastDeliveredAt).toISOString();
    const subject = `[CẢNH BÁO / FIRING] [critical] ${SUMMARY.vi}`;
    const text = [
      `CẢNH BÁO: ${SUMMARY.vi}`,
      `FIRING: ${SUMMARY.en}`,
      '',
      `Nhịp kiểm tra cuối cùng được gửi tới / last heartbeat delivered: ${last}`,
      `Giới hạn / bound: ${Math.round(this.opts.config.bound / 1000)} s · ${new Date(now).toISOString()}`,
      'Node-RED, its mail relay or its webhook may be down: alerts may not reach anyone until this is fixed.',
      `Quy tắc / rule: ${NOTIFY_PATH_RULE} · điểm / site: ${HUB_SITE}`,
    ].join('\n');
    if (this.opts.sendMail !== undefined) return this.opts.sendMail({ to: [...f.to], subject, text });
    this.transport ??= createTransport({
      host: f.host,
      port: f.port,
      secure: f.secure,
      ...(f.user === undefined ? {} : { auth: { user: f.user, pass: f.pass ?? '' } }),
      connectionTimeout: f.timeoutMs,
      greetingTimeout: f.timeoutMs,
      socketTimeout: f.timeoutMs,
    });
    await this.transport.sendMail({ from: f.from, to: f.to.join(', '), subject, text, headers: { 'X-IOC-Alert-Kind': 'firing', 'X-IOC-Alert-Site': HUB_SITE, 'X-IOC-Alert-Rule': NOTIFY_PATH_RULE } });
  }

  /** Its counters and the age gauge in /metrics. */
  addMetrics(m: HubMetrics): void {
    m.addGauge({ name: 'ioc_hub_notify_heartbeat_age_seconds', help: 'Seconds since Node-RED last reported a delivered heartbeat (since the start when none was); past alerts.watchdog.bound: notify-path-down', read: () => (this.enabled ? Math.round(this.ageMs() / 1000) : 0) });
    for (const c of [this.sent, this.delivered, this.unknown, this.fallback]) m.addCounter(c);
  }

  /** POST /api/notify/heartbeat {id, …}: Node-RED's report of a delivered heartbeat (scope alerts:write). */
  routes(auth: ApiAuth) {
    return async (app: FastifyInstance): Promise<void> => {
      app.post('/api/notify/heartbeat', async (req, reply) => {
        if ((await auth.require(req, reply, 'alerts:write')) === undefined) return reply;
        const body = reportSchema.safeParse(req.body);
        if (!body.success) return reply.code(400).send({ code: 'E_WATCHDOG_INPUT', error: 'body: {id} of a heartbeat' });
        if (!this.enabled) return reply.code(409).send({ code: 'E_WATCHDOG_OFF', error: 'alerts.watchdog is not enabled' });
        if (!this.report(body.data.id)) return reply.code(404).send({ code: 'E_WATCHDOG_UNKNOWN', error: `no recent heartbeat ${body.data.id}` });
        return { ok: true, ageSeconds: 0 };
      });
    };
  }
}
