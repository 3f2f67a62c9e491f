// What the write path reports back: points written are counted per site for the day, points InfluxDB refused
// for good (HTTP 400, after the PUBACK) are an alarm charged to the agents whose points they were.
import type { Logger } from 'pino';
import type { AgentStateTable } from '../agents/agent-state.ts';
import type { PointsToday } from '../agents/points-today.ts';
import type { HubMetrics } from '../metrics.ts';
import { RateLimitedLog } from '../../common/rate-limited-log.ts';
import { parseRejection, type HubPoint, type SinkError } from './sink.ts';

/** Written points of each site today (its /api/sites entry); the hub's own `agent` points are not the site's data. */
export function countWrittenPerSite(points: readonly HubPoint[], pointsToday: PointsToday): void {
  const bySite = new Map<string, number>();
  for (const p of points) {
    const site = p.tags.site;
    if (site !== undefined && p.measurement !== 'agent') bySite.set(site, (bySite.get(site) ?? 0) + 1);
  }
  for (const [site, n] of bySite) pointsToday.add(site, n);
}

export interface RejectionDeps {
  metrics: HubMetrics;
  agentState: AgentStateTable;
  /** The hub's logger: the alarm is logged once a minute per reason. */
  log: Logger;
  now?: () => number;
}

/**
 * InfluxDB refused points of a batch for good (HTTP 400) after it was acknowledged: an alarm, never a
 * silent drop. Counted by reason, logged, and charged to the agents whose points it held (their
 * /api/sites entry): those of the named measurement when InfluxDB names one.
 */
export function influxRejectionHandler(deps: RejectionDeps): (points: readonly HubPoint[], err: SinkError) => void {
  const rejectLog = new RateLimitedLog(deps.log, 60_000);
  const now = deps.now ?? Date.now;
  return (points, err) => {
    const rejection = err.rejection ?? parseRejection(err.message);
    const named = rejection.measurement === undefined ? points : points.filter((p) => p.measurement === rejection.measurement);
    const culprits = named.length > 0 ? named : points;
    deps.metrics.influxRejected.inc(rejection.dropped ?? culprits.length, rejection.reason);
    const byAgent = new Map<string, { site: string; agent: string; n: number }>();
    for (const p of culprits) {
      const { site, agent } = p.tags;
      if (site === undefined || agent === undefined) continue;
      const k = `${site}/${agent}`;
      const e = byAgent.get(k) ?? { site, agent, n: 0 };
      e.n++;
      byAgent.set(k, e);
    }
    const at = now();
    for (const e of byAgent.values()) deps.agentState.recordInfluxRejected(e.site, e.agent, e.n, rejection.reason, at);
    rejectLog.warn(`influx-rejected:${rejection.reason}`, { reason: rejection.reason, measurement: rejection.measurement, dropped: rejection.dropped, agents: [...byAgent.keys()].slice(0, 10), err: err.message.slice(0, 500) }, 'InfluxDB refused acknowledged points');
  };
}
