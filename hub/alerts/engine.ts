// The alert engine: rule signals → one alert per dedup key through pending → firing → acknowledged → resolved,
// with flap damping, silences, maintenance windows, inhibition, province incidents and composite incidents.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertError } from './errors.ts';
import { OfficeHours } from './office-hours.ts';
import type { Composite, RulesFile } from './rules-file.ts';
import { makeSilence, silenceInputSchema, silenceMatches, type Silence } from './silences.ts';
import { Slicer } from './slicer.ts';
import { JsonStateStore } from './state-store.ts';
import type { RuleInstance, RuleSignal, Severity, Summary } from './types.ts';

/** Rule name of the one alert that stands for a rule + site past `maxAlertsPerRuleSite`. */
export const TOO_MANY_SERIES = 'too-many-series';

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
  /** Longest slice of evaluation work before it yields to the event loop, ms. */
  sliceBudgetMs?: number;
  /** Monotonic clock of the slicer (tests: a fake one). */
  sliceClock?: () => number;
  /** Alerts one rule may have open at one site; past it one `too-many-series` alert stands for the rest. */
  maxAlertsPerRuleSite?: number;
  /** The `too-many-series` alert clears once under the cap and no new series was refused for this long. */
  tooManySeriesClearMs?: number;
  /** Active silences kept; more are refused. */
  maxSilences?: number;
  /** Longest a silence may last, ms. */
  maxSilenceMs?: number;
  /** State is written at most this often (and at stop), ms. */
  persistIntervalMs?: number;
  /** Called once the engine has stopped. */
  onStop?: () => void;
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
  /** For a `too-many-series` alert: the rule it stands for. */
  overflowOf?: string;
}

interface Overflow {
  rule: string;
  site: string;
  lastRefusedAt: number;
}

export interface AlertPage {
  alerts: AlertView[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface AlertEngineStats {
  /** Alerts in the engine (pending, firing, acknowledged). */
  active: number;
  /** Rule + site pairs over the cap right now. */
  overCap: number;
  /** New series-alerts refused because their rule + site was at the cap, per rule. */
  capped: ReadonlyMap<string, number>;
  /** Longest evaluation slice, ms (wall clock, and CPU time), and slices run. */
  maxSliceMs: number;
  maxSliceCpuMs: number;
  slices: number;
  /** Queued evaluation jobs. */
  queued: number;
  /** Series each rule refused to remember (per-site or per-rule memory bound). */
  seriesRefused: ReadonlyMap<string, number>;
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

/** Stable page order: newest start first, then id (neither changes during an alert's life). */
function pageOrder(x: { since: number; id: string }, y: { since: number; id: string }): number {
  return y.since - x.since || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

function encodeCursor(a: { since: number; id: string }): string {
  return Buffer.from(`${a.since}:${a.id}`, 'utf8').toString('base64url');
}

function decodeCursor(c: string): { since: number; id: string } | undefined {
  const m = /^(\d{1,16}):(.{1,256})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  return m === null ? undefined : { since: Number(m[1]), id: m[2] ?? '' };
}

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
  private readonly rulesByName: ReadonlyMap<string, RuleInstance>;
  /** Index of the sites whose agent is down: site → active `marksSiteDown` alerts (O(1) suppression check). */
  private readonly downSites = new Map<string, number>();
  /** Open series-alerts per `rule|site`, for the cap. */
  private readonly perRuleSite = new Map<string, number>();
  private readonly overflow = new Map<string, Overflow>();
  private readonly capped = new Map<string, number>();
  private readonly slicer: Slicer;
  private readonly cap: number;
  /** Bumped on every insert and delete: the page order below is sorted again only then. */
  private version = 0;
  private sorted: { version: number; rows: Alert[] } | undefined;
  /** The last job queued is an evaluation that has not started: asking again asks for that one. */
  private evaluationAtTail = false;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;
  private dirty = false;
  private lastPersist = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: AlertEngineOptions) {
    this.rules = opts.rules.rules;
    this.officeHours = new OfficeHours(opts.rules.officeHours);
    this.store = opts.statePath === undefined ? undefined : new JsonStateStore(opts.statePath);
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'alerts' });
    this.composites = opts.rules.storm.composites.map((c) => ({ ...c, rules: [...c.rules], summary: { ...c.summary } }));
    this.compositeMembers = new Set(this.composites.flatMap((c) => c.rules));
    this.rulesByName = new Map(this.rules.map((r) => [r.name, r]));
    this.cap = opts.maxAlertsPerRuleSite ?? 50;
    this.slicer = new Slicer({
      budgetMs: opts.sliceBudgetMs ?? 5,
      ...(opts.sliceClock === undefined ? {} : { clock: opts.sliceClock }),
      onError: (err) => this.log.error({ err: errorMessage(err) }, 'alert evaluation failed'),
    });
  }

  /** Resolves once queued evaluation work is done (tests, and the HTTP API after a write). */
  idle(): Promise<void> {
    return this.slicer.idle();
  }

  stats(): AlertEngineStats {
    const seriesRefused = new Map<string, number>();
    for (const r of this.rules) {
      const n = r.seriesRefused?.() ?? 0;
      if (n > 0) seriesRefused.set(r.name, n);
    }
    return { active: this.alerts.size, overCap: this.overflow.size, capped: this.capped, maxSliceMs: this.slicer.maxSliceMs, maxSliceCpuMs: this.slicer.maxSliceCpuMs, slices: this.slicer.slices, queued: this.slicer.pending, seriesRefused };
  }

  // ---- the indexes: every insert and delete of an alert goes through put/drop, every change of `active` through setActive ----

  private put(a: Alert): void {
    this.alerts.set(a.key, a);
    this.version++;
    if (a.marksSiteDown && a.active) this.downSites.set(a.site, (this.downSites.get(a.site) ?? 0) + 1);
    if (this.countsTowardCap(a)) {
      const rs = `${a.rule}|${a.site}`;
      this.perRuleSite.set(rs, (this.perRuleSite.get(rs) ?? 0) + 1);
    }
  }

  private drop(a: Alert): void {
    if (this.alerts.get(a.key) !== a) return;
    this.alerts.delete(a.key);
    this.version++;
    if (a.marksSiteDown && a.active) this.setDown(a.site, -1);
    if (this.countsTowardCap(a)) {
      const rs = `${a.rule}|${a.site}`;
      const n = (this.perRuleSite.get(rs) ?? 1) - 1;
      if (n <= 0) this.perRuleSite.delete(rs);
      else this.perRuleSite.set(rs, n);
    }
  }

  private setActive(a: Alert, active: boolean): void {
    if (a.active === active) return;
    a.active = active;
    if (a.marksSiteDown && this.alerts.get(a.key) === a) this.setDown(a.site, active ? 1 : -1);
  }

  private setDown(site: string, by: number): void {
    const n = (this.downSites.get(site) ?? 0) + by;
    if (n <= 0) this.downSites.delete(site);
    else this.downSites.set(site, n);
  }

  private countsTowardCap(a: Alert): boolean {
    return !a.derived && a.overflowOf === undefined;
  }

  /** Is the site's agent down (an active alert of a rule that marks sites down)? O(1). */
  siteDown(site: string): boolean {
    return this.downSites.has(site);
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
      // A tick is skipped while the previous one is still being worked through: work never piles up.
      this.timer = setInterval(() => {
        if (this.slicer.pending === 0) this.tick();
      }, every);
      this.timer.unref();
    }
    this.log.info({ alerts: this.alerts.size, silences: this.silences.length, rules: this.rules.length }, 'alert engine started');
  }

  private restore(raw: unknown): void {
    const s = raw as Partial<PersistedState>;
    if (s.version !== 1) return;
    // Pending alerts are re-derived from fresh data: keeping their old start would fire them at once.
    for (const a of s.alerts ?? []) {
      if (a.state === 'pending' || a.state === 'resolved') continue;
      this.put(a);
      if (a.overflowOf !== undefined) this.overflow.set(`${a.overflowOf}|${a.site}`, { rule: a.overflowOf, site: a.site, lastRefusedAt: this.startedAt });
    }
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
    this.stopped = true;
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    // Queued work is dropped: the state is saved as it is and the next start re-derives from fresh data.
    this.slicer.stop();
    await this.started?.catch(() => undefined);
    this.persist(true);
    await this.store?.flush();
    this.opts.onStop?.();
  }

  /** Feeds stored points (called by ingest once they are written); the work is time-sliced. */
  onPoints(points: readonly HubPoint[]): void {
    if (this.stopped) return;
    this.evaluationAtTail = false;
    this.slicer.enqueue(this.pointsJob(points, this.now()));
    this.requestEvaluation();
  }

  private *pointsJob(points: readonly HubPoint[], now: number): Generator<void> {
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
      yield;
    }
  }

  /** Time-based evaluation (the timer calls it; tests call it with a fake clock). */
  tick(): void {
    if (this.stopped) return;
    this.evaluationAtTail = false;
    this.slicer.enqueue(this.tickJob(this.now()));
    this.requestEvaluation();
  }

  private *tickJob(now: number): Generator<void> {
    for (const r of this.rules) {
      let signals: RuleSignal[];
      try {
        signals = r.tick(now);
      } catch (err: unknown) {
        this.log.error({ rule: r.name, err: errorMessage(err) }, 'rule tick failed');
        continue;
      }
      yield;
      for (let i = 0; i < signals.length; i++) {
        const s = signals[i];
        if (s !== undefined) this.apply(r, s, now);
        if (i % 16 === 15) yield;
      }
    }
  }

  /** One evaluation queued behind the work in hand; asking again before more work is queued asks for the same one. */
  private requestEvaluation(): void {
    if (this.evaluationAtTail) return;
    this.evaluationAtTail = true;
    this.slicer.enqueue(this.evaluateJob());
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
      if (!s.derived && (this.perRuleSite.get(`${s.rule}|${s.site}`) ?? 0) >= this.cap) {
        this.refuse(s, now);
        return;
      }
      this.put({ ...s, key, id: this.newId(s.rule, key, now), state: 'pending', since: now, updatedAt: now, announced: false });
      return;
    }
    this.setActive(a, s.active);
    if (s.value !== undefined) a.value = s.value;
    if (s.active) {
      a.clearSince = undefined;
      a.summary = s.summary;
    } else {
      a.clearSince ??= now;
    }
  }

  private newId(rule: string, key: string, now: number): string {
    return `${rule}-${createHash('sha1').update(key).digest('hex').slice(0, 8)}-${now.toString(36)}`;
  }

  /** A new series-alert past the cap: counted, and one `too-many-series` alert opened for its rule + site. */
  private refuse(s: Pick<Alert, 'rule' | 'site' | 'severity' | 'labels'>, now: number): void {
    this.capped.set(s.rule, (this.capped.get(s.rule) ?? 0) + 1);
    const rs = `${s.rule}|${s.site}`;
    const o = this.overflow.get(rs);
    if (o !== undefined) {
      o.lastRefusedAt = now;
      const a = this.alerts.get(`${TOO_MANY_SERIES}|${s.site}|rule=${s.rule}`);
      if (a !== undefined) {
        this.setActive(a, true);
        a.clearSince = undefined;
      }
      return;
    }
    this.overflow.set(rs, { rule: s.rule, site: s.site, lastRefusedAt: now });
    this.log.warn({ rule: s.rule, site: s.site, cap: this.cap }, 'too many series alerting for one rule and site');
    const key = `${TOO_MANY_SERIES}|${s.site}|rule=${s.rule}`;
    if (this.alerts.has(key)) return;
    const labels: Record<string, string> = { rule: s.rule, limit: String(this.cap) };
    for (const k of ['agent', 'area', 'province']) {
      const v = s.labels[k];
      if (v !== undefined) labels[k] = v;
    }
    this.put({
      key,
      id: this.newId(TOO_MANY_SERIES, key, now),
      rule: TOO_MANY_SERIES,
      site: s.site,
      instance: `rule=${s.rule}`,
      severity: s.severity,
      state: 'pending',
      since: now,
      updatedAt: now,
      summary: { vi: `Quá nhiều chuỗi dữ liệu cảnh báo ${s.rule} tại ${s.site} (trên ${this.cap}); các cảnh báo mới của quy tắc này tại đây bị gộp`, en: `Too many series alerting for ${s.rule} at ${s.site} (over ${this.cap}); new alerts of this rule here are held back` },
      labels,
      active: true,
      announced: false,
      forMs: 0,
      clearForMs: 0,
      holdMs: 0,
      marksSiteDown: false,
      derived: false,
      overflowOf: s.rule,
    });
  }

  /** `too-many-series` alerts clear once their rule + site is under the cap and quiet for a while. */
  private checkOverflow(now: number): void {
    const quietMs = this.opts.tooManySeriesClearMs ?? 5 * 60_000;
    for (const [rs, o] of this.overflow) {
      if ((this.perRuleSite.get(rs) ?? 0) >= this.cap || now - o.lastRefusedAt < quietMs) continue;
      this.overflow.delete(rs);
      const a = this.alerts.get(`${TOO_MANY_SERIES}|${o.site}|rule=${o.rule}`);
      if (a !== undefined) {
        this.setActive(a, false);
        a.clearSince ??= now;
      }
    }
  }

  private *evaluateJob(): Generator<void> {
    this.evaluationAtTail = false;
    const now = this.now();
    this.checkOverflow(now);
    for (const a of [...this.alerts.values()]) {
      if (!a.derived && this.alerts.get(a.key) === a) this.advance(a, now);
      yield;
    }
    this.deriveIncidents(now);
    yield;
    for (const a of [...this.alerts.values()]) {
      if (a.derived && this.alerts.get(a.key) === a) this.advance(a, now);
    }
    yield;
    for (const a of [...this.alerts.values()]) {
      yield;
      if (this.alerts.get(a.key) !== a) continue;
      if (a.state === 'resolved') {
        this.drop(a);
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
      this.drop(a);
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
      const rule = this.rulesByName.get(a.rule);
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
      for (const a of live) {
        if (!c.rules.includes(a.rule)) continue;
        const list = bySite.get(a.site);
        if (list === undefined) bySite.set(a.site, [a]);
        else list.push(a);
      }
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
        this.setActive(a, false);
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
    if (!a.marksSiteDown && this.downSites.has(a.site)) return 'site-offline';
    const province = a.labels.province;
    const rule = this.rulesByName.get(a.rule);
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
    const now = performance.now(); // real time: the engine's clock may be a test's fake one
    // Coalesced: at most one snapshot per interval (rule memory can be large); stop() forces the last one.
    if (!force && now - this.lastPersist < (this.opts.persistIntervalMs ?? 1000)) {
      this.schedulePersist();
      return;
    }
    this.lastPersist = now;
    this.dirty = false;
    const rules: Record<string, unknown> = {};
    for (const r of this.rules) rules[r.name] = r.snapshot();
    const state: PersistedState = { version: 1, alerts: [...this.alerts.values()].filter((a) => a.state !== 'pending'), silences: this.silences, history: this.history, rules };
    this.store.saveText(JSON.stringify(state)).catch((err: unknown) => {
      this.dirty = true;
      this.log.error({ err: errorMessage(err) }, 'alert state not saved');
    });
  }

  private persistTimer: NodeJS.Timeout | undefined;

  private schedulePersist(): void {
    if (this.persistTimer !== undefined || this.stopped) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      if (!this.stopped) this.persist(false);
    }, this.opts.persistIntervalMs ?? 1000);
    this.persistTimer.unref();
  }

  // ---- API ----

  private view(a: Alert, now: number): AlertView {
    const by = a.state === 'pending' ? undefined : this.suppressedBy(a, now);
    return { ...this.record(a), announced: a.announced, ...(by === undefined ? {} : { suppressedBy: by }) };
  }

  list(filter: { state?: string; site?: string; includeResolved?: boolean } = {}): AlertView[] {
    const now = this.now();
    const views: AlertView[] = [...this.alerts.values()].map((a) => this.view(a, now));
    if (filter.includeResolved === true || filter.state === 'resolved') views.push(...this.history.map((r) => ({ ...r, announced: true })));
    return views
      .filter((v) => (filter.state === undefined || v.state === filter.state) && (filter.site === undefined || v.site === filter.site))
      .sort((x, y) => STATE_ORDER.indexOf(x.state) - STATE_ORDER.indexOf(y.state) || y.updatedAt - x.updatedAt);
  }

  /**
   * One page of alerts in a stable order (newest start first, then id): following `nextCursor` returns every
   * alert present throughout exactly once. Views are built for the page only.
   */
  page(q: { state?: string; site?: string; includeResolved?: boolean; limit: number; cursor?: string }): AlertPage {
    const now = this.now();
    let after: { since: number; id: string } | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor);
      if (after === undefined) throw new AlertError('E_ALERT_INPUT', 'cursor: not a cursor this API handed out');
    }
    const matches = (x: { state: string; site: string }): boolean => (q.state === undefined || x.state === q.state) && (q.site === undefined || x.site === q.site);
    const rows: (Alert | AlertRecord)[] = [];
    if (q.includeResolved === true || q.state === 'resolved') {
      // With the (bounded) history merged in: filter and sort them together.
      const keep = (x: Alert | AlertRecord): boolean => matches(x) && (after === undefined || pageOrder(after, x) < 0);
      rows.push(...[...this.alerts.values()].filter(keep), ...this.history.filter(keep));
      rows.sort(pageOrder);
    } else {
      // Active alerts only: the sorted order is kept between requests; a page costs a binary search and a scan.
      const sorted = this.sortedAlerts();
      let lo = 0;
      let hi = sorted.length;
      while (after !== undefined && lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = sorted[mid];
        if (m !== undefined && pageOrder(after, m) >= 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < sorted.length && rows.length <= q.limit; i++) {
        const a = sorted[i];
        if (a !== undefined && matches(a)) rows.push(a);
      }
    }
    const slice = rows.slice(0, q.limit);
    const alerts = slice.map((r) => ('key' in r ? this.view(r, now) : { ...r, announced: true }));
    const last = slice.at(-1);
    return { alerts, ...(rows.length > q.limit && last !== undefined ? { nextCursor: encodeCursor(last) } : {}) };
  }

  private sortedAlerts(): Alert[] {
    if (this.sorted?.version !== this.version) this.sorted = { version: this.version, rows: [...this.alerts.values()].sort(pageOrder) };
    return this.sorted.rows;
  }

  get(id: string): AlertView | undefined {
    const now = this.now();
    for (const a of this.alerts.values()) if (a.id === id) return this.view(a, now);
    const r = this.history.find((x) => x.id === id);
    return r === undefined ? undefined : { ...r, announced: true };
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

  /**
   * Adds a silence. `createdBy` is the login that asks (never the body); a silence needs a matcher unless it
   * says `allSites: true`, and ends within `maxSilenceMs`.
   */
  addSilence(input: unknown, createdBy: string): Silence {
    const parsed = silenceInputSchema.safeParse(input);
    if (!parsed.success) throw new AlertError('E_ALERT_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const now = this.now();
    const s = makeSilence(parsed.data, createdBy, now);
    if (!(s.endsAt > s.startsAt)) throw new AlertError('E_ALERT_INPUT', 'endsAt must be after startsAt');
    const maxMs = this.opts.maxSilenceMs ?? 7 * 24 * 3_600_000;
    if (s.endsAt - Math.max(s.startsAt, now) > maxMs) throw new AlertError('E_ALERT_INPUT', `endsAt: a silence may last at most ${Math.round(maxMs / 3_600_000)} h (alerts.maxSilence); it would last ${Math.round((s.endsAt - Math.max(s.startsAt, now)) / 3_600_000)} h`);
    const live = this.silences.filter((x) => x.endsAt > now);
    if (live.length >= (this.opts.maxSilences ?? 1000)) throw new AlertError('E_ALERT_INPUT', `too many active silences (${live.length}); delete some first`);
    this.silences = [...live, s];
    this.dirty = true;
    this.persist(false);
    return s;
  }

  deleteSilence(id: string): void {
    if (!this.silences.some((s) => s.id === id)) throw new AlertError('E_SILENCE_NOT_FOUND', `no silence ${id}`);
    this.silences = this.silences.filter((s) => s.id !== id);
    this.dirty = true;
    // An alert that was silenced and still fires is announced now (or in the next slices, when there is much to do).
    this.requestEvaluation();
  }
}
