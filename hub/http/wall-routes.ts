// GET /api/wall: what the wall (console/wall.html) shows, in one read for an anonymous visitor (`wall:read`, when
// console.anonymousWall allows): every registry commune with its tile state (the same siteViews as /api/sites),
// the counts by state, the headline figures (in-memory ones from the hub, the rest from InfluxDB through
// WallFigures) and the open incidents. Nothing an agent could use: no tokens, versions or addresses.
import type { FastifyInstance } from 'fastify';
import type { ApiAuth } from '../auth/api-auth.ts';
import { incidentsOf, incidentRulesOf } from '../alerts/incidents.ts';
import type { RulesFile } from '../alerts/rules-file.ts';
import { influxClient, type InfluxConnection } from '../storage/influx-schema.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import type { SiteView } from './http.ts';
import type { SiteAlertsSource } from './site-alerts.ts';
import { SITE_STATES, type SiteState } from './site-state.ts';
import type { WallConfig } from './wall-config.ts';
import { WallFigures, type InfluxRows, type WallFigureValues } from './wall-figures.ts';

export interface WallRoutesDeps {
  auth: Pick<ApiAuth, 'require'>;
  /** The registry's sites with their states (http.ts siteViews, with the alert engine and the wall's bounds). */
  sites: (now: number) => SiteView[];
  siteAlerts?: SiteAlertsSource;
  rules?: Pick<RulesFile, 'rules' | 'storm'>;
  figures?: Pick<WallFigures, 'get'>;
  config: Pick<WallConfig, 'freshFor' | 'downFor' | 'maxIncidents'>;
  now?: () => number;
}

/** A tile: the fields of a site's view the wall shows (no agent details: the wall may be anonymous). */
export type WallTile = Pick<SiteView, 'slug' | 'name' | 'area' | 'areaName' | 'province' | 'provinceName' | 'lat' | 'lon' | 'state' | 'stateReason' | 'lastSeen'>;

export interface WallIncident {
  id: string;
  site: string;
  siteName: string;
  rule: string;
  severity: string;
  state: string;
  since: number;
  summary: { vi: string; en: string };
  sites: string[];
}

export interface WallView {
  asOf: number;
  bounds: { freshForMs: number; downForMs: number };
  sites: WallTile[];
  counts: Record<SiteState, number>;
  figures: Omit<WallFigureValues, 'readAt' | 'error'> & { communes: number; online: number; openIncidents: number | null; figuresAt: number | null; figuresError?: string };
  incidents: WallIncident[];
}

/** Communes counted online: an agent online with current data (up, degraded, or replaying while live). */
const ONLINE: ReadonlySet<SiteState> = new Set(['up', 'degraded', 'backfilling']);

const UNKNOWN_FIGURES = { ticketsToday: null, ticketOffices: 0, avgWaitS: null, waitOffices: 0, portalReachable: null, portalReporting: 0 } as const;

export async function wallView(deps: WallRoutesDeps): Promise<WallView> {
  const now = (deps.now ?? Date.now)();
  const views = deps.sites(now);
  const names = new Map(views.map((s) => [s.slug, s.name]));
  const counts = Object.fromEntries(SITE_STATES.map((s) => [s, 0])) as Record<SiteState, number>;
  for (const v of views) counts[v.state] += 1;
  let openIncidents: number | null = null;
  let incidents: WallIncident[] = [];
  const list = deps.siteAlerts?.alerts?.();
  if (list !== undefined) {
    const open = list.filter((a) => a.state === 'firing' || a.state === 'acknowledged');
    const rows = incidentsOf(open, deps.rules === undefined ? { composites: new Map(), siteDown: new Set() } : incidentRulesOf(deps.rules));
    openIncidents = rows.length;
    incidents = rows.slice(0, deps.config.maxIncidents).map(({ alert: a, sites }) => ({ id: a.id, site: a.site, siteName: names.get(a.site) ?? a.site, rule: a.rule, severity: a.severity, state: a.state, since: a.since, summary: a.summary, sites }));
  }
  const f = deps.figures === undefined ? undefined : await deps.figures.get();
  return {
    asOf: now,
    bounds: { freshForMs: deps.config.freshFor, downForMs: deps.config.downFor },
    sites: views.map((v) => ({ slug: v.slug, name: v.name, area: v.area, areaName: v.areaName, province: v.province, provinceName: v.provinceName, lat: v.lat, lon: v.lon, state: v.state, stateReason: v.stateReason, lastSeen: v.lastSeen })),
    counts,
    figures: {
      communes: views.length,
      online: views.filter((v) => ONLINE.has(v.state)).length,
      openIncidents,
      ...(f === undefined ? UNKNOWN_FIGURES : { ticketsToday: f.ticketsToday, ticketOffices: f.ticketOffices, avgWaitS: f.avgWaitS, waitOffices: f.waitOffices, portalReachable: f.portalReachable, portalReporting: f.portalReporting }),
      figuresAt: f?.readAt ?? null,
      ...(f?.error === undefined ? {} : { figuresError: f.error }),
    },
    incidents,
  };
}

export function wallRoutes(deps: WallRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/api/wall', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'wall:read')) === undefined) return reply;
      void reply.header('cache-control', 'no-store');
      return wallView(deps);
    });
  };
}

/** The figures read from the hub's InfluxDB (its node-influx client and timeout), reads counted in /metrics. */
export function influxWallFigures(conn: InfluxConnection, config: Pick<WallConfig, 'figuresCache' | 'freshFor' | 'portalTarget'>, metrics?: HubMetrics): WallFigures {
  const influx = influxClient(conn);
  const reads = new Counter('ioc_hub_wall_figure_reads_total', 'Reads of the wall figures from InfluxDB (tickets, waiting time, portal), by outcome (a failed one shows them as unknown)', 'outcome');
  metrics?.addCounter(reads);
  return new WallFigures({
    query: async (q) => (await influx.query(q, { database: conn.database })) as unknown as InfluxRows,
    cacheMs: config.figuresCache,
    freshForMs: config.freshFor,
    portalTarget: config.portalTarget,
    onRead: (outcome) => reads.inc(1, outcome),
  });
}
