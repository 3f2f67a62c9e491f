// HTTP API of the hub: health, Prometheus metrics, site status, audit log. Built separately from listen() for
// inject() tests. /healthz and /metrics are open (no identities in them); every other read needs a scope.
import fastifyCookie from '@fastify/cookie';
import { fastify, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { CLOCK_PROBLEM_SHOWN_MS, type AgentProblems, type AgentStateTable } from '../agents/agent-state.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { HubMetrics } from '../metrics.ts';
import type { PointsToday } from '../agents/points-today.ts';
import type { Registry } from '../agents/registry.ts';
import { fleetFilterOf, fleetViews } from '../agents/fleet.ts';
import type { SiteAlertsSource } from './site-alerts.ts';
import { DEFAULT_SITE_STATE_POLICY, siteState, type SiteState, type SiteStatePolicy, type SiteStateReason } from './site-state.ts';

export interface HttpDeps {
  metrics: HubMetrics;
  registry: Pick<Registry, 'listSites' | 'listAgents'>;
  agentState: AgentStateTable;
  pointsToday: PointsToday;
  /** True when InfluxDB answers (bounded by its own timeout). */
  influxUp: () => Promise<boolean>;
  brokerUp: () => boolean;
  /** Client ids the broker has banned for flapping, with the end of each ban (epoch ms). */
  bannedClients?: () => ReadonlyMap<string, number>;
  logger: Logger;
  /** Service-account check of the read endpoints (`sites:read`, `audit:read`). */
  auth: ApiAuth;
  audit: AuditLog;
  /** The registry's agents with their reports (GET /api/agents, scope `agents:read`). */
  listFleet?: Registry['listFleet'];
  /** Further route sets (the alert API). */
  plugins?: readonly FastifyPluginAsync[];
  /** What the alert engine says of each site (maintenance, site down, warnings), for its tile state; none: nothing. */
  siteAlerts?: SiteAlertsSource;
  /** Freshness bounds of the tile state (config `wall:`). */
  siteStatePolicy?: SiteStatePolicy;
}

export type HubHttp = ReturnType<typeof buildHttp>;

export interface SiteAgentView {
  agent: string;
  online: boolean;
  connected: boolean;
  lastSeen: string | null;
  version: string | null;
  clockSynced: boolean | null;
  clockOffsetMs: number | null;
  /** Backlog batches the agent still has to replay (after an outage). */
  backlog: number | null;
  /** Age of the oldest data the agent has not delivered yet, s. */
  oldestUnsentAgeS: number | null;
  /** Batches received today / expected from the seqs, %. */
  completenessPct: number | null;
  /** Until when the broker refuses this agent's new connections (flapping ban), or null. */
  bannedUntil: string | null;
  /** Readings refused for their time in the last 10 minutes: the agent's clock is wrong. */
  clockProblem: boolean;
  /** What the accept path refused or held of this agent (contract, budgets, InfluxDB rejections); null: nothing. */
  problems: AgentProblems | null;
}

export interface SiteView {
  slug: string;
  name: string;
  area: string;
  areaName: string;
  province: string;
  provinceName: string;
  /** null while the office's coordinates are unknown (the 2025 commune list has none). */
  lat: number | null;
  lon: number | null;
  online: boolean;
  lastSeen: string | null;
  agents: SiteAgentView[];
  pointsToday: number;
  /** The site's tile state (site-state.ts: its precedence and bounds), the same on the wall. */
  state: SiteState;
  stateReason: SiteStateReason;
}

export function buildHttp(deps: HttpDeps) {
  // Request lines are info: a warn-level child keeps scrapes and health checks out of the log.
  const logger = deps.logger.child({ component: 'http' }, { level: deps.logger.isLevelEnabled('warn') ? 'warn' : deps.logger.level });
  const app = fastify({ loggerInstance: logger, connectionTimeout: 30_000, requestTimeout: 30_000 });

  // Session cookies of the console (hub/http/console-routes.ts), parsed for every route.
  void app.register(fastifyCookie);

  app.get('/healthz', async (_req, reply) => {
    const influx = await deps.influxUp();
    const broker = deps.brokerUp();
    const ok = influx && broker;
    return reply.code(ok ? 200 : 503).send({ ok, influx, broker });
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.render()));

  app.get('/api/sites', async (req, reply) => {
    if ((await deps.auth.require(req, reply, 'sites:read')) === undefined) return reply;
    return { sites: siteViews(deps) };
  });

  app.get('/api/agents', async (req, reply) => {
    const listFleet = deps.listFleet;
    if (listFleet === undefined) return reply.code(404).send({ code: 'E_INPUT', error: 'no fleet inventory here' });
    if ((await deps.auth.require(req, reply, 'agents:read')) === undefined) return reply;
    const filter = fleetFilterOf((req.query ?? {}) as Record<string, unknown>);
    if (typeof filter === 'string') return reply.code(400).send({ code: 'E_INPUT', error: filter });
    const sites = new Map(deps.registry.listSites().map((s) => [s.slug, s]));
    return { agents: fleetViews(await listFleet(), (slug) => sites.get(slug), filter, (site, agent) => deps.agentState.get(site, agent)) };
  });

  app.get('/api/audit', async (req, reply) => {
    if ((await deps.auth.require(req, reply, 'audit:read')) === undefined) return reply;
    const raw = (req.query as Record<string, unknown> | undefined)?.limit;
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return reply.code(400).send({ code: 'E_INPUT', error: 'limit: an integer from 1 to 1000' });
    return { entries: await deps.audit.tail(limit) };
  });

  for (const plugin of deps.plugins ?? []) void app.register(plugin);

  return app;
}

export function siteViews(deps: Pick<HttpDeps, 'registry' | 'agentState' | 'pointsToday' | 'bannedClients' | 'siteAlerts' | 'siteStatePolicy'>, now: number = Date.now()): SiteView[] {
  const alertsOf = deps.siteAlerts?.snapshot(now);
  const liveAt = new Map<string, { lastLiveAt: number | null; lastLateAt: number | null; lastSeen: number | null }>();
  const bans = deps.bannedClients?.() ?? new Map<string, number>();
  const agentsBySite = new Map<string, SiteAgentView[]>();
  const lastSeenBySite = new Map<string, number>();
  for (const { site, agent } of deps.registry.listAgents()) {
    const s = deps.agentState.get(site, agent);
    const d = deps.agentState.delivery.view(site, agent, now);
    const problems = deps.agentState.problemsOf(site, agent) ?? null;
    const view: SiteAgentView = {
      agent,
      online: s?.online ?? false,
      connected: s?.connected ?? false,
      lastSeen: iso(s?.lastSeen ?? null),
      version: s?.version ?? null,
      clockSynced: s?.clockSynced ?? null,
      clockOffsetMs: s?.clockOffsetMs ?? null,
      backlog: d?.backlog ?? null,
      oldestUnsentAgeS: d?.oldestUnsentAgeS ?? null,
      completenessPct: d?.completenessPct ?? null,
      bannedUntil: iso(bans.get(`${site}/${agent}`) ?? null),
      clockProblem: problems?.clock != null && now - problems.clock.lastAt <= CLOCK_PROBLEM_SHOWN_MS,
      problems,
    };
    liveAt.set(`${site}/${agent}`, { lastLiveAt: d?.lastLiveAt ?? null, lastLateAt: d?.lastLateAt ?? null, lastSeen: s?.lastSeen ?? null });
    const list = agentsBySite.get(site);
    if (list === undefined) agentsBySite.set(site, [view]);
    else list.push(view);
    if (s?.lastSeen != null) lastSeenBySite.set(site, Math.max(lastSeenBySite.get(site) ?? 0, s.lastSeen));
  }
  return deps.registry.listSites().map((site) => {
    const agents = agentsBySite.get(site.slug) ?? [];
    const inputs = agents.map((a) => ({ ...(liveAt.get(`${site.slug}/${a.agent}`) ?? { lastLiveAt: null, lastLateAt: null, lastSeen: null }), online: a.online, connected: a.connected, backlog: a.backlog, clockProblem: a.clockProblem }));
    const tile = siteState(inputs, alertsOf?.(site), deps.siteStatePolicy ?? DEFAULT_SITE_STATE_POLICY, now);
    return {
      slug: site.slug,
      name: site.name,
      area: site.area,
      areaName: site.areaName,
      province: site.province,
      provinceName: site.provinceName,
      lat: site.lat ?? null,
      lon: site.lon ?? null,
      online: agents.some((a) => a.online),
      lastSeen: iso(lastSeenBySite.get(site.slug) ?? null),
      agents,
      pointsToday: deps.pointsToday.get(site.slug),
      state: tile.state,
      stateReason: tile.reason,
    };
  });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
