// Webhook notifier: POSTs {kind, subject, text, alert, digest?} as JSON (Zalo/Telegram/SMS gateways adapt from there)
// to the delivery's URL, with an `Idempotency-Key` header that stays the same on every retry of the delivery.
import type { NotifyConfig } from '../notify-config.ts';
import type { Delivery } from '../notify-delivery.ts';
import type { Notifier } from './types.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';

  constructor(private readonly config: NotifyConfig['webhook']) {}

  async send(d: Delivery): Promise<void> {
    const n = d.notification;
    const res = await fetch(d.recipient, {
      method: 'POST',
      // The configured headers (the gateway's credentials) go to the configured URL only, not to a heartbeat URL.
      headers: { 'content-type': 'application/json', ...(d.recipient === this.config.url ? this.config.headers : {}), [IDEMPOTENCY_HEADER]: d.id },
      body: JSON.stringify({ kind: n.kind, subject: n.subject, text: n.text, alert: n.alert, ...(n.digest === undefined ? {} : { digest: n.digest }) }),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }

  close(): void {}
}
