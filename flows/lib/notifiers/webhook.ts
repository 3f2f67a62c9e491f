// Webhook notifier: POSTs {kind, subject, text, alert, digest?} as JSON (Zalo/Telegram/SMS gateways adapt from there).
import type { NotifyConfig } from '../notify-config.ts';
import type { Notification } from '../notify-policy.ts';
import type { Notifier } from './types.ts';

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';

  constructor(private readonly config: NotifyConfig['webhook']) {}

  async send(n: Notification): Promise<void> {
    if (this.config.url === undefined) return;
    const res = await fetch(this.config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.config.headers },
      body: JSON.stringify({ kind: n.kind, subject: n.subject, text: n.text, alert: n.alert, ...(n.digest === undefined ? {} : { digest: n.digest }) }),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }

  close(): void {}
}
