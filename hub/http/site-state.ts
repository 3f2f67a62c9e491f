// The state of a commune's tile on the wall, computed once on the hub (so /api/sites and /api/wall agree), from
// what the hub holds in memory: its agents' connection, status, last live and late data and backlog, the site's
// active alerts and maintenance windows. Pure: the caller passes the clock.
//
// Precedence (the first that holds wins):
//   1. maintenance — a maintenance window (API silence of kind maintenance, or the rules file's) covers the whole
//      site now: planned work, not an outage.
//   2. blind       — no agent of the site seen since the hub started (never green for a commune never heard from).
//   3. down        — every agent is offline (last will / status offline / connection closed) or an alert of a rule
//      that marks the site down is active — while the last contact is younger than `downForMs`; older: blind
//      (nothing fresh is known of the office any more).
//   4. backfilling — an online agent reports a backlog, or sent late (replayed) points within the last minute (or
//      `freshForMs` when shorter): a replay is over once no late batch came for that long — the few batches an agent
//      queued while it connected must not keep a tile "backfilling" for the whole freshness bound.
//   5. blind       — no live data younger than `freshForMs` (a status alone is not data).
//   6. degraded    — an active (firing or acknowledged) warning or critical alert of the site (probe loss and
//      latency count through their rules), one of several agents offline, or an agent's clock refused readings.
//   7. up          — live data younger than `freshForMs` and none of the above.

export const SITE_STATES = ['up', 'degraded', 'down', 'blind', 'backfilling', 'maintenance'] as const;
export type SiteState = (typeof SITE_STATES)[number];

/** Why the state is what it is (a short code the console translates). */
export type SiteStateReason =
  | 'maintenance'
  | 'never-seen'
  | 'agent-offline'
  | 'site-down-alert'
  | 'stale'
  | 'backlog'
  | 'late-data'
  | 'alert'
  | 'agent-partly-offline'
  | 'clock'
  | 'fresh';

export interface SiteStatePolicy {
  /** Live data younger than this is current; older: blind. */
  freshForMs: number;
  /** A site known down stays down this long after its last contact, then turns blind. */
  downForMs: number;
}

export const DEFAULT_SITE_STATE_POLICY: SiteStatePolicy = { freshForMs: 5 * 60_000, downForMs: 15 * 60_000 };

export interface AgentStateInput {
  /** The agent's status says online. */
  online: boolean;
  /** An MQTT connection of the agent is open now. */
  connected: boolean;
  /** Hub time of the last contact of any kind (status, batch, connect, disconnect), epoch ms. */
  lastSeen: number | null;
  /** Hub time of the last live (not replayed) batch, epoch ms. */
  lastLiveAt: number | null;
  /** Hub time of the last replayed (late) batch, epoch ms. */
  lastLateAt: number | null;
  /** Batches the agent reports it still has to send. */
  backlog: number | null;
  clockProblem: boolean;
}

export interface SiteAlertsInput {
  /** An active alert of a rule that marks the site down (agent-offline). */
  siteDown: boolean;
  /** Active (firing or acknowledged) alerts of the site of severity warning or critical. */
  warnings: number;
  /** A maintenance window covers the site now. */
  maintenance: boolean;
}

export interface SiteStateResult {
  state: SiteState;
  reason: SiteStateReason;
}

const NO_ALERTS: SiteAlertsInput = { siteDown: false, warnings: 0, maintenance: false };

/** A replay is over once no late batch came for this long. */
export const REPLAY_QUIET_MS = 60_000;

const offline = (a: AgentStateInput): boolean => !a.online || !a.connected;
const within = (t: number | null, boundMs: number, now: number): boolean => t !== null && now - t <= boundMs;
const newest = (values: readonly (number | null)[]): number | null => values.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null);

export function siteState(agents: readonly AgentStateInput[], alerts: SiteAlertsInput = NO_ALERTS, policy: SiteStatePolicy = DEFAULT_SITE_STATE_POLICY, now: number = Date.now()): SiteStateResult {
  if (alerts.maintenance) return { state: 'maintenance', reason: 'maintenance' };
  const lastContact = newest(agents.map((a) => a.lastSeen));
  if (lastContact === null) return { state: 'blind', reason: 'never-seen' };
  const seen = agents.filter((a) => a.lastSeen !== null);
  const allOffline = seen.every(offline);
  if (allOffline || alerts.siteDown) {
    if (!within(lastContact, policy.downForMs, now)) return { state: 'blind', reason: 'stale' };
    return { state: 'down', reason: allOffline ? 'agent-offline' : 'site-down-alert' };
  }
  const live = seen.filter((a) => !offline(a));
  if (live.some((a) => (a.backlog ?? 0) > 0)) return { state: 'backfilling', reason: 'backlog' };
  if (live.some((a) => within(a.lastLateAt, Math.min(policy.freshForMs, REPLAY_QUIET_MS), now))) return { state: 'backfilling', reason: 'late-data' };
  if (!within(newest(live.map((a) => a.lastLiveAt)), policy.freshForMs, now)) return { state: 'blind', reason: 'stale' };
  if (alerts.warnings > 0) return { state: 'degraded', reason: 'alert' };
  // An enrolled agent never seen, or one of two offline: the office is only partly watched.
  if (agents.some(offline)) return { state: 'degraded', reason: 'agent-partly-offline' };
  if (live.some((a) => a.clockProblem)) return { state: 'degraded', reason: 'clock' };
  return { state: 'up', reason: 'fresh' };
}
