// The running hub and its registry database, both ways: another process's enroll, rotate and revoke (the CLI) are
// applied within a poll interval — a revoked agent's live connection is closed, and so is a rotated agent's if it
// authenticated with the token before — and the agents' reports (version, config revision, inventory) and last
// seen go into the registry for `ioc-hub agents list` and /api/agents.
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import type { AgentStateTable } from './agent-state.ts';
import type { AgentChange, Registry } from './registry.ts';

export interface FleetSyncDeps {
  registry: Registry;
  agentState: AgentStateTable;
  /** Closes the live connection of a client id; false when there is none. */
  closeClient: (clientId: string) => boolean;
  metrics: HubMetrics;
  logger: Logger;
  pollMs: number;
  lastSeenFlushMs: number;
  now?: () => number;
}

export interface FleetSync {
  stop(): void;
}

export function startFleetSync(deps: FleetSyncDeps): FleetSync {
  const { registry, agentState } = deps;
  const log = deps.logger.child({ component: 'fleet-sync' });
  const now = deps.now ?? Date.now;
  const closes = { revoked: 0, rotated: 0 };
  deps.metrics.addGauge({ name: 'ioc_hub_registry_reloads_total', help: "Times the hub read and applied another process's registry changes (the CLI's enroll, rotate, revoke)", read: () => registry.reloads });
  deps.metrics.addGauge({ name: 'ioc_hub_registry_changes_applied_total', help: "Agent changes (enroll, rotate, revoke) applied from another process or from this hub's API", read: () => registry.changesApplied });
  deps.metrics.addGauge({ name: 'ioc_hub_registry_reload_errors_total', help: 'Reads of the registry database that failed (retried at the next poll)', read: () => registry.reloadErrors });
  deps.metrics.addGauge({ name: 'ioc_hub_registry_report_write_errors_total', help: "Batched writes of the agents' reports and last seen that failed (retried with the next)", read: () => registry.reportWriteErrors });
  deps.metrics.addGauge({ name: 'ioc_hub_revoked_connections_closed_total', help: 'Live connections closed because their agent was revoked', read: () => closes.revoked });
  deps.metrics.addGauge({ name: 'ioc_hub_rotated_connections_closed_total', help: "Live connections closed because their agent's token was rotated", read: () => closes.rotated });

  registry.onAgentChange((change: AgentChange) => {
    const id = `${change.site}/${change.agent}`;
    const stale = change.tokenRev === undefined || (registry.verifiedRev(change.site, change.agent) ?? change.tokenRev) !== change.tokenRev;
    log.info({ agent: id, change: change.kind, tokenRev: change.tokenRev }, 'registry change applied');
    if (!stale || !deps.closeClient(id)) return;
    if (change.tokenRev === undefined) closes.revoked++;
    else closes.rotated++;
    log.warn({ agent: id, change: change.kind }, change.tokenRev === undefined ? 'connection of a revoked agent closed' : 'connection with a rotated token closed');
  });
  registry.watch(deps.pollMs);

  agentState.onEvent((e) => {
    if (e.kind === 'status') registry.noteStatus(e.site, e.agent, e.status, e.at);
    else registry.noteSeen(e.site, e.agent, e.at, e.connected);
  });
  // Connected agents' last seen, written every lastSeenFlushMs (their every message would be too many writes).
  const timer = setInterval(() => {
    const at = now();
    for (const s of agentState.list()) if (s.connected && s.lastSeen !== null) registry.noteSeen(s.site, s.agent, Math.min(at, s.lastSeen), true);
  }, deps.lastSeenFlushMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
