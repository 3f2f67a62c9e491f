// What the alert engine says of each site, for its tile state (site-state.ts): an alert marking it down, active
// warnings, and maintenance windows (API silences of kind maintenance and the rules file's windows) that cover
// the whole site — a window limited to some rules or severities covers only those, not the site.
import type { AlertView } from '../alerts/alert-queries.ts';
import type { RulesFile } from '../alerts/rules-file.ts';
import type { Silence } from '../alerts/silences.ts';
import type { SiteAlertsInput } from './site-state.ts';

/** The part of the alert engine the site states read. */
export interface AlertEngineView {
  list(): AlertView[];
  listSilences(): Silence[];
  siteDown(site: string): boolean;
}

/** One read of the engine: the state inputs of every site, asked by slug and area. */
export type SiteAlertsOf = (site: { slug: string; area: string }) => SiteAlertsInput;

export interface SiteAlertsSource {
  snapshot(now: number): SiteAlertsOf;
  /** The active alerts of this read (the wall's incidents), the same list the snapshot counted. */
  alerts?(): AlertView[];
}

interface Window {
  sites?: readonly string[] | undefined;
  areas?: readonly string[] | undefined;
  allSites?: boolean;
  from: number;
  to: number;
}

const coversSite = (w: Window, site: { slug: string; area: string }, now: number): boolean =>
  now >= w.from && now < w.to && (w.allSites === true || (w.sites?.includes(site.slug) ?? false) || (w.areas?.includes(site.area) ?? false));

export function engineSiteAlerts(engine: AlertEngineView, fileWindows: RulesFile['maintenance'] = []): SiteAlertsSource {
  // The rules file's windows without rules: a window with neither sites nor areas covers the province.
  const file: Window[] = fileWindows
    .filter((m) => m.rules === undefined)
    .map((m) => ({ sites: m.sites, areas: m.areas, allSites: m.sites === undefined && m.areas === undefined, from: Date.parse(m.startsAt), to: Date.parse(m.endsAt) }));
  return {
    snapshot(now) {
      const windows: Window[] = [
        ...file,
        ...engine
          .listSilences()
          .filter((s) => s.kind === 'maintenance' && s.rules === undefined && s.severities === undefined)
          .map((s) => ({ sites: s.sites, areas: s.areas, allSites: s.allSites === true, from: s.startsAt, to: s.endsAt })),
      ];
      const warnings = new Map<string, number>();
      for (const a of engine.list()) {
        if ((a.state === 'firing' || a.state === 'acknowledged') && (a.severity === 'warning' || a.severity === 'critical')) warnings.set(a.site, (warnings.get(a.site) ?? 0) + 1);
      }
      return (site) => ({ siteDown: engine.siteDown(site.slug), warnings: warnings.get(site.slug) ?? 0, maintenance: windows.some((w) => coversSite(w, site, now)) });
    },
    alerts: () => engine.list(),
  };
}
