// The notifier contract: send one delivery (one message to one recipient) on one channel; resolve only once the far
// end acknowledged it (SMTP: 2xx after DATA; webhook: 2xx), reject otherwise (the delivery queue retries).
import type { Delivery } from '../notify-delivery.ts';
import type { Notification } from '../notify-policy.ts';

export interface Notifier {
  readonly channel: Notification['channel'];
  send(d: Delivery): Promise<void>;
  close(): void;
}
