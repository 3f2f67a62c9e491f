// The notifiers, listed explicitly.
import type { NotifyConfig } from '../notify-config.ts';
import { EmailNotifier } from './email.ts';
import type { Notifier } from './types.ts';
import { WebhookNotifier } from './webhook.ts';

export type { Notifier } from './types.ts';

export function createNotifiers(config: NotifyConfig): Notifier[] {
  return [new EmailNotifier(config.smtp), new WebhookNotifier(config.webhook)];
}
