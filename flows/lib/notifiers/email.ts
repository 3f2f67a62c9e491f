// E-mail notifier: SMTP through nodemailer.
import { createTransport, type Transporter } from 'nodemailer';
import type { NotifyConfig } from '../notify-config.ts';
import type { Notification } from '../notify-policy.ts';
import type { Notifier } from './types.ts';

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  private readonly transport: Transporter;

  constructor(private readonly config: NotifyConfig['smtp']) {
    this.transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.user === undefined ? {} : { auth: { user: config.user, pass: config.pass ?? '' } }),
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
    });
  }

  async send(n: Notification): Promise<void> {
    await this.transport.sendMail({ from: this.config.from, to: n.to.join(', '), subject: n.subject, text: n.text, headers: { 'X-IOC-Alert-Id': n.alert.id, 'X-IOC-Alert-Kind': n.kind, 'X-IOC-Alert-Site': n.alert.site, 'X-IOC-Alert-Rule': n.alert.rule } });
  }

  close(): void {
    this.transport.close();
  }
}
