// Who a client is: step `authenticate` of the accept path (at CONNECT), the subscriptions an agent may make, and
// its connection in the agents' state. Refuse by default: only an enrolled `{site}/{agent}` with its token is known.
import type { Client, Subscription } from 'aedes';
import { parseAgentIdentity } from '../../protocol/index.ts';
import type { AgentStateTable } from '../agents/agent-state.ts';
import type { Registry } from '../agents/registry.ts';
import { AuthRefusedError, CONNACK } from '../broker/broker-hooks.ts';
import type { HubMetrics } from '../metrics.ts';
import type { RateLimitedLog } from '../../common/rate-limited-log.ts';
import { isOwnCommandFilter, type AgentIdentity } from './steps.ts';

export interface IdentitiesDeps {
  registry: Pick<Registry, 'verify'>;
  agentState: AgentStateTable;
  metrics: HubMetrics;
  /** The accept path's once-per-key warnings. */
  warnings: RateLimitedLog;
  now: () => number;
}

export class AgentIdentities {
  private readonly identities = new WeakMap<Client, AgentIdentity>();

  constructor(private readonly deps: IdentitiesDeps) {}

  of(client: Client | null): AgentIdentity | undefined {
    return client === null ? undefined : this.identities.get(client);
  }

  /** `{site}/{agent}` with its token, the client id equal to the username. */
  async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const identity = username === undefined ? null : parseAgentIdentity(username);
    if (identity === null) return this.refuse(client, CONNACK.badUsernameOrPassword, 'username must be {site}/{agent}');
    // The client id must be the identity, so one agent's credentials cannot knock another agent off.
    if (client.id !== username) return this.refuse(client, CONNACK.notAuthorized, 'client id must equal the username');
    if (password === undefined || !(await this.deps.registry.verify(identity.site, identity.agent, password.toString('utf8')))) {
      return this.refuse(client, CONNACK.badUsernameOrPassword, 'unknown agent or wrong token');
    }
    this.identities.set(client, identity);
  }

  private refuse(client: Client, code: (typeof CONNACK)[keyof typeof CONNACK], reason: string): never {
    this.deps.metrics.authFailures.inc();
    this.deps.warnings.warn(`auth:${client.id}`, { clientId: client.id, reason, remote: remoteAddress(client) }, 'connection refused');
    throw new AuthRefusedError(code, reason);
  }

  /** An agent subscribes to its own command topics only. */
  authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const identity = this.identities.get(client);
    if (identity !== undefined && isOwnCommandFilter(sub.topic, identity)) return sub;
    this.deps.metrics.subscribeDenied.inc();
    this.deps.warnings.warn(`sub:${client.id}`, { clientId: client.id, topic: sub.topic }, 'subscription refused');
    return null;
  }

  /** An MQTT connection opened (of an authenticated agent) or closed: the agent's `connected`. */
  connectionChanged(client: Client, connected: boolean): void {
    if (connected && this.of(client) === undefined) return;
    const id = parseAgentIdentity(client.id);
    if (id !== null) this.deps.agentState.setConnected(id.site, id.agent, connected, this.deps.now());
  }
}

function remoteAddress(client: Client): string | undefined {
  const conn: unknown = client.conn;
  if (typeof conn === 'object' && conn !== null && 'remoteAddress' in conn && typeof conn.remoteAddress === 'string') return conn.remoteAddress;
  return undefined;
}
