import { describe, expect, it } from 'vitest';
import type { AlertView } from './alert-queries.ts';
import { checkSilenceTargets, incidentRulesOf, incidentsOf, ruleNamesOf } from './incidents.ts';
import { parseRulesFile } from './rules-file.ts';

const view = (id: string, rule: string, site: string, extra: Partial<AlertView> = {}): AlertView => ({
  id, rule, site, severity: 'warning', state: 'firing', since: 1, updatedAt: 1, summary: { vi: id, en: id }, labels: { province: 'phu-tho', area: 'a' }, announced: true, ...extra,
});

const rules = parseRulesFile({
  rules: [
    { name: 'site-offline', type: 'agent-offline' },
    { name: 'ups-on-battery', type: 'threshold', measurement: 'equipment', field: 'on_battery', above: 0.5 },
    { name: 'mains-lost', type: 'threshold', measurement: 'gpio', field: 'state', below: 0.5 },
    { name: 'portal-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, group: 'province' },
  ],
  storm: { composites: [{ name: 'power-cut', rules: ['mains-lost', 'ups-on-battery'], summary: { vi: 'Mất điện', en: 'Power cut' } }] },
});

describe('incidents', () => {
  it('one row per incident: a province incident lists its sites, a composite its members, an offline site what it holds back', () => {
    const alerts = [
      view('p1', 'portal-down', 'xa-1', { suppressedBy: 'grouped' }),
      view('inc', 'incident-portal-down', 'phu-tho', { labels: { province: 'phu-tho', scope: 'province', sites: '2' } }),
      view('p2', 'portal-down', 'xa-2', { suppressedBy: 'grouped' }),
      view('m3', 'mains-lost', 'xa-3', { suppressedBy: 'composite' }),
      view('u3', 'ups-on-battery', 'xa-3', { suppressedBy: 'composite' }),
      view('pc3', 'power-cut', 'xa-3'),
      view('off4', 'site-offline', 'xa-4'),
      view('u4', 'ups-on-battery', 'xa-4', { suppressedBy: 'site-offline' }),
      view('u5', 'ups-on-battery', 'xa-5'),
    ];
    const rows = incidentsOf(alerts, incidentRulesOf(rules));
    expect(rows.map((r) => [r.alert.id, r.parts.map((p) => p.id), r.sites])).toEqual([
      ['inc', ['p1', 'p2'], ['xa-1', 'xa-2']],
      ['pc3', ['m3', 'u3'], ['xa-3']],
      ['off4', ['u4'], ['xa-4']],
      ['u5', [], ['xa-5']],
    ]);
    // every alert once
    expect(rows.flatMap((r) => [r.alert.id, ...r.parts.map((p) => p.id)]).sort()).toEqual(alerts.map((a) => a.id).sort());
  });

  it('knows the rule names an alert can carry, and names what a silence gets wrong', () => {
    expect([...ruleNamesOf(rules)].sort()).toEqual(['incident-portal-down', 'mains-lost', 'portal-down', 'power-cut', 'site-offline', 'too-many-series', 'ups-on-battery']);
    const catalog = { sites: new Set(['xa-lap-thach']), areas: new Set(['lap-thach']), rules: ruleNamesOf(rules) };
    expect(() => checkSilenceTargets({ sites: ['xa-lap-thach'], rules: ['power-cut'] }, catalog)).not.toThrow();
    expect(() => checkSilenceTargets({ sites: ['xa-khong-co'] }, catalog)).toThrow('sites: unknown site (not in the registry) "xa-khong-co"');
    expect(() => checkSilenceTargets({ rules: ['portal-dwn'] }, catalog)).toThrow('rules: unknown rule (not in the rules file) "portal-dwn" (did you mean "portal-down"?)');
    expect(() => checkSilenceTargets({ areas: ['lap-thach'], rules: ['site-offline'] }, { ...catalog, rules: undefined })).not.toThrow();
  });
});
