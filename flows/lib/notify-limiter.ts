// Per-recipient rate limit of notifications with a digest: at most `max` messages per address (and per
// webhook) in any `window`; what is held back goes, `digestAfter` later, into one message listing it.
// A storm of alerts costs each technician a handful of e-mails, not thousands.
import type { AlertRecord } from '../../protocol/index.ts';
import type { Notification } from './notify-policy.ts';

export interface LimitConfig {
  /** Messages per recipient per window; 0 = no limit. */
  max: number;
  window: number;
  /** A digest goes out this long after the first message it holds. */
  digestAfter: number;
  /** Items listed in one digest; the rest are counted. */
  digestMaxItems: number;
}

interface Held {
  kind: Notification['kind'];
  alert: AlertRecord;
}

interface Recipient {
  channel: Notification['channel'];
  /** E-mail address, or '' for the webhook. */
  address: string;
  sent: number[];
  held: Held[];
  heldMore: number;
  firstHeldAt: number;
}

export interface LimiterStats {
  /** Notifications (per recipient) held back into a digest. */
  held: number;
  digests: number;
}

const KIND_VI: Readonly<Record<string, string>> = { firing: 'CẢNH BÁO', resolved: 'ĐÃ KHẮC PHỤC', escalation: 'CHƯA XỬ LÝ' };

export class NotificationLimiter {
  private readonly recipients = new Map<string, Recipient>();
  readonly stats: LimiterStats = { held: 0, digests: 0 };

  constructor(
    private readonly config: LimitConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** What may go out now; the rest is held for the recipients' digests. */
  admit(notifications: readonly Notification[]): Notification[] {
    if (this.config.max <= 0) return [...notifications];
    const now = this.now();
    const out: Notification[] = [];
    for (const n of notifications) {
      if (n.channel === 'webhook') {
        if (this.take(this.recipient('webhook', ''), now, n)) out.push(n);
        continue;
      }
      const allowed = n.to.filter((address) => this.take(this.recipient('email', address), now, n));
      if (allowed.length === n.to.length) out.push(n);
      else if (allowed.length > 0) out.push({ ...n, to: allowed });
    }
    return out;
  }

  /** Digests that are due (call every few seconds). */
  due(): Notification[] {
    const now = this.now();
    const out: Notification[] = [];
    for (const r of this.recipients.values()) {
      if (r.held.length === 0 || now - r.firstHeldAt < this.config.digestAfter) continue;
      out.push(this.digest(r));
      r.sent.push(now);
      r.held = [];
      r.heldMore = 0;
      this.stats.digests++;
    }
    return out;
  }

  private recipient(channel: Notification['channel'], address: string): Recipient {
    const key = `${channel}:${address}`;
    let r = this.recipients.get(key);
    if (r === undefined) {
      r = { channel, address, sent: [], held: [], heldMore: 0, firstHeldAt: 0 };
      this.recipients.set(key, r);
    }
    return r;
  }

  /** True when the recipient may get `n` now (and counts it); otherwise holds it. */
  private take(r: Recipient, now: number, n: Notification): boolean {
    while (r.sent.length > 0 && (r.sent[0] ?? 0) <= now - this.config.window) r.sent.shift();
    // Once a digest is pending, later messages join it, so that the order stays readable.
    if (r.sent.length < this.config.max && r.held.length === 0) {
      r.sent.push(now);
      return true;
    }
    if (r.held.length === 0) r.firstHeldAt = now;
    if (r.held.length < this.config.digestMaxItems) r.held.push({ kind: n.kind, alert: n.alert });
    else r.heldMore++;
    this.stats.held++;
    return false;
  }

  private digest(r: Recipient): Notification {
    const count = r.held.length + r.heldMore;
    const first = r.held[0];
    const sites = new Set(r.held.map((h) => h.alert.site));
    const subject = `[TÓM TẮT / DIGEST] ${count} thông báo cảnh báo / alert notifications (${sites.size} điểm / sites)`;
    const lines = r.held.map((h) => `- [${KIND_VI[h.kind] ?? h.kind} / ${h.kind}] [${h.alert.severity}] ${h.alert.site} · ${h.alert.rule} · ${h.alert.summary.vi} (${h.alert.id})`);
    const text = [
      `Đã gộp ${count} thông báo vì vượt giới hạn ${this.config.max} tin / ${Math.round(this.config.window / 60_000)} phút.`,
      `${count} notifications were held back: over ${this.config.max} messages per ${Math.round(this.config.window / 60_000)} min.`,
      '',
      ...lines,
      ...(r.heldMore > 0 ? [`… và ${r.heldMore} thông báo khác / and ${r.heldMore} more`] : []),
    ].join('\n');
    if (first === undefined) throw new Error('empty digest');
    return { kind: 'digest', channel: r.channel, to: r.channel === 'email' ? [r.address] : [], subject, text, alert: first.alert, digest: { count, items: r.held.map((h) => ({ kind: h.kind, alert: h.alert })) } };
  }
}
