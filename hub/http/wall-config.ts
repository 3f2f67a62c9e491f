// Config of the wall (`wall:` in hub.yaml): the freshness bounds of a commune's tile state (site-state.ts), the
// headline figures read from InfluxDB, and the probe target that stands for the public-service portal.
import { z } from 'zod';
import { durationSchema } from '../alerts/duration.ts';

export const wallConfigSchema = z.strictObject({
  /** Live data younger than this makes a tile current; older: blind (Grafana's wall uses the same 5 min). */
  freshFor: durationSchema.prefault('5m'),
  /** A site known down (agent offline) stays down this long after its last contact, then blind. */
  downFor: durationSchema.prefault('15m'),
  /** The figures read from InfluxDB (tickets today, waiting time, portal reachability) are kept this long. */
  figuresCache: durationSchema.prefault('15s'),
  /** The net_probe `target` of the public-service portal ("reachable from N communes"). */
  portalTarget: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('portal'),
  /** Open incidents listed on the wall's incidents view (the count is always the whole). */
  maxIncidents: z.int().min(1).max(500).default(50),
});

export type WallConfig = z.output<typeof wallConfigSchema>;
