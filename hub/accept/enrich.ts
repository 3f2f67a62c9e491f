// Turns an agent's batch into storable points with the hub's tags (site, agent, province, area).
import { storedMeasurement, type Point } from '../../protocol/index.ts';
import type { Site } from '../agents/registry.ts';
import { BatchPoint, hubTagSet } from '../write/line-protocol.ts';
import type { HubPoint } from '../write/sink.ts';

/** No `area` tag when the site has no district (InfluxDB refuses an empty tag value; absent reads as empty in GROUP BY). */
export function hubTags(site: Site, agent: string): Record<string, string> {
  return { site: site.slug, agent, province: site.province, ...(site.area === '' ? {} : { area: site.area }) };
}

/**
 * The stored points of an agent's accepted points, without copying them: each is a BatchPoint over the decoded
 * point's fields, its tags merged with the hub's (shared as they are when the agent sent none), and the hub tags
 * encoded once for the batch's line protocol.
 */
export function enrichPoints(points: readonly Point[], site: Site, agent: string): HubPoint[] {
  const hub = hubTagSet(hubTags(site, agent));
  const out = new Array<HubPoint>(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === undefined) continue;
    // The stored name is a fixed function of the wire name (agent_report → agent), so a replay writes the same point.
    out[i] = new BatchPoint(storedMeasurement(p.m), p.tags, hub, p.fields, p.t);
  }
  return out;
}

/** A point of the hub's own `agent` measurement, stamped with the hub's clock. */
export function agentPoint(site: Site, agent: string, fields: HubPoint['fields'], at: number): HubPoint {
  return { measurement: 'agent', tags: hubTags(site, agent), fields, timestamp: at };
}

/** A point of the hub's own `delivery` measurement (backfill and completeness of one agent), stamped with the hub's clock. */
export function deliveryPoint(site: Site, agent: string, fields: HubPoint['fields'], at: number): HubPoint {
  return { measurement: 'delivery', tags: hubTags(site, agent), fields, timestamp: at };
}
