// Who is told what and when: one notification per alert state change seen live, routing by area and by duty roster
// (the technician on duty gets a new alert), escalation of what stays unacknowledged along a chain of steps.
// Retained records (a reconnect, a restart) are known but never re-announced.
import { alertRecordSchema, parseTopic, type AlertRecord } from '../../protocol/index.ts';
import { HolidayCalendar } from '../../common/vn-holidays.ts';
import { DutyRosters, type EscalationStep, type OnDuty, type Person, type Roster } from './duty-roster.ts';
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
  /** The roster's people it is meant for (their webhook handles, for a gateway that pages each one). */
  people?: { id: string; name: string; webhook?: string }[];
  /** An escalation: its step in the chain (1-based) and the chain's length. */
  step?: { index: number; of: number };
}

const STATE_VI: Readonly<Record<string, string>> = { firing: 'CẢNH BÁO', resolved: 'ĐÃ KHẮC PHỤC', escalation: 'CHƯA XỬ LÝ' };
const STATE_EN: Readonly<Record<string, string>> = { firing: 'FIRING', resolved: 'RESOLVED', escalation: 'NOT ACKNOWLEDGED' };

/** What the flows know of one alert they paged: who was told, and where its escalation chain stands. */
interface Paging {
  roster: Roster | undefined;
  chain: readonly EscalationStep[];
  /** The chain's clock starts here (the policy's clock; a retained record's own `updatedAt`). */
  firedAt: number;
  /** The next step of the chain; `chain.length` when none is left or the alert stopped firing. */
  next: number;
  /** Ids of the people and the addresses told so far (`next-on-duty` skips them; `resolved` tells them). */
  told: Set<string>;
  people: Map<string, Person>;
  /** When the retained record was cleared (the resolution follows it closely; forgotten a minute later). */
  clearedAt?: number;
}

const FORGET_CLEARED_MS = 60_000;
const MAX_PAGING = 100_000;

/** One notification's recipients before they become messages. */
interface Recipients {
  emails: string[];
  webhook: boolean;
  people: Person[];
}

export interface PolicyStats {
  /** Escalation steps sent. */
  steps: number;
  /** Steps that reached nobody (nobody on duty or left untold, no address, no webhook). */
  unreached: number;
  /** Paging records dropped at the bound (100,000 alerts paged and not yet resolved): their chain stopped. */
  evicted: number;
}

export class NotificationPolicy {
  private readonly known = new Map<string, AlertRecord>();
  private readonly notified = new Set<string>();
  private readonly paging = new Map<string, Paging>();
  private readonly rosters: DutyRosters;
  readonly stats: PolicyStats = { steps: 0, unreached: 0, evicted: 0 };

  constructor(
    private readonly config: NotifyConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.rosters = new DutyRosters(config.rosters, new HolidayCalendar(config.holidays));
  }

  /** An MQTT message on ioc/v1/alerts/#: returns what to send now. */
  onMessage(topic: string, payload: string, retained: boolean): Notification[] {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.kind !== 'alert') return [];
    if (payload === '') {
      // The hub clears the retained record, then publishes the resolution: the chain stops now, who was told is
      // kept a while for that resolution.
      this.known.delete(parsed.alertId);
      const p = this.paging.get(parsed.alertId);
      if (p !== undefined) {
        p.next = p.chain.length;
        p.clearedAt = this.now();
      }
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
    const paging = this.paging.get(a.id);
    // Acknowledged (or back to pending): the chain stops; who was told stays, to hear of the resolution.
    if (a.state !== 'firing' && paging !== undefined) paging.next = paging.chain.length;
    const key = `${a.id}:${a.state}`;
    if (retained) {
      // Known from before (our restart or the hub's): no new message, but escalation still runs.
      this.notified.add(key);
      if (a.state === 'firing' && paging === undefined) this.startPaging(a, a.updatedAt);
      if (a.state === 'resolved') this.paging.delete(a.id);
      return [];
    }
    if (this.notified.has(key)) return [];
    this.notified.add(key);
    if (this.notified.size > 100_000) this.notified.clear();
    if (a.state === 'firing') {
      const p = this.startPaging(a, this.now());
      const duty = p.roster === undefined ? undefined : this.rosters.onDuty(p.roster, this.now());
      const first = duty?.people[0];
      const r = this.routeRecipients(a, first === undefined ? [] : [first]);
      this.tell(p, r);
      return this.build('firing', a, r, duty);
    }
    if (a.state === 'resolved') {
      this.paging.delete(a.id);
      const told = paging === undefined ? this.onDutyFirst(a) : [...paging.people.values()];
      const r = this.routeRecipients(a, told);
      if (paging !== undefined) for (const x of paging.told) if (x.includes('@') && !r.emails.includes(x)) r.emails.push(x);
      return this.build('resolved', a, r);
    }
    return [];
  }

  /** Escalations that are due (call every few seconds). After a pause (a restart), only the latest due step is sent. */
  due(): Notification[] {
    const now = this.now();
    const out: Notification[] = [];
    for (const [id, p] of this.paging) {
      if (p.clearedAt !== undefined && now - p.clearedAt > FORGET_CLEARED_MS) this.paging.delete(id);
      let k = -1;
      for (let i = p.next; i < p.chain.length; i++) if (p.firedAt + (p.chain[i]?.after ?? Infinity) <= now) k = i;
      const step = p.chain[k];
      if (step === undefined) continue;
      p.next = k + 1;
      const a = this.known.get(id);
      if (a === undefined || a.state !== 'firing') continue;
      const reached = this.rosters.resolve(p.roster, step, now, p.told);
      const r: Recipients = { emails: [...new Set([...reached.emails, ...reached.people.flatMap((x) => (x.email === undefined ? [] : [x.email]))])], webhook: step.webhook, people: reached.people };
      this.tell(p, r);
      this.stats.steps++;
      const built = this.build('escalation', a, r, p.roster === undefined ? undefined : this.rosters.onDuty(p.roster, now), { index: k + 1, of: p.chain.length });
      if (built.length === 0) this.stats.unreached++;
      out.push(...built);
    }
    return out;
  }

  /** Active alerts as last seen on MQTT. */
  active(): AlertRecord[] {
    return [...this.known.values()].sort((x, y) => y.updatedAt - x.updatedAt);
  }

  /** Who is on duty now for an alert's roster (none: no roster covers it). */
  onDutyFor(a: Pick<AlertRecord, 'site' | 'labels'>, at = this.now()): OnDuty | undefined {
    const roster = this.rosters.rosterFor({ site: a.site, area: areaOf(a), province: a.labels.province });
    return roster === undefined ? undefined : this.rosters.onDuty(roster, at);
  }

  private startPaging(a: AlertRecord, firedAt: number): Paging {
    const roster = this.rosters.rosterFor({ site: a.site, area: areaOf(a), province: a.labels.province });
    const p: Paging = { roster, chain: roster?.escalation ?? this.config.escalation, firedAt, next: 0, told: new Set(), people: new Map() };
    this.paging.set(a.id, p);
    if (this.paging.size > MAX_PAGING) {
      const oldest = this.paging.keys().next().value;
      if (oldest !== undefined) this.paging.delete(oldest);
      this.stats.evicted++;
    }
    return p;
  }

  private tell(p: Paging, r: Recipients): void {
    for (const x of r.people) {
      p.told.add(x.id);
      p.people.set(x.id, x);
    }
    for (const e of r.emails) p.told.add(e);
  }

  private onDutyFirst(a: AlertRecord): Person[] {
    const first = this.onDutyFor(a)?.people[0];
    return first === undefined ? [] : [first];
  }

  /** The matching routes plus the given people of the roster; the default route when that is nobody. */
  private routeRecipients(a: AlertRecord, people: readonly Person[]): Recipients {
    const routes = this.routesFor(a);
    const chosen = routes.length > 0 || people.length > 0 ? routes : [this.config.defaultRoute];
    const emails = [...new Set([...chosen.flatMap((r) => r.email), ...people.flatMap((x) => (x.email === undefined ? [] : [x.email]))])];
    return { emails, webhook: chosen.some((r) => r.webhook), people: [...people] };
  }

  private routesFor(a: AlertRecord): Route[] {
    const area = areaOf(a);
    const province = a.labels.province;
    return this.config.routes.filter(
      (r) =>
        (r.areas === undefined || (area !== undefined && r.areas.includes(area))) &&
        (r.provinces === undefined || (province !== undefined && r.provinces.includes(province))) &&
        (r.sites === undefined || r.sites.includes(a.site)) &&
        (r.severities === undefined || r.severities.includes(a.severity)),
    );
  }

  private build(kind: Exclude<Notification['kind'], 'digest'>, a: AlertRecord, r: Recipients, duty?: OnDuty, step?: Notification['step']): Notification[] {
    const subject = `[${STATE_VI[kind]} / ${STATE_EN[kind]}] [${a.severity}] ${a.summary.vi}`;
    const people = r.people.map((x) => ({ id: x.id, name: x.name, ...(x.webhook === undefined ? {} : { webhook: x.webhook }) }));
    const text = [
      `${STATE_VI[kind]}: ${a.summary.vi}`,
      `${STATE_EN[kind]}: ${a.summary.en}`,
      '',
      `Điểm / site: ${a.site}${where(a)}`,
      `Quy tắc / rule: ${a.rule} · mức / severity: ${a.severity}`,
      `Từ / since: ${new Date(a.since).toISOString()}`,
      ...(a.value === undefined ? [] : [`Giá trị / value: ${a.value}`]),
      ...partsLine(a),
      ...(step === undefined ? [] : [`Bước / step: ${step.index}/${step.of}`]),
      ...(people.length === 0 ? [] : [`Gửi / to: ${people.map((x) => (x.webhook === undefined ? x.name : `${x.name} (${x.webhook})`)).join(', ')}`]),
      ...(duty === undefined ? [] : [`Trực / on duty: ${dutyLine(duty)}`]),
      `Mã / id: ${a.id}`,
    ].join('\n');
    const extra = { ...(people.length === 0 ? {} : { people }), ...(step === undefined ? {} : { step }) };
    const out: Notification[] = [];
    if (r.emails.length > 0) out.push({ kind, channel: 'email', to: r.emails, subject, text, alert: a, ...extra });
    const webhook = r.webhook || people.some((x) => x.webhook !== undefined);
    if (webhook && this.config.webhook.url !== undefined) out.push({ kind, channel: 'webhook', to: [], subject, text, alert: a, ...extra });
    return out;
  }
}

/** "tam-dao, ca sang: Nguyễn Văn An, Trần Thị Chi" or "…, trực ngoài giờ (Quốc khánh): …". */
function dutyLine(d: OnDuty): string {
  const shift = d.shift === 'on-call' ? `trực ngoài giờ / on call${d.holiday === undefined ? '' : ` (${d.holiday.name.vi})`}` : `ca / shift ${d.shift}`;
  return `${d.roster}, ${shift}: ${d.people.length === 0 ? '—' : d.people.map((x) => x.name).join(', ')}`;
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
function areaOf(a: Pick<AlertRecord, 'labels'>): string | undefined {
  const area = a.labels.area;
  return area === undefined || area === '' ? undefined : area;
}

/** " (district, province)", " (province)" without districts, "" when neither is known or the site is the province. */
function where(a: AlertRecord): string {
  const parts = [areaOf(a), a.labels.province].filter((p): p is string => p !== undefined && p !== '' && p !== a.site);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
