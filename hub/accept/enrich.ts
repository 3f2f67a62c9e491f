// Turns an agent's batch into storable points with the hub's tags (site, agent, province, area).
import { storedMeasurement, type Batch } from '../../protocol/index.ts';
import type { Site } from '../agents/registry.ts';
import type { HubPoint } from '../write/sink.ts';

/** No `area` tag when the site has no district (InfluxDB refuses an empty tag value; absent reads as empty in GROUP BY). */
export function hubTags(site: Site, agent: string): Record<string, string> {
  return { site: site.slug, agent, province: site.province, ...(site.area === '' ? {} : { area: site.area }) };
}

export function enrichBatch(batch: Batch, site: Site, agent: string): HubPoint[] {
  const tags = hubTags(site, agent);
  // Hub tags last: they win over anything (the schema already refuses them from agents). The stored
  // name is a fixed function of the wire name (agent_report → agent), so a replay writes the same point.
  return batch.points.map((p) => ({ measurement: storedMeasurement(p.m), tags: { ...p.tags, ...tags }, fields: p.fields, timestamp: p.t }));
}

/** A point of the hub's own `agent` measurement, stamped with the hub's clock. */
export function agentPoint(site: Site, agent: string, fields: HubPoint['fields'], at: number): HubPoint {
  return { measurement: 'agent', tags: hubTags(site, agent), fields, timestamp: at };
}

/** A point of the hub's own `delivery` measurement (backfill and completeness of one agent), stamped with the hub's clock. */
export function deliveryPoint(site: Site, agent: string, fields: HubPoint['fields'], at: number): HubPoint {
  return { measurement: 'delivery', tags: hubTags(site, agent), fields, timestamp: at };
}
