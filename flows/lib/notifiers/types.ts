// The notifier contract: send one notification on one channel.
import type { Notification } from '../notify-policy.ts';

export interface Notifier {
  readonly channel: Notification['channel'];
  send(n: Notification): Promise<void>;
  close(): void;
}
