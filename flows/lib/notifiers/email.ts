// E-mail notifier: SMTP through nodemailer, one recipient per message. Delivered means the relay answered 2xx after
// DATA; the Message-ID is the delivery's stable id, so a copy sent again after a lost answer can be deduplicated.
import { createTransport, type Transporter } from 'nodemailer';
import type { NotifyConfig } from '../notify-config.ts';
import type { Delivery } from '../notify-delivery.ts';
import type { Notifier } from './types.ts';

/** The domain of the `From` address (`Name <a@b>` or `a@b`), for Message-IDs; `localhost` without one. */
export function fromDomain(from: string): string {
  const m = /@([^\s>]+)>?\s*$/.exec(from);
  return m?.[1] ?? 'localhost';
}

export function messageIdOf(d: Pick<Delivery, 'id'>, from: string): string {
  return `<ioc.${d.id}@${fromDomain(from)}>`;
}

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

  async send(d: Delivery): Promise<void> {
    const n = d.notification;
    const info = (await this.transport.sendMail({
      from: this.config.from,
      to: d.recipient,
      subject: n.subject,
      text: n.text,
      messageId: messageIdOf(d, this.config.from),
      headers: { 'X-IOC-Alert-Id': n.alert.id, 'X-IOC-Alert-Kind': n.kind, 'X-IOC-Alert-Site': n.alert.site, 'X-IOC-Alert-Rule': n.alert.rule, 'X-IOC-Delivery-Key': d.key },
    })) as { rejected?: unknown[] };
    // One recipient: nodemailer rejects when the relay refuses it; a partial `rejected` would still be a failure here.
    if (Array.isArray(info.rejected) && info.rejected.length > 0) throw new Error(`relay refused ${d.recipient}`);
  }

  close(): void {
    this.transport.close();
  }
}
