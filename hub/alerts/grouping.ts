// Grouping: alerts that belong together become one derived alert — a province incident (one grouped rule failing
// at `storm.groupMinSites` sites of a province) or a composite (all of its rules at one site: mains lost + UPS on
// battery = power cut). The members are then muted (mute/grouping-muters.ts); a derived alert clears with them.
import { alertKey, type Alert, type AlertSignal } from './alert.ts';
import type { AlertTable } from './alert-table.ts';
import type { Composite, RulesFile } from './rules-file.ts';
import type { RuleInstance, Severity } from './types.ts';

interface ProvinceGroup {
  rule: string;
  province: string;
  instance: string;
  sites: Set<string>;
  labels: Record<string, string>;
  severity: Severity;
}

/** Derived alerts fire and clear at once: their members already waited. */
const NONE: readonly string[] = [];

const DERIVED = { forMs: 0, clearForMs: 0, holdMs: 0, marksSiteDown: false, derived: true } as const;

/** A series' instance without its agent: the same probe at any agent of a site is one member of the incident. */
const incidentInstance = (a: Alert): string => a.instance.split(',').filter((p) => !p.startsWith('agent=')).join(',');

export class Grouping {
  private readonly composites: readonly Composite[];
  /** Rule → names of the composites it is a member of. */
  private readonly compositesByRule = new Map<string, string[]>();
  private readonly rulesByName: ReadonlyMap<string, RuleInstance>;

  constructor(
    private readonly rules: RulesFile,
    private readonly table: AlertTable,
  ) {
    this.composites = rules.storm.composites.map((c) => ({ ...c, rules: [...c.rules], summary: { ...c.summary } }));
    for (const c of this.composites) for (const r of c.rules) this.compositesByRule.set(r, [...(this.compositesByRule.get(r) ?? []), c.name]);
    this.rulesByName = new Map(rules.rules.map((r) => [r.name, r]));
  }

  /** Alerts that may join an incident or a composite wait `storm.groupWait` before they are announced alone. */
  holdMsOf(r: RuleInstance): number {
    return r.group !== undefined || this.compositesByRule.has(r.name) ? this.rules.storm.groupWait : 0;
  }

  /** Key of the province incident this alert would be part of (its rule groups by province), if any. */
  incidentKeyOf(a: Alert): string | undefined {
    const province = a.labels.province;
    if (this.rulesByName.get(a.rule)?.group !== 'province' || province === undefined) return undefined;
    return alertKey(`incident-${a.rule}`, province, incidentInstance(a));
  }

  /** Names of the composites this rule is a member of (their alert at a site: `alertKey(name, site, '')`). */
  compositesOf(rule: string): readonly string[] {
    return this.compositesByRule.get(rule) ?? NONE;
  }

  /** Signals every derived alert from the live ones; derived alerts whose members are all gone clear. */
  derive(now: number, signal: (s: AlertSignal, now: number) => void): void {
    const live = [...this.table.values()].filter((a) => !a.derived && (a.state === 'firing' || a.state === 'acknowledged'));
    const seen = new Set<string>();
    for (const g of this.provinceGroups(live)) {
      const rule = `incident-${g.rule}`;
      const key = alertKey(rule, g.province, g.instance);
      if (g.sites.size < this.rules.storm.groupMinSites && !this.table.has(key)) continue;
      seen.add(key);
      const detail = g.instance === '' ? '' : ` (${g.instance})`;
      const labels = { ...g.labels, scope: 'province', sites: String(g.sites.size) };
      const summary = { vi: `Sự cố diện rộng: ${g.rule}${detail} lỗi tại ${g.sites.size} xã của ${g.province}`, en: `Province-wide incident: ${g.rule}${detail} failing at ${g.sites.size} sites of ${g.province}` };
      signal({ rule, site: g.province, instance: g.instance, severity: g.severity, active: true, value: g.sites.size, labels, summary, ...DERIVED }, now);
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
        signal({ rule: c.name, site, instance: '', severity: c.severity, active: true, labels, summary: { vi: `${c.summary.vi} (${site})`, en: `${c.summary.en} (${site})` }, ...DERIVED, value: undefined }, now);
      }
    }
    for (const a of this.table.values()) {
      if (a.derived && !seen.has(a.key)) {
        this.table.setActive(a, false);
        a.clearSince ??= now;
      }
    }
  }

  private provinceGroups(live: readonly Alert[]): IterableIterator<ProvinceGroup> {
    const groups = new Map<string, ProvinceGroup>();
    for (const a of live) {
      const rule = this.rulesByName.get(a.rule);
      const province = a.labels.province;
      if (rule?.group !== 'province' || province === undefined) continue;
      const instance = incidentInstance(a);
      const gk = `${a.rule}|${province}|${instance}`;
      const g = groups.get(gk) ?? { rule: a.rule, province, instance, sites: new Set<string>(), labels: {}, severity: a.severity };
      g.sites.add(a.site);
      for (const [k, v] of Object.entries(a.labels)) if (k !== 'agent' && k !== 'area') g.labels[k] = v;
      groups.set(gk, g);
    }
    return groups.values();
  }
}
