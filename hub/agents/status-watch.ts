// Follows agent status messages (retained status and last wills alike) into the state table and the `agent` measurement.
import type { AedesPublishPacket, Client } from 'aedes';
import type { Logger } from 'pino';
import { decodeStatus, parseTopic } from '../../protocol/index.ts';
import type { AgentStateTable } from './agent-state.ts';
import { agentPoint } from '../accept/enrich.ts';
import { errorMessage } from '../errors.ts';
import type { Ingest } from '../write/ingest.ts';
import { RateLimitedLog } from '../rate-limited-log.ts';
import type { Registry } from './registry.ts';

export interface StatusWatchDeps {
  registry: Pick<Registry, 'getSite'>;
  ingest: Pick<Ingest, 'submit'>;
  agentState: AgentStateTable;
  logger: Logger;
  now?: () => number;
}

/**
 * Handler for Aedes' 'publish' event. That event fires after routing for client publishes and for
 * the will Aedes publishes itself on an unclean disconnect (which also passed authorizePublish).
 */
export function statusWatcher(deps: StatusWatchDeps): (packet: AedesPublishPacket, client: Client | null) => void {
  const log = deps.logger.child({ component: 'status-watch' });
  const warnings = new RateLimitedLog(log);
  const now = deps.now ?? Date.now;
  return (packet) => {
    const parsed = parseTopic(packet.topic);
    if (parsed === null || parsed.kind !== 'status') return;
    const decoded = decodeStatus(typeof packet.payload === 'string' ? packet.payload : new Uint8Array(packet.payload));
    const site = deps.registry.getSite(parsed.site);
    if (!decoded.ok || site === undefined) return;
    const at = now();
    deps.agentState.applyStatus(parsed.site, parsed.agent, decoded.value, at);
    log.info({ site: parsed.site, agent: parsed.agent, online: decoded.value.online, version: decoded.value.version }, 'agent status');
    deps.ingest.submit([agentPoint(site, parsed.agent, { online: decoded.value.online }, at)]).catch((err: unknown) => {
      warnings.warn(`status:${parsed.site}/${parsed.agent}`, { site: parsed.site, agent: parsed.agent, err: errorMessage(err) }, 'agent status point not written');
    });
  };
}
