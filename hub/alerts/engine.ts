// The alert engine: rule signals → one alert per dedup key through pending → firing → acknowledged → resolved,
// with flap damping, silences, maintenance windows, inhibition, province incidents and composite incidents.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import type { HubPoint } from '../sink.ts';
import { AlertError } from './errors.ts';
import { OfficeHours } from './office-hours.ts';
import type { Composite, RulesFile } from './rules-file.ts';
import { makeSilence, silenceInputSchema, silenceMatches, type Silence } from './silences.ts';
import { JsonStateStore } from './state-store.ts';
import type { RuleInstance, RuleSignal, Severity, Summary } from './types.ts';

/** Where alert changes go: MQTT (retained record / cleared on resolve) and the `alert` measurement. */
export interface AlertOutputs {
  /** An alert became visible, or changed state (acknowledged) while visible. */
  active(record: AlertRecord): void;
  /** A visible alert resolved. */
  resolved(record: AlertRecord): void;
}

export interface AlertEngineOptions {
  rules: RulesFile;
  outputs: AlertOutputs;
  /** JSON state file; none: state lives in memory only. */
  statePath?: string;
  /** No alert starts firing this long after start (agents are reconnecting). */
  startupGraceMs?: number;
  /** How often time-based conditions are evaluated. */
  evaluateIntervalMs?: number;
  /** Resolved alerts kept for the API. */
  historySize?: number;
  now?: () => number;
  logger?: Logger;
}

type State = AlertRecord['state'];

interface Alert {
  key: string;
  id: string;
  rule: string;
  site: string;
  instance: string;
  severity: Severity;
  state: State;
  since: number;
  firingAt?: number;
  updatedAt: number;
  value?: number;
  summary: Summary;
  labels: Record<string, string>;
  ackedBy?: string;
  /** Condition holds now. */
  active: boolean;
  /** Condition has been clear since (flap damping). */
  clearSince?: number;
  /** Published to the outputs (notifications follow). */
  announced: boolean;
  forMs: number;
  clearForMs: number;
  /** Held back until then to see whether it is part of a storm or a composite. */
  holdMs: number;
  marksSiteDown: boolean;
  derived: boolean;
}

export interface AlertView extends AlertRecord {
  announced: boolean;
  /** Why it is not announced (silence, maintenance, site-offline, grouped, composite, group-wait, startup-grace). */
  suppressedBy?: string;
}

interface PersistedState {
  version: 1;
  alerts: Alert[];
  silences: Silence[];
  history: AlertRecord[];
  rules: Record<string, unknown>;
}

const STATE_ORDER: readonly State[] = ['pending', 'firing', 'acknowledged', 'resolved'];

export class AlertEngine {
  private readonly alerts = new Map<string, Alert>();
  private silences: Silence[] = [];
  private history: AlertRecord[] = [];
  private readonly rules: readonly RuleInstance[];
  private readonly officeHours: OfficeHours;
  private readonly store: JsonStateStore<PersistedState> | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly composites: readonly Composite[];
  private readonly compositeMembers: ReadonlySet<string>;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly opts: AlertEngineOptions) {
    this.rules = opts.rules.rules;
    this.officeHours = new OfficeHours(opts.rules.officeHours);
    this.store = opts.statePath === undefined ? undefined : new JsonStateStore(opts.statePath);
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'alerts' });
    this.composites = opts.rules.storm.composites.map((c) => ({ ...c, rules: [...c.rules], summary: { ...c.summary } }));
    this.compositeMembers = new Set(this.composites.flatMap((c) => c.rules));
  }

  /** Loads the saved state (alerts, silences, rule memory) and starts the evaluation timer. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    this.startedAt = this.now();
    const saved = await this.store?.load();
    if (saved !== undefined) this.restore(saved);
    // Visible alerts go out again as retained records (the broker's retained store did not survive the restart).
    for (const a of this.alerts.values()) if (a.announced) this.emitActive(a);
    const every = this.opts.evaluateIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
    this.log.info({ alerts: this.alerts.size, silences: this.silences.length, rules: this.rules.length }, 'alert engine started');
  }

  private restore(raw: unknown): void {
    const s = raw as Partial<PersistedState>;
    if (s.version !== 1) return;
    // Pending alerts are re-derived from fresh data: keeping their old start would fire them at once.
    for (const a of s.alerts ?? []) if (a.state !== 'pending' && a.state !== 'resolved') this.alerts.set(a.key, a);
    this.silences = s.silences ?? [];
    this.history = s.history ?? [];
    for (const r of this.rules) {
      const data = s.rules?.[r.name];
      if (data !== undefined) r.restore(data, this.startedAt);
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.started?.catch(() => undefined);
    this.persist(true);
    await this.store?.flush();
  }

  /** Feeds stored points (called by ingest once they are written). */
  onPoints(points: readonly HubPoint[]): void {
    const now = this.now();
    for (const p of points) {
      if (p.measurement === 'alert') continue;
      for (const r of this.rules) {
        let signals: RuleSignal[];
        try {
          signals = r.onPoint(p, now);
        } catch (err: unknown) {
          this.log.error({ rule: r.name, err: errorMessage(err) }, 'rule failed on a point');
          continue;
        }
        for (const s of signals) this.apply(r, s, now);
      }
    }
    this.evaluate(now);
  }

  /** Time-based evaluation (the timer calls it; tests call it with a fake clock). */
  tick(): void {
    const now = this.now();
    for (const r of this.rules) {
      try {
        for (const s of r.tick(now)) this.apply(r, s, now);
      } catch (err: unknown) {
        this.log.error({ rule: r.name, err: errorMessage(err) }, 'rule tick failed');
      }
    }
    this.evaluate(now);
  }

  private apply(r: RuleInstance, s: RuleSignal, now: number): void {
    const active = s.active && (!r.officeHoursOnly || this.officeHours.isOpen(s.site, now));
    const hold = r.group !== undefined || this.compositeMembers.has(r.name) ? this.opts.rules.storm.groupWait : 0;
    this.signal({ rule: r.name, site: s.site, instance: s.instance, severity: r.severity, active, value: s.value, labels: s.labels, summary: s.summary, forMs: r.forMs, clearForMs: r.clearForMs, holdMs: hold, marksSiteDown: r.marksSiteDown, derived: false }, now);
  }

  private signal(
    s: Pick<Alert, 'rule' | 'site' | 'instance' | 'severity' | 'active' | 'value' | 'labels' | 'summary' | 'forMs' | 'clearForMs' | 'holdMs' | 'marksSiteDown' | 'derived'>,
    now: number,
  ): void {
    const key = `${s.rule}|${s.site}|${s.instance}`;
    const a = this.alerts.get(key);
    if (a === undefined) {
      if (!s.active) return;
      const id = `${s.rule}-${createHash('sha1').update(key).digest('hex').slice(0, 8)}-${now.toString(36)}`;
      this.alerts.set(key, { ...s, key, id, state: 'pending', since: now, updatedAt: now, announced: false });
      return;
    }
    a.active = s.active;
    if (s.value !== undefined) a.value = s.value;
    if (s.active) {
      a.clearSince = undefined;
      a.summary = s.summary;
    } else {
      a.clearSince ??= now;
    }
  }

  private evaluate(now: number): void {
    for (const a of [...this.alerts.values()]) if (!a.derived) this.advance(a, now);
    this.deriveIncidents(now);
    for (const a of [...this.alerts.values()]) if (a.derived) this.advance(a, now);
    for (const a of [...this.alerts.values()]) {
      if (a.state === 'resolved') {
        this.alerts.delete(a.key);
        this.dirty = true;
        if (a.announced) {
          const rec = this.record(a);
          this.history = [rec, ...this.history].slice(0, this.opts.historySize ?? 500);
          this.safely(() => this.opts.outputs.resolved(rec));
          this.log.info({ id: a.id, site: a.site, rule: a.rule }, 'alert resolved');
        }
      } else if (a.state !== 'pending' && !a.announced && this.suppressedBy(a, now) === undefined) {
        a.announced = true;
        this.dirty = true;
        this.emitActive(a);
        this.log.info({ id: a.id, site: a.site, rule: a.rule, severity: a.severity }, 'alert firing');
      }
    }
    this.persist(false);
  }

  private advance(a: Alert, now: number): void {
    if (a.active) {
      if (a.state === 'pending' && now - a.since >= a.forMs && now >= this.startedAt + (this.opts.startupGraceMs ?? 0)) {
        a.state = 'firing';
        a.firingAt = now;
        a.updatedAt = now;
        this.dirty = true;
      }
      return;
    }
    if (a.state === 'pending') {
      this.alerts.delete(a.key);
      return;
    }
    if (now - (a.clearSince ?? now) >= a.clearForMs) {
      a.state = 'resolved';
      a.updatedAt = now;
    }
  }

  /** Province incidents (one probe failing at many sites) and composites (mains lost + UPS on battery). */
  private deriveIncidents(now: number): void {
    const live = [...this.alerts.values()].filter((a) => !a.derived && (a.state === 'firing' || a.state === 'acknowledged'));
    const groups = new Map<string, { rule: string; province: string; instance: string; sites: Set<string>; labels: Record<string, string>; severity: Severity }>();
    for (const a of live) {
      const rule = this.rules.find((r) => r.name === a.rule);
      const province = a.labels.province;
      if (rule?.group !== 'province' || province === undefined) continue;
      const instance = a.instance.split(',').filter((p) => !p.startsWith('agent=')).join(',');
      const gk = `${a.rule}|${province}|${instance}`;
      const g = groups.get(gk) ?? { rule: a.rule, province, instance, sites: new Set<string>(), labels: {}, severity: a.severity };
      g.sites.add(a.site);
      for (const [k, v] of Object.entries(a.labels)) if (k !== 'agent' && k !== 'area') g.labels[k] = v;
      groups.set(gk, g);
    }
    const seen = new Set<string>();
    for (const g of groups.values()) {
      const rule = `incident-${g.rule}`;
      const key = `${rule}|${g.province}|${g.instance}`;
      if (g.sites.size < this.opts.rules.storm.groupMinSites && !this.alerts.has(key)) continue;
      seen.add(key);
      const detail = g.instance === '' ? '' : ` (${g.instance})`;
      this.signal(
        {
          rule,
          site: g.province,
          instance: g.instance,
          severity: g.severity,
          active: true,
          value: g.sites.size,
          labels: { ...g.labels, scope: 'province', sites: String(g.sites.size) },
          summary: { vi: `Sự cố diện rộng: ${g.rule}${detail} lỗi tại ${g.sites.size} xã của ${g.province}`, en: `Province-wide incident: ${g.rule}${detail} failing at ${g.sites.size} sites of ${g.province}` },
          forMs: 0,
          clearForMs: 0,
          holdMs: 0,
          marksSiteDown: false,
          derived: true,
        },
        now,
      );
    }
    for (const c of this.composites) {
      const bySite = new Map<string, Alert[]>();
      for (const a of live) if (c.rules.includes(a.rule)) bySite.set(a.site, [...(bySite.get(a.site) ?? []), a]);
      for (const [site, members] of bySite) {
        const key = `${c.name}|${site}|`;
        const complete = c.rules.every((r) => members.some((m) => m.rule === r));
        if (!complete && !this.alerts.has(key)) continue;
        seen.add(key);
        const first = members[0];
        this.signal(
          { rule: c.name, site, instance: '', severity: c.severity, active: true, labels: { ...(first?.labels.area === undefined ? {} : { area: first.labels.area }), ...(first?.labels.province === undefined ? {} : { province: first.labels.province }) }, summary: { vi: `${c.summary.vi} (${site})`, en: `${c.summary.en} (${site})` }, forMs: 0, clearForMs: 0, holdMs: 0, marksSiteDown: false, derived: true, value: undefined },
          now,
        );
      }
    }
    // Derived alerts whose members are all gone clear.
    for (const a of this.alerts.values()) {
      if (a.derived && !seen.has(a.key)) {
        a.active = false;
        a.clearSince ??= now;
      }
    }
  }

  private suppressedBy(a: Alert, now: number): string | undefined {
    const target = { site: a.site, rule: a.rule, severity: a.severity, labels: a.labels };
    const s = this.silences.find((x) => silenceMatches(x, target, now));
    if (s !== undefined) return s.kind;
    for (const m of this.opts.rules.maintenance) {
      if (now < Date.parse(m.startsAt) || now >= Date.parse(m.endsAt)) continue;
      if (m.sites !== undefined && !m.sites.includes(a.site)) continue;
      if (m.areas !== undefined && !m.areas.includes(a.labels.area ?? '')) continue;
      if (m.rules !== undefined && !m.rules.includes(a.rule)) continue;
      return 'maintenance';
    }
    if (a.derived) return undefined;
    if (!a.marksSiteDown) {
      for (const o of this.alerts.values()) if (o.marksSiteDown && o.site === a.site && o.active) return 'site-offline';
    }
    const province = a.labels.province;
    const rule = this.rules.find((r) => r.name === a.rule);
    if (rule?.group === 'province' && province !== undefined) {
      const instance = a.instance.split(',').filter((p) => !p.startsWith('agent=')).join(',');
      if (this.alerts.get(`incident-${a.rule}|${province}|${instance}`)?.active === true) return 'grouped';
    }
    for (const c of this.composites) if (c.rules.includes(a.rule) && this.alerts.get(`${c.name}|${a.site}|`)?.active === true) return 'composite';
    if (a.holdMs > 0 && now - (a.firingAt ?? now) < a.holdMs) return 'group-wait';
    return undefined;
  }

  private record(a: Alert): AlertRecord {
    return {
      id: a.id,
      site: a.site,
      rule: a.rule,
      severity: a.severity,
      state: a.state,
      since: a.since,
      updatedAt: a.updatedAt,
      ...(a.value === undefined ? {} : { value: a.value }),
      summary: a.summary,
      labels: a.labels,
      ...(a.ackedBy === undefined ? {} : { ackedBy: a.ackedBy }),
    };
  }

  private emitActive(a: Alert): void {
    const rec = this.record(a);
    this.safely(() => this.opts.outputs.active(rec));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err: unknown) {
      this.log.error({ err: errorMessage(err) }, 'alert output failed');
    }
  }

  private persist(force: boolean): void {
    if (this.store === undefined || (!this.dirty && !force)) return;
    this.dirty = false;
    const rules: Record<string, unknown> = {};
    for (const r of this.rules) rules[r.name] = r.snapshot();
    const state: PersistedState = { version: 1, alerts: [...this.alerts.values()].filter((a) => a.state !== 'pending'), silences: this.silences, history: this.history, rules };
    this.store.save(JSON.parse(JSON.stringify(state)) as PersistedState).catch((err: unknown) => {
      this.dirty = true;
      this.log.error({ err: errorMessage(err) }, 'alert state not saved');
    });
  }

  // ---- API ----

  list(filter: { state?: string; site?: string; includeResolved?: boolean } = {}): AlertView[] {
    const now = this.now();
    const views: AlertView[] = [...this.alerts.values()].map((a) => {
      const by = a.state === 'pending' ? undefined : this.suppressedBy(a, now);
      return { ...this.record(a), announced: a.announced, ...(by === undefined ? {} : { suppressedBy: by }) };
    });
    if (filter.includeResolved === true || filter.state === 'resolved') views.push(...this.history.map((r) => ({ ...r, announced: true })));
    return views
      .filter((v) => (filter.state === undefined || v.state === filter.state) && (filter.site === undefined || v.site === filter.site))
      .sort((x, y) => STATE_ORDER.indexOf(x.state) - STATE_ORDER.indexOf(y.state) || y.updatedAt - x.updatedAt);
  }

  get(id: string): AlertView | undefined {
    return this.list({ includeResolved: true }).find((a) => a.id === id);
  }

  /** Acknowledges a firing alert: notifications stop escalating; it still resolves by itself. */
  ack(id: string, by: string): AlertRecord {
    const a = [...this.alerts.values()].find((x) => x.id === id);
    if (a === undefined) throw new AlertError('E_ALERT_NOT_FOUND', `no active alert ${id}`);
    if (a.state === 'pending') throw new AlertError('E_ALERT_STATE', `alert ${id} is pending, not firing`);
    if (a.state === 'firing') {
      const now = this.now();
      a.state = 'acknowledged';
      a.ackedBy = by;
      a.updatedAt = now;
      this.dirty = true;
      if (a.announced) this.emitActive(a);
      this.log.info({ id, by }, 'alert acknowledged');
      this.persist(false);
    }
    return this.record(a);
  }

  listSilences(): Silence[] {
    const now = this.now();
    return this.silences.filter((s) => s.endsAt > now);
  }

  addSilence(input: unknown): Silence {
    const parsed = silenceInputSchema.safeParse(input);
    if (!parsed.success) throw new AlertError('E_ALERT_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const now = this.now();
    const s = makeSilence(parsed.data, now);
    if (!(s.endsAt > s.startsAt)) throw new AlertError('E_ALERT_INPUT', 'endsAt must be after startsAt');
    this.silences = [...this.silences.filter((x) => x.endsAt > now), s];
    this.dirty = true;
    this.persist(false);
    return s;
  }

  deleteSilence(id: string): void {
    if (!this.silences.some((s) => s.id === id)) throw new AlertError('E_SILENCE_NOT_FOUND', `no silence ${id}`);
    this.silences = this.silences.filter((s) => s.id !== id);
    this.dirty = true;
    // An alert that was silenced and still fires is announced now.
    this.evaluate(this.now());
  }
}
