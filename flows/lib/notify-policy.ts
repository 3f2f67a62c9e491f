// Who is told what and when: one notification per alert state change seen live, routing by area, escalation
// of what stays unacknowledged. Retained records (a reconnect, a restart) are known but never re-announced.
import { alertRecordSchema, parseTopic, type AlertRecord } from '../../protocol/index.ts';
import type { NotifyConfig, Route } from './notify-config.ts';

export interface Notification {
  kind: 'firing' | 'resolved' | 'escalation' | 'digest';
  channel: 'email' | 'webhook';
  /** E-mail addresses (empty for the webhook). */
  to: string[];
  subject: string;
  text: string;
  /** The alert; for a digest, the first one it lists. */
  alert: AlertRecord;
  /** A digest: what the rate limit held back for this recipient. */
  digest?: { count: number; items: { kind: Notification['kind']; alert: AlertRecord }[] };
}

const STATE_VI: Readonly<Record<string, string>> = { firing: 'CẢNH BÁO', resolved: 'ĐÃ KHẮC PHỤC', escalation: 'CHƯA XỬ LÝ' };
const STATE_EN: Readonly<Record<string, string>> = { firing: 'FIRING', resolved: 'RESOLVED', escalation: 'NOT ACKNOWLEDGED' };

export class NotificationPolicy {
  private readonly known = new Map<string, AlertRecord>();
  private readonly notified = new Set<string>();
  private readonly escalateAt = new Map<string, number>();

  constructor(
    private readonly config: NotifyConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** An MQTT message on ioc/v1/alerts/#: returns what to send now. */
  onMessage(topic: string, payload: string, retained: boolean): Notification[] {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.kind !== 'alert') return [];
    if (payload === '') {
      this.known.delete(parsed.alertId);
      this.escalateAt.delete(parsed.alertId);
      return [];
    }
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      return [];
    }
    const rec = alertRecordSchema.safeParse(raw);
    if (!rec.success) return [];
    const a = rec.data;
    if (a.state === 'resolved') this.known.delete(a.id);
    else this.known.set(a.id, a);
    if (a.state !== 'firing') this.escalateAt.delete(a.id);
    const key = `${a.id}:${a.state}`;
    if (retained) {
      // Known from before (our restart or the hub's): no new message, but escalation still runs.
      this.notified.add(key);
      if (a.state === 'firing' && !this.escalateAt.has(a.id)) this.escalateAt.set(a.id, a.updatedAt + this.config.escalation.after);
      return [];
    }
    if (this.notified.has(key)) return [];
    this.notified.add(key);
    if (this.notified.size > 100_000) this.notified.clear();
    if (a.state === 'firing') {
      this.escalateAt.set(a.id, this.now() + this.config.escalation.after);
      return this.build('firing', a, this.routesFor(a));
    }
    if (a.state === 'resolved') return this.build('resolved', a, this.routesFor(a));
    return [];
  }

  /** Escalations that are due (call every few seconds). */
  due(): Notification[] {
    const now = this.now();
    const out: Notification[] = [];
    for (const [id, at] of this.escalateAt) {
      if (at > now) continue;
      this.escalateAt.delete(id);
      const a = this.known.get(id);
      if (a === undefined || a.state !== 'firing') continue;
      const e = this.config.escalation;
      out.push(...this.build('escalation', a, [{ email: e.email, webhook: e.webhook }]));
    }
    return out;
  }

  /** Active alerts as last seen on MQTT. */
  active(): AlertRecord[] {
    return [...this.known.values()].sort((x, y) => y.updatedAt - x.updatedAt);
  }

  private routesFor(a: AlertRecord): Pick<Route, 'email' | 'webhook'>[] {
    const area = areaOf(a);
    const province = a.labels.province;
    const matching = this.config.routes.filter(
      (r) =>
        (r.areas === undefined || (area !== undefined && r.areas.includes(area))) &&
        (r.provinces === undefined || (province !== undefined && r.provinces.includes(province))) &&
        (r.sites === undefined || r.sites.includes(a.site)) &&
        (r.severities === undefined || r.severities.includes(a.severity)),
    );
    return matching.length > 0 ? matching : [this.config.defaultRoute];
  }

  private build(kind: Exclude<Notification['kind'], 'digest'>, a: AlertRecord, routes: Pick<Route, 'email' | 'webhook'>[]): Notification[] {
    const emails = [...new Set(routes.flatMap((r) => r.email))];
    const subject = `[${STATE_VI[kind]} / ${STATE_EN[kind]}] [${a.severity}] ${a.summary.vi}`;
    const text = [
      `${STATE_VI[kind]}: ${a.summary.vi}`,
      `${STATE_EN[kind]}: ${a.summary.en}`,
      '',
      `Điểm / site: ${a.site}${where(a)}`,
      `Quy tắc / rule: ${a.rule} · mức / severity: ${a.severity}`,
      `Từ / since: ${new Date(a.since).toISOString()}`,
      ...(a.value === undefined ? [] : [`Giá trị / value: ${a.value}`]),
      ...partsLine(a),
      `Mã / id: ${a.id}`,
    ].join('\n');
    const out: Notification[] = [];
    if (emails.length > 0) out.push({ kind, channel: 'email', to: emails, subject, text, alert: a });
    if (routes.some((r) => r.webhook) && this.config.webhook.url !== undefined) out.push({ kind, channel: 'webhook', to: [], subject, text, alert: a });
    return out;
  }
}

/** An incident's members, the first PARTS_IN_TEXT of them (the technician page and the API list them all). */
const PARTS_IN_TEXT = 40;
function partsLine(a: AlertRecord): string[] {
  const parts = a.parts ?? [];
  if (parts.length === 0) return [];
  const named = parts.slice(0, PARTS_IN_TEXT).map((p) => (p.agent === undefined ? p.site : `${p.site}/${p.agent}`));
  return [`Gồm / parts (${parts.length}): ${named.join(', ')}${parts.length > PARTS_IN_TEXT ? ', …' : ''}`];
}

/** The alert's district; none for a commune of a registry without districts (no `area` label, or an empty one). */
function areaOf(a: AlertRecord): string | undefined {
  const area = a.labels.area;
  return area === undefined || area === '' ? undefined : area;
}

/** " (district, province)", " (province)" without districts, "" when neither is known or the site is the province. */
function where(a: AlertRecord): string {
  const parts = [areaOf(a), a.labels.province].filter((p): p is string => p !== undefined && p !== '' && p !== a.site);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
