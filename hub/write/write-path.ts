// The one way into the write path (ingest → spool → InfluxDB): an agent's accepted batch, or the hub's own points.
import { HUB_KEY, type Ingest } from './ingest.ts';
import type { HubPoint } from './sink.ts';

export interface WritePath {
  /**
   * An agent's accepted points, under its own key (`site/agent`: its own pending bound, its fair share of each
   * write). Resolves once they are in InfluxDB or the spool — the PUBACK waits for it; rejects when the write failed.
   */
  submitAgentBatch(agentKey: string, points: readonly HubPoint[]): Promise<void>;
  /** The hub's own points (`agent` status and clock offset, `delivery`, `alert`), under the hub's key. */
  submitHubPoints(points: readonly HubPoint[]): Promise<void>;
}

export function writePath(ingest: Pick<Ingest, 'submit'>): WritePath {
  return {
    submitAgentBatch: (agentKey, points) => ingest.submit(points, agentKey),
    submitHubPoints: (points) => ingest.submit(points, HUB_KEY),
  };
}
