// An agent's status (its retained status or its last will), once decoded by the accept path: into the state
// table and the hub's `agent` measurement.
import type { Logger } from 'pino';
import type { Status } from '../../protocol/index.ts';
import type { AgentStateTable } from '../agents/agent-state.ts';
import type { Site } from '../agents/registry.ts';
import { errorMessage } from '../errors.ts';
import { RateLimitedLog } from '../../common/rate-limited-log.ts';
import type { WritePath } from '../write/write-path.ts';
import { agentPoint } from './enrich.ts';

export interface StatusDeps {
  agentState: AgentStateTable;
  write: Pick<WritePath, 'submitHubPoints'>;
  logger: Logger;
}

export type ApplyStatus = (site: Site, agent: string, status: Status, at: number) => void;

/**
 * The last step of a status publish. Aedes runs authorizePublish for an agent's own publishes and for the will
 * it publishes on an unclean disconnect alike, so both arrive here, each decoded once.
 */
export function statusApplier(deps: StatusDeps): ApplyStatus {
  const log = deps.logger.child({ component: 'status-watch' });
  const warnings = new RateLimitedLog(log);
  return (site, agent, status, at) => {
    deps.agentState.applyStatus(site.slug, agent, status, at);
    log.info({ site: site.slug, agent, online: status.online, version: status.version }, 'agent status');
    deps.write.submitHubPoints([agentPoint(site, agent, { online: status.online }, at)]).catch((err: unknown) => {
      warnings.warn(`status:${site.slug}/${agent}`, { site: site.slug, agent, err: errorMessage(err) }, 'agent status point not written');
    });
  };
}
