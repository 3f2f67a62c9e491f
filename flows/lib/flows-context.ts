// What the Node-RED flows reach through `global.get('ioc')`: Function nodes are glue around these calls.
import { errorMessage } from '../../common/errors.ts';
import type { AlertRecord } from '../../protocol/index.ts';
import { renderConsolePage } from './console-page.ts';
import { notifyConfigSchema, type NotifyConfig, type NotifyConfigInput } from './notify-config.ts';
import { NotificationLimiter } from './notify-limiter.ts';
import { NotificationPolicy, type Notification } from './notify-policy.ts';
import { createNotifiers, type Notifier } from './notifiers/index.ts';

export interface FlowsContext {
  /** What to send for one alert message, within the per-recipient limits. */
  onMessage(topic: string, payload: string, retained: boolean): Notification[];
  /** Escalations (within the limits) and digests that are due. */
  due(): Notification[];
  send(n: Notification): Promise<void>;
  consolePage(): Promise<string>;
  ack(id: string, by: string): Promise<void>;
  /** Counters for tests and the console. */
  readonly sent: { email: number; webhook: number; failed: number };
  /** Notifications held back by the per-recipient limit, and digests made of them. */
  readonly limited: { held: number; digests: number };
  close(): void;
}

export function createFlowsContext(input: NotifyConfigInput, now: () => number = Date.now): FlowsContext {
  const config: NotifyConfig = notifyConfigSchema.parse(input);
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
  return {
    onMessage: (topic, payload, retained) => limiter.admit(policy.onMessage(topic, payload, retained)),
    due: () => [...limiter.admit(policy.due()), ...limiter.due()],
    async send(n) {
      const notifier = notifiers.find((x) => x.channel === n.channel);
      try {
        await notifier?.send(n);
        sent[n.channel]++;
      } catch (err: unknown) {
        sent.failed++;
        throw err;
      }
    },
    async consolePage() {
      let alerts: AlertRecord[];
      let error: string | undefined;
      try {
        const res = await api('/api/alerts');
        alerts = ((await res.json()) as { alerts: AlertRecord[] }).alerts.filter((a) => a.state !== 'pending');
      } catch (err: unknown) {
        // The hub is unreachable: show what MQTT told us.
        alerts = policy.active();
        error = errorMessage(err);
      }
      return renderConsolePage(alerts, error);
    },
    async ack(id, by) {
      const res = await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: JSON.stringify({ by }) });
      if (!res.ok) throw new Error(`hub refused the acknowledgement: ${res.status} ${await res.text()}`);
    },
    sent,
    limited: limiter.stats,
    close() {
      for (const n of notifiers) n.close();
    },
  };
}
