// What a person reads: one row per incident with its parts. A province (or other group) incident lists the
// site alerts it stands for, a composite the alerts it is made of, a site's offline alert the site's alerts it
// inhibits; the rest stand alone. Every alert appears exactly once, as a row or as a part. And the checks of a
// silence against what exists (a typo would make a silence that silences nothing).
import type { AlertView } from './alert-queries.ts';
import { AlertError } from './errors.ts';
import type { RulesFile } from './rules-file.ts';
import { TOO_MANY_SERIES } from './series-cap.ts';

export interface Incident {
  alert: AlertView;
  /** What it stands for: the members of a group incident or composite, the alerts a site-offline alert holds back. */
  parts: AlertView[];
  /** Sites involved (the alert's own for a site alert, the members' for a group incident). */
  sites: string[];
}

export interface IncidentRules {
  /** Composite name → its member rules. */
  composites: ReadonlyMap<string, readonly string[]>;
  /** Rules that mark a site down (agent-offline): their alert lists the site's alerts it inhibits. */
  siteDown: ReadonlySet<string>;
}

export function incidentRulesOf(rules: Pick<RulesFile, 'rules' | 'storm'>): IncidentRules {
  return {
    composites: new Map(rules.storm.composites.map((c) => [c.name, [...c.rules]])),
    siteDown: new Set(rules.rules.filter((r) => r.marksSiteDown).map((r) => r.name)),
  };
}

const GROUP_PREFIX = 'incident-';

/** Groups alerts into incidents, in the order of the given list (its head rows first). */
export function incidentsOf(alerts: readonly AlertView[], rules: IncidentRules): Incident[] {
  const taken = new Set<string>();
  const rows: Incident[] = [];
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const partsOf = (head: AlertView): AlertView[] => {
    const scope = head.labels.scope;
    if (head.rule.startsWith(GROUP_PREFIX) && scope !== undefined) {
      const member = head.rule.slice(GROUP_PREFIX.length);
      return alerts.filter((a) => a.id !== head.id && a.rule === member && a.labels[scope] === head.site && a.state !== 'resolved');
    }
    const composite = rules.composites.get(head.rule);
    if (composite !== undefined) return alerts.filter((a) => a.id !== head.id && a.site === head.site && composite.includes(a.rule) && a.state !== 'resolved');
    if (rules.siteDown.has(head.rule) && head.state !== 'resolved') return alerts.filter((a) => a.id !== head.id && a.site === head.site && a.suppressedBy === 'site-offline');
    return [];
  };
  // Heads first (so a part is never shown as a row of its own), then the rest in order.
  const heads = alerts.filter((a) => (a.rule.startsWith(GROUP_PREFIX) && a.labels.scope !== undefined) || rules.composites.has(a.rule) || rules.siteDown.has(a.rule));
  const headParts = new Map<string, AlertView[]>();
  for (const h of heads) {
    const parts = partsOf(h).filter((p) => !taken.has(p.id) && !heads.includes(p));
    for (const p of parts) taken.add(p.id);
    headParts.set(h.id, parts);
  }
  for (const a of alerts) {
    if (taken.has(a.id)) continue;
    const parts = headParts.get(a.id) ?? [];
    const sites = parts.length > 0 && a.labels.scope !== undefined ? [...new Set(parts.map((p) => p.site))].sort() : [a.site];
    rows.push({ alert: byId.get(a.id) ?? a, parts, sites });
  }
  return rows;
}

/** What exists; a list left out is not checked. */
export interface SilenceCatalog {
  sites?: ReadonlySet<string>;
  areas?: ReadonlySet<string>;
  rules?: ReadonlySet<string>;
}

/** Every rule name an alert can carry: the rules, their group incidents, the composites, the overflow alert. */
export function ruleNamesOf(rules: Pick<RulesFile, 'rules' | 'storm'>, present: Iterable<string> = []): Set<string> {
  const names = new Set<string>([TOO_MANY_SERIES, ...present]);
  for (const r of rules.rules) {
    names.add(r.name);
    if (r.group !== undefined) names.add(`${GROUP_PREFIX}${r.name}`);
  }
  for (const c of rules.storm.composites) names.add(c.name);
  return names;
}

/** Refuses a silence that names a site, area or rule that does not exist, naming it (and the nearest that does). */
export function checkSilenceTargets(input: unknown, catalog: SilenceCatalog): void {
  if (typeof input !== 'object' || input === null) return; // the schema's own message follows
  const body = input as Record<string, unknown>;
  const problems: string[] = [];
  const check = (key: 'sites' | 'areas' | 'rules', known: ReadonlySet<string> | undefined, what: string): void => {
    const list = body[key];
    if (!Array.isArray(list) || known === undefined) return;
    for (const v of list) {
      if (typeof v !== 'string' || known.has(v)) continue;
      const near = nearest(v, known);
      problems.push(`${key}: unknown ${what} "${v}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`);
      if (problems.length >= 5) return;
    }
  };
  check('sites', catalog.sites, 'site (not in the registry)');
  check('areas', catalog.areas, 'area (no site of the registry is in it)');
  check('rules', catalog.rules, 'rule (not in the rules file)');
  if (problems.length > 0) throw new AlertError('E_ALERT_INPUT', problems.join('; '));
}

/** The known name closest to `v` by edit distance, when it is close (at most a third of its length). */
export function nearest(v: string, known: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(v.length / 3)) + 1;
  for (const k of known) {
    if (Math.abs(k.length - v.length) >= bestD) continue;
    const d = editDistance(v, k, bestD);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length] ?? cap;
}
