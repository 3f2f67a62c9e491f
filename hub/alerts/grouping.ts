// Grouping: alerts that belong together become one derived alert (an incident), in the manner of Alertmanager's
// group_by / group_wait / group_interval:
// - groups by labels: a rule's `groupBy` (`group: province` is `groupBy: [province]` with storm.groupMinSites), or a
//   `storm.groups` entry across rules; the alerts that share the labels' values form the incident once they stand at
//   `min` sites; each waits its group wait (`groupWait`) before it is announced alone;
// - composites: all of their rules at one site (mains lost + UPS on battery = power cut);
// - the hub's self-check (self-check.ts): one hub-link incident for a mass drop of agents or the hub's uplink.
// Members are then muted (mute/grouping-muters.ts); an incident stands while any member does, and lists them
// (`parts`); its record is published again at most every storm.groupInterval when they change.
import { MAX_ALERT_PARTS, SLUG_PATTERN, type AlertPart } from '../../protocol/index.ts';
import { alertKey, labelOf, type Alert, type AlertSignal } from './alert.ts';
import type { AlertTable } from './alert-table.ts';
import { render } from './rules/base.ts';
import type { Composite, RulesFile } from './rules-file.ts';
import type { SelfCheck } from './self-check.ts';
import type { RuleInstance, Severity, Summary } from './types.ts';

/** One group of the rules file, resolved. */
export interface GroupSpec {
  /** The incident's rule name. */
  name: string;
  rules: ReadonlySet<string>;
  /** Per entry of `by`: its alternatives, the first present is used. */
  by: readonly (readonly string[])[];
  min: number;
  waitMs: number;
  /** A rule's own group keeps its series apart (a portal probe and a tax-site probe are two causes). */
  bySeries: boolean;
  /** `group: province`: the incident's site is the province, with the province wording. */
  province: boolean;
  severity?: Severity;
  summary?: Summary;
}

export interface GroupingOptions {
  selfCheck?: SelfCheck;
  /** Publishes a standing, announced incident again (its parts changed). */
  republish?: (a: Alert) => void;
}

export interface GroupingStats {
  /** Incidents formed, per incident rule. */
  formed: ReadonlyMap<string, number>;
  /** Incidents standing now (groups, composites, the hub-link incident). */
  standing: number;
  /** Records published again because their parts changed. */
  republished: number;
}

interface Group {
  spec: GroupSpec;
  key: string;
  site: string;
  instance: string;
  /** The `by` labels and the values they had. */
  values: readonly (readonly [string, string])[];
  sites: Set<string>;
  members: Alert[];
}

/** Derived alerts fire and clear at once: their members already waited. */
const NONE: readonly string[] = [];
const DERIVED = { forMs: 0, clearForMs: 0, holdMs: 0, marksSiteDown: false, derived: true } as const;
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** A series' instance without its agent: the same probe at any agent of a site is one member of the incident. */
const seriesOf = (a: Alert): string => a.instance.split(',').filter((p) => !p.startsWith('agent=')).join(',');

/** The groups of a rules file: rules' own `groupBy` / `group: province`, then storm.groups. */
export function groupSpecsOf(rules: RulesFile): GroupSpec[] {
  const storm = rules.storm;
  const specs: GroupSpec[] = [];
  for (const r of rules.rules) {
    if (r.group === 'province') specs.push({ name: `incident-${r.name}`, rules: new Set([r.name]), by: [['province']], min: r.groupMin ?? storm.groupMinSites, waitMs: r.groupWaitMs ?? storm.groupWait, bySeries: true, province: true });
    else if (r.groupBy !== undefined) specs.push({ name: `incident-${r.name}`, rules: new Set([r.name]), by: r.groupBy.map((b) => b.split('|')), min: r.groupMin ?? 2, waitMs: r.groupWaitMs ?? storm.groupWait, bySeries: true, province: false });
  }
  for (const g of storm.groups) {
    specs.push({ name: g.name, rules: new Set(g.rules), by: g.by.map((b) => b.split('|')), min: g.min, waitMs: g.wait ?? storm.groupWait, bySeries: false, province: false, ...(g.severity === undefined ? {} : { severity: g.severity }), ...(g.summary === undefined ? {} : { summary: { ...g.summary } }) });
  }
  return specs;
}

export class Grouping {
  private readonly composites: readonly Composite[];
  /** Rule → names of the composites it is a member of. */
  private readonly compositesByRule = new Map<string, string[]>();
  /** Rule → its group (a rule is in at most one: rules-file.ts checks). */
  private readonly specByRule = new Map<string, GroupSpec>();
  private readonly published = new Map<string, { sig: string; at: number; announced: boolean }>();
  private readonly formed = new Map<string, number>();
  private republished = 0;

  constructor(
    private readonly rules: RulesFile,
    private readonly table: AlertTable,
    private readonly opts: GroupingOptions = {},
  ) {
    this.composites = rules.storm.composites.map((c) => ({ ...c, rules: [...c.rules], summary: { ...c.summary } }));
    for (const c of this.composites) for (const r of c.rules) this.compositesByRule.set(r, [...(this.compositesByRule.get(r) ?? []), c.name]);
    for (const spec of groupSpecsOf(rules)) for (const r of spec.rules) this.specByRule.set(r, spec);
  }

  /** Alerts that may join a group or a composite wait their group wait before they are announced alone. */
  holdMsOf(r: RuleInstance): number {
    const group = this.specByRule.get(r.name)?.waitMs ?? 0;
    return Math.max(group, this.compositesByRule.has(r.name) ? this.rules.storm.groupWait : 0);
  }

  /** Key of the incident this alert would be part of (its rule is grouped and it has the labels), if any. */
  incidentKeyOf(a: Alert): string | undefined {
    return this.groupOf(a)?.key;
  }

  /** Names of the composites this rule is a member of (their alert at a site: `alertKey(name, site, '')`). */
  compositesOf(rule: string): readonly string[] {
    return this.compositesByRule.get(rule) ?? NONE;
  }

  stats(): GroupingStats {
    let standing = 0;
    for (const a of this.table.values()) if (a.derived && a.active) standing++;
    return { formed: this.formed, standing, republished: this.republished };
  }

  /** Signals every derived alert from the live ones; derived alerts whose members are all gone clear. */
  derive(now: number, signal: (s: AlertSignal, now: number) => void): void {
    const seen = new Set<string>();
    const selfCheck = this.opts.selfCheck;
    const hub = selfCheck?.evaluate(now);
    if (selfCheck !== undefined && hub !== undefined) {
      this.emit(hub.signal, hub.parts, now, signal);
      seen.add(selfCheck.key);
    }
    const live = [...this.table.values()].filter((a) => !a.derived && (a.state === 'firing' || a.state === 'acknowledged') && selfCheck?.claims(a) !== true);
    for (const g of this.groups(live)) {
      if (g.sites.size < g.spec.min && !this.table.has(g.key)) continue;
      seen.add(g.key);
      const parts = g.members.slice(0, MAX_ALERT_PARTS).map((m): AlertPart => ({ site: m.site, rule: m.rule, id: m.id }));
      this.emit(this.groupSignal(g), parts, now, signal);
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
        const key = alertKey(c.name, site, '');
        const complete = c.rules.every((r) => members.some((m) => m.rule === r));
        if (!complete && !this.table.has(key)) continue;
        seen.add(key);
        const first = members[0];
        const labels = { ...(first?.labels.area === undefined ? {} : { area: first.labels.area }), ...(first?.labels.province === undefined ? {} : { province: first.labels.province }) };
        const parts = members.map((m): AlertPart => ({ site: m.site, rule: m.rule, id: m.id }));
        this.emit({ rule: c.name, site, instance: '', severity: c.severity, active: true, labels, summary: { vi: `${c.summary.vi} (${site})`, en: `${c.summary.en} (${site})` }, ...DERIVED, value: undefined }, parts, now, signal);
      }
    }
    for (const a of this.table.values()) {
      if (a.derived && !seen.has(a.key)) {
        this.table.setActive(a, false);
        a.clearSince ??= now;
      }
    }
    for (const key of this.published.keys()) if (!seen.has(key)) this.published.delete(key);
  }

  /** Signals one incident, keeps its parts, and publishes it again when they changed (at most every groupInterval). */
  private emit(s: AlertSignal, parts: AlertPart[], now: number, signal: (s: AlertSignal, now: number) => void): void {
    const key = alertKey(s.rule, s.site, s.instance);
    const existed = this.table.has(key);
    signal(s, now);
    const a = this.table.get(key);
    if (a === undefined || !s.active) return;
    if (!existed) this.formed.set(s.rule, (this.formed.get(s.rule) ?? 0) + 1);
    a.parts = parts;
    const sig = `${a.value ?? ''}|${parts.map((p) => `${p.site}/${p.rule ?? p.agent ?? ''}`).join(',')}`;
    let prev = this.published.get(key);
    if (!a.announced) {
      this.published.set(key, { sig, at: now, announced: false });
      return;
    }
    if (prev === undefined || !prev.announced) {
      // Announced at the end of the last pass, with the parts of that pass.
      prev = { sig: prev?.sig ?? sig, at: prev?.at ?? now, announced: true };
      this.published.set(key, prev);
    }
    if (prev.sig !== sig && now - prev.at >= this.rules.storm.groupInterval && this.opts.republish !== undefined) {
      this.opts.republish(a);
      this.republished++;
      this.published.set(key, { sig, at: now, announced: true });
    }
  }

  /** The group an alert belongs to: its rule is grouped and it has a value for every entry of `by`. */
  private groupOf(a: Alert): Omit<Group, 'sites' | 'members'> | undefined {
    const spec = this.specByRule.get(a.rule);
    if (spec === undefined) return undefined;
    const values: [string, string][] = [];
    for (const alternatives of spec.by) {
      const label = alternatives.find((l) => (labelOf(a, l) ?? '') !== '');
      if (label === undefined) return undefined;
      values.push([label, labelOf(a, label) ?? '']);
    }
    const series = spec.bySeries ? seriesOf(a) : '';
    if (spec.province) {
      const province = values[0]?.[1] ?? '';
      return { spec, key: alertKey(spec.name, province, series), site: province, instance: series, values };
    }
    // The incident's `site` (its topic, and where the wall and the page show it): the place it is about — its area,
    // else its province, else the first value that is a slug (a cause), else the members' province.
    const value = (l: string): string | undefined => values.find(([k]) => k === l)?.[1];
    const site = [value('area'), value('province'), ...values.map(([, v]) => v), a.labels.province].find((v) => v !== undefined && SLUG_PATTERN.test(v)) ?? 'ioc';
    const instance = [...values.map(([l, v]) => `${l}=${v}`), ...(series === '' ? [] : [series])].join(',');
    return { spec, key: alertKey(spec.name, site, instance), site, instance, values };
  }

  private groups(live: readonly Alert[]): IterableIterator<Group> {
    const groups = new Map<string, Group>();
    for (const a of live) {
      const g0 = this.groupOf(a);
      if (g0 === undefined) continue;
      let g = groups.get(g0.key);
      if (g === undefined) {
        g = { ...g0, sites: new Set<string>(), members: [] };
        groups.set(g0.key, g);
      }
      g.sites.add(a.site);
      g.members.push(a);
    }
    return groups.values();
  }

  private groupSignal(g: Group): AlertSignal {
    const n = g.sites.size;
    const first = g.members[0];
    const severity = g.spec.severity ?? g.members.reduce<Severity>((s, m) => (SEVERITY_RANK[m.severity] > SEVERITY_RANK[s] ? m.severity : s), 'info');
    const series = g.spec.bySeries && first !== undefined ? seriesOf(first) : '';
    const detail = series === '' ? '' : ` (${series})`;
    const rules = [...new Set(g.members.map((m) => m.rule))].join(', ');
    if (g.spec.province) {
      const labels: Record<string, string> = {};
      for (const m of g.members) for (const [k, v] of Object.entries(m.labels)) if (k !== 'agent' && k !== 'area') labels[k] = v;
      return {
        rule: g.spec.name,
        site: g.site,
        instance: g.instance,
        severity,
        active: true,
        value: n,
        labels: { ...labels, scope: 'province', sites: String(n) },
        summary: { vi: `Sự cố diện rộng: ${rules}${detail} lỗi tại ${n} xã của ${g.site}`, en: `Province-wide incident: ${rules}${detail} failing at ${n} sites of ${g.site}` },
        ...DERIVED,
      };
    }
    // The labels every member shares (province of an area incident, a rule's cause…), then the group's own.
    const labels: Record<string, string> = { ...(first?.labels ?? {}) };
    delete labels.agent;
    for (const m of g.members) for (const k of Object.keys(labels)) if (m.labels[k] !== labels[k]) delete labels[k];
    for (const [l, v] of g.values) labels[l] = v;
    labels.scope = g.values.map(([l]) => l).join(',');
    labels.sites = String(n);
    const where = g.values.map(([, v]) => v).join(', ');
    const summary = g.spec.summary === undefined
      ? { vi: `Sự cố chung tại ${n} xã (${where}): ${rules}${detail}`, en: `Common incident at ${n} sites (${where}): ${rules}${detail}` }
      : render(g.spec.summary, { ...Object.fromEntries(g.values), count: n, rule: rules });
    return { rule: g.spec.name, site: g.site, instance: g.instance, severity, active: true, value: n, labels, summary, ...DERIVED };
  }
}
