import { describe, expect, it } from 'vitest';
import type { AlertView } from '../alerts/alert-queries.ts';
import type { Silence } from '../alerts/silences.ts';
import { engineSiteAlerts } from './site-alerts.ts';

const NOW = Date.parse('2026-12-01T03:00:00Z');
const alert = (site: string, severity: AlertView['severity'], state: AlertView['state']): AlertView => ({ id: `${site}-${severity}-${state}`, site, rule: 'r', severity, state, since: NOW, updatedAt: NOW, summary: { vi: '', en: '' }, labels: {}, announced: true }) as AlertView;
const silence = (over: Partial<Silence>): Silence => ({ id: 's-1', kind: 'maintenance', startsAt: NOW - 1000, endsAt: NOW + 60_000, createdBy: 'an', comment: '', ...over });

function source(silences: Silence[], alerts: AlertView[] = [], down: string[] = [], file: Parameters<typeof engineSiteAlerts>[1] = []) {
  return engineSiteAlerts({ list: () => alerts, listSilences: () => silences, siteDown: (s) => down.includes(s) }, file).snapshot(NOW);
}

describe('engineSiteAlerts', () => {
  it('counts firing and acknowledged warnings and criticals of the site, not info or pending ones', () => {
    const of = source([], [alert('xa-a', 'warning', 'firing'), alert('xa-a', 'critical', 'acknowledged'), alert('xa-a', 'info', 'firing'), alert('xa-b', 'critical', 'pending')], ['xa-b']);
    expect(of({ slug: 'xa-a', area: '' })).toEqual({ siteDown: false, warnings: 2, maintenance: false });
    expect(of({ slug: 'xa-b', area: '' })).toEqual({ siteDown: true, warnings: 0, maintenance: false });
  });

  it('takes a maintenance window covering the whole site (by site, area or province), open now', () => {
    expect(source([silence({ sites: ['xa-a'] })])({ slug: 'xa-a', area: '' }).maintenance).toBe(true);
    expect(source([silence({ areas: ['vinh-yen'] })])({ slug: 'xa-a', area: 'vinh-yen' }).maintenance).toBe(true);
    expect(source([silence({ allSites: true })])({ slug: 'xa-a', area: '' }).maintenance).toBe(true);
    // not another site, not a plain silence, not one limited to some rules, not one that has not begun
    expect(source([silence({ sites: ['xa-b'] })])({ slug: 'xa-a', area: '' }).maintenance).toBe(false);
    expect(source([silence({ sites: ['xa-a'], kind: 'silence' })])({ slug: 'xa-a', area: '' }).maintenance).toBe(false);
    expect(source([silence({ sites: ['xa-a'], rules: ['ups-on-battery'] })])({ slug: 'xa-a', area: '' }).maintenance).toBe(false);
    expect(source([silence({ sites: ['xa-a'], startsAt: NOW + 1 })])({ slug: 'xa-a', area: '' }).maintenance).toBe(false);
  });

  it("takes the rules file's maintenance windows too", () => {
    const window = { sites: ['xa-a'], startsAt: '2026-12-01T00:00:00Z', endsAt: '2026-12-01T05:00:00Z', comment: '' };
    expect(source([], [], [], [window])({ slug: 'xa-a', area: '' }).maintenance).toBe(true);
    expect(source([], [], [], [{ ...window, rules: ['x'] }])({ slug: 'xa-a', area: '' }).maintenance).toBe(false);
  });
});
