// MQTT policy of the hub as plain async functions: who may connect, publish where, subscribe to what.
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { cmdFilter, decodeBatch, decodeStatus, parseAgentIdentity, parseTopic, type Batch, type DecodeError } from '../protocol/index.ts';
import type { AgentStateTable } from './agent-state.ts';
import { AuthRefusedError, CONNACK, type BrokerPolicyHooks, type PublishVerdict } from './broker-hooks.ts';
import { agentPoint, deliveryPoint, enrichBatch } from './enrich.ts';
import { HubError, errorMessage } from './errors.ts';
import type { Ingest } from './ingest.ts';
import type { HubMetrics } from './metrics.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import type { Registry, Site } from './registry.ts';

export interface AgentIdentity {
  site: string;
  agent: string;
}

export interface BrokerPolicyDeps {
  registry: Pick<Registry, 'verify' | 'getSite'>;
  ingest: Pick<Ingest, 'submit'>;
  agentState: AgentStateTable;
  metrics: HubMetrics;
  limits: { readonly maxPayloadBytes: number; readonly maxTopicDepth: number };
  logger: Logger;
  /** Interval of the once-per-agent warnings. */
  logIntervalMs?: number;
  now?: () => number;
}

const AGENT_CHANNELS = new Set(['status', 'telemetry', 'event', 'cmd-result']);

export class BrokerPolicy implements BrokerPolicyHooks {
  private readonly identities = new WeakMap<Client, AgentIdentity>();
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;
  private readonly now: () => number;

  constructor(private readonly deps: BrokerPolicyDeps) {
    this.log = deps.logger.child({ component: 'broker-policy' });
    this.warnings = new RateLimitedLog(this.log, deps.logIntervalMs ?? 60_000);
    this.now = deps.now ?? Date.now;
  }

  identityOf(client: Client | null): AgentIdentity | undefined {
    return client === null ? undefined : this.identities.get(client);
  }

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
    this.warnings.warn(`auth:${client.id}`, { clientId: client.id, reason, remote: remoteAddress(client) }, 'connection refused');
    throw new AuthRefusedError(code, reason);
  }

  async authorizePublish(client: Client | null, packet: PublishPacket): Promise<PublishVerdict> {
    if (client === null) return 'allow'; // the hub's own publishes
    const identity = this.identities.get(client);
    if (identity === undefined) return this.deny(client.id, packet.topic, 'unauthenticated client');
    if (packet.topic.split('/').length > this.deps.limits.maxTopicDepth) return this.deny(client.id, packet.topic, 'topic too deep');
    const parsed = parseTopic(packet.topic);
    if (parsed === null || parsed.kind === 'alert' || !AGENT_CHANNELS.has(parsed.kind) || parsed.site !== identity.site || !('agent' in parsed) || parsed.agent !== identity.agent) {
      return this.deny(client.id, packet.topic, 'topic outside the agent’s own');
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (parsed.kind === 'telemetry' || parsed.kind === 'event') return this.ingestBatch(identity, payload);
    if (parsed.kind === 'status') {
      const decoded = decodeStatus(payload);
      return decoded.ok ? 'allow' : this.malformed(identity, decoded.error);
    }
    if (payload.byteLength > this.deps.limits.maxPayloadBytes) return this.malformed(identity, { code: 'E_PAYLOAD_TOO_LARGE', message: `${payload.byteLength} bytes` });
    return 'allow';
  }

  private async ingestBatch(identity: AgentIdentity, payload: Buffer): Promise<PublishVerdict> {
    const receivedAt = this.now();
    const decoded = decodeBatch(payload, this.deps.limits.maxPayloadBytes);
    if (!decoded.ok) return this.malformed(identity, decoded.error);
    const site = this.deps.registry.getSite(identity.site);
    if (site === undefined) return this.deny(`${identity.site}/${identity.agent}`, '', 'site no longer in the registry');
    this.deps.metrics.pointsReceived.inc(decoded.value.points.length);
    this.deps.agentState.touch(identity.site, identity.agent, receivedAt);
    this.recordClockOffset(site, identity.agent, decoded.value, receivedAt);
    this.recordDelivery(site, identity.agent, decoded.value, receivedAt);
    // PUBACK waits for this: the batch is acknowledged only once it is stored.
    await this.deps.ingest.submit(enrichBatch(decoded.value, site, identity.agent));
    return 'allow';
  }

  private recordClockOffset(site: Site, agent: string, batch: Batch, receivedAt: number): void {
    const offset = receivedAt - batch.sentAt;
    if (!this.deps.agentState.recordClockOffset(site.slug, agent, offset, receivedAt)) return;
    this.deps.ingest.submit([agentPoint(site, agent, { clock_offset_ms: offset }, receivedAt)]).catch((err: unknown) => {
      this.warnings.warn(`offset:${site.slug}/${agent}`, { site: site.slug, agent, err: errorMessage(err) }, 'clock offset not written');
    });
  }

  /** Live/late points, backlog and completeness: a `delivery` point at the hub's time when due (never on the agent's points). */
  private recordDelivery(site: Site, agent: string, batch: Batch, receivedAt: number): void {
    const fields = this.deps.agentState.delivery.record(site.slug, agent, batch, receivedAt);
    if (fields === undefined) return;
    this.deps.ingest.submit([deliveryPoint(site, agent, { ...fields }, receivedAt)]).catch((err: unknown) => {
      this.warnings.warn(`delivery:${site.slug}/${agent}`, { site: site.slug, agent, err: errorMessage(err) }, 'delivery point not written');
    });
  }

  private malformed(identity: AgentIdentity, error: Pick<DecodeError, 'code' | 'message'>): PublishVerdict {
    this.deps.metrics.batchesRejected.inc(1, error.code);
    const who = `${identity.site}/${identity.agent}`;
    this.warnings.warn(`malformed:${who}`, { ...identity, code: error.code, reason: error.message }, 'malformed payload acknowledged and dropped');
    return 'drop';
  }

  private deny(who: string, topic: string, reason: string): never {
    this.deps.metrics.publishDenied.inc();
    this.warnings.warn(`deny:${who}`, { clientId: who, topic, reason }, 'publish denied; closing connection');
    throw new HubError('E_PUBLISH_DENIED', `publish to ${topic} denied: ${reason}`);
  }

  async authorizeSubscribe(client: Client, sub: Subscription): Promise<Subscription | null> {
    const identity = this.identities.get(client);
    if (identity !== undefined && isOwnCommandFilter(sub.topic, identity)) return sub;
    this.deps.metrics.subscribeDenied.inc();
    this.warnings.warn(`sub:${client.id}`, { clientId: client.id, topic: sub.topic }, 'subscription refused');
    return null;
  }
}

function isOwnCommandFilter(filter: string, id: AgentIdentity): boolean {
  const own = cmdFilter(id.site, id.agent); // ioc/v1/{site}/{agent}/cmd/#
  if (filter === own) return true;
  const prefix = own.slice(0, -1);
  const rest = filter.startsWith(prefix) ? filter.slice(prefix.length) : '';
  return rest === '+' || /^[A-Za-z0-9_.-]{1,128}$/.test(rest);
}

function remoteAddress(client: Client): string | undefined {
  const conn: unknown = client.conn;
  if (typeof conn === 'object' && conn !== null && 'remoteAddress' in conn && typeof conn.remoteAddress === 'string') return conn.remoteAddress;
  return undefined;
}
