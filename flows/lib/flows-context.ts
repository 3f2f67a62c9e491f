// What the Node-RED flows reach through `global.get('ioc')`: Function nodes are glue around these calls.
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
    sent,
    limited: limiter.stats,
    close() {
      for (const n of notifiers) n.close();
    },
  };
}
