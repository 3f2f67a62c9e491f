// What the Node-RED flows reach through `global.get('ioc')`: Function nodes are glue around these calls.
import { createHash } from 'node:crypto';
import { fullJitterDelay } from '../../common/backoff.ts';
import { errorMessage } from '../../common/errors.ts';
import { watchdogHeartbeatSchema, type AlertRecord, type WatchdogHeartbeat } from '../../protocol/index.ts';
import { notifyConfigSchema, type NotifyConfig, type NotifyConfigInput } from './notify-config.ts';
import { DeliveryQueue, type Delivery, type DeliveryAttempt, type DeliveryLog, type DeliveryStats, type FailedDelivery } from './notify-delivery.ts';
import { NotificationLimiter } from './notify-limiter.ts';
import { NotificationPolicy, type Notification } from './notify-policy.ts';
import { createNotifiers, type Notifier } from './notifiers/index.ts';

export interface FlowsContext {
  /** What to send for one alert message, within the per-recipient limits. */
  onMessage(topic: string, payload: string, retained: boolean): Notification[];
  /** Escalations (within the limits) and digests that are due. */
  due(): Notification[];
  /** Queues `n` for delivery, one per recipient, retried until delivered or expired; resolves once it is on disk. */
  send(n: Notification): Promise<void>;
  /** A heartbeat from the hub (WATCHDOG_TOPIC): through the delivery queue, then reported to the hub. */
  heartbeat(payload: string): Promise<void>;
  /** Whether an `Authorization` header may read the delivery records: the hub's API decides (alerts:read). */
  authorizeRead(authorization: string | undefined): Promise<boolean>;
  /** GET /notifications/attempts and /notifications/failed. */
  deliveryReport(what: 'attempts' | 'failed', limit?: number): { counts: DeliveryStats; attempts?: DeliveryAttempt[]; failed?: FailedDelivery[]; pending?: Pick<Delivery, 'key' | 'channel' | 'recipient' | 'attempts' | 'nextAt' | 'lastError'>[] };
  readonly delivery: DeliveryQueue;
  /** Starts the delivery queue (what a previous run left is sent too). */
  start(): void;
  /** Stops the queue, waiting for the sends in flight, and writes its file. */
  stop(): Promise<void>;
  /** Counters for tests and the console. */
  readonly sent: { email: number; webhook: number; failed: number };
  /** Notifications held back by the per-recipient limit, and digests made of them. */
  readonly limited: { held: number; digests: number };
  close(): void;
}

export interface FlowsContextOptions {
  /** The delivery queue's file (Node-RED's user dir); none: in memory. */
  deliveryPath?: string;
  log?: DeliveryLog;
}

/** Failures of delivery are logged as JSON lines (Node-RED's own log has no structured data). */
const CONSOLE_LOG: DeliveryLog = {
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 40, time: Date.now(), component: 'notify-delivery', ...obj, msg })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 50, time: Date.now(), component: 'notify-delivery', ...obj, msg })),
};

export function createFlowsContext(input: NotifyConfigInput, now: () => number = Date.now, opts: FlowsContextOptions = {}): FlowsContext {
  const config: NotifyConfig = notifyConfigSchema.parse(input);
  const log = opts.log ?? CONSOLE_LOG;
  const policy = new NotificationPolicy(config, now);
  const limiter = new NotificationLimiter(config.limits, now);
  const notifiers: Notifier[] = createNotifiers(config);
  const sent = { email: 0, webhook: 0, failed: 0 };
  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${config.hubApi.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(config.hubApi.token === undefined ? {} : { authorization: `Bearer ${config.hubApi.token}` }) },
      signal: AbortSignal.timeout(config.hubApi.timeoutMs),
    });
  const notifierOf = (channel: Notification['channel']): Notifier => {
    const notifier = notifiers.find((x) => x.channel === channel);
    if (notifier === undefined) throw new Error(`no notifier for ${channel}`);
    return notifier;
  };
  /** Tells the hub a heartbeat went through; a few quick retries (the next heartbeat follows anyway). */
  const reportHeartbeat = async (id: string, sentAt: number, recipient: string): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await api('/api/notify/heartbeat', { method: 'POST', body: JSON.stringify({ id, sentAt, recipient, deliveredAt: now() }) });
        if (res.ok) return;
        throw new Error(`hub answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      } catch (err: unknown) {
        log.warn({ heartbeat: id, attempt: attempt + 1, err: errorMessage(err) }, 'heartbeat not reported to the hub');
        await new Promise((r) => setTimeout(r, 500 + fullJitterDelay(attempt, { minMs: 1000, maxMs: 10_000 })));
      }
    }
  };
  const delivery = new DeliveryQueue({
    config: config.retry,
    now,
    log,
    ...(opts.deliveryPath === undefined ? {} : { path: opts.deliveryPath }),
    send: async (d) => {
      try {
        await notifierOf(d.channel).send(d);
      } catch (err: unknown) {
        sent.failed++;
        throw err;
      }
      sent[d.channel]++;
    },
    onDelivered: (d) => {
      if (d.tag === 'heartbeat') void reportHeartbeat(d.notification.alert.id, d.notification.alert.since, d.recipient);
    },
  });
  const readers = new Map<string, number>();
  return {
    onMessage: (topic, payload, retained) => limiter.admit(policy.onMessage(topic, payload, retained)),
    due: () => [...limiter.admit(policy.due()), ...limiter.due()],
    async send(n) {
      await delivery.enqueue(n, { ...(config.webhook.url === undefined ? {} : { webhookUrl: config.webhook.url }) });
    },
    async heartbeat(payload) {
      let hb: WatchdogHeartbeat;
      try {
        hb = watchdogHeartbeatSchema.parse(JSON.parse(payload));
      } catch (err: unknown) {
        log.warn({ err: errorMessage(err) }, 'malformed heartbeat ignored');
        return;
      }
      const w = config.watchdog;
      if (w.email.length === 0 && w.webhook === undefined) return reportHeartbeat(hb.id, hb.sentAt, 'none');
      const alert: AlertRecord = { id: hb.id, site: 'ioc-hub', rule: 'watchdog', severity: 'info', state: 'firing', since: hb.sentAt, updatedAt: hb.sentAt, summary: { vi: 'Nhịp kiểm tra đường gửi thông báo', en: 'Notification path heartbeat' }, labels: {} };
      const subject = `[IOC WATCHDOG] ${hb.id}`;
      const text = `Nhịp kiểm tra đường gửi thông báo / notification path heartbeat ${hb.id}, ${new Date(hb.sentAt).toISOString()}`;
      const base = { kind: 'firing' as const, subject, text, alert };
      const common = { maxAge: w.maxAge, tag: 'heartbeat', alertKey: `watchdog.${hb.id}` };
      if (w.email.length > 0) await delivery.enqueue({ ...base, channel: 'email', to: w.email }, common);
      if (w.webhook !== undefined) await delivery.enqueue({ ...base, channel: 'webhook', to: [] }, { ...common, webhookUrl: w.webhook });
    },
    async authorizeRead(authorization) {
      if (authorization === undefined || !authorization.startsWith('Bearer ') || authorization.length > 1100) return false;
      const key = createHash('sha256').update(authorization).digest('hex');
      const t = now();
      if ((readers.get(key) ?? 0) > t) return true;
      try {
        const res = await fetch(`${config.hubApi.url}/api/alerts?limit=1`, { headers: { authorization }, signal: AbortSignal.timeout(config.hubApi.timeoutMs) });
        await res.body?.cancel();
        if (!res.ok) return false;
      } catch (err: unknown) {
        log.warn({ err: errorMessage(err) }, 'hub unreachable: cannot check a reader of the delivery records');
        return false;
      }
      if (readers.size > 1000) readers.clear();
      readers.set(key, t + 60_000);
      return true;
    },
    deliveryReport(what, limit) {
      const counts = delivery.stats();
      if (what === 'attempts') return { counts, attempts: delivery.attempts(limit), pending: delivery.pending().slice(0, limit ?? 1000).map((d) => ({ key: d.key, channel: d.channel, recipient: d.recipient, attempts: d.attempts, nextAt: d.nextAt, ...(d.lastError === undefined ? {} : { lastError: d.lastError }) })) };
      return { counts, failed: delivery.failed(limit) };
    },
    delivery,
    start: () => delivery.start(),
    stop: () => delivery.stop(),
    sent,
    limited: limiter.stats,
    close() {
      for (const n of notifiers) n.close();
    },
  };
}
