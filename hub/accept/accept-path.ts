// MQTT policy of the hub as plain async functions: who may connect, publish where, subscribe to what.
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { applyContract, cmdFilter, decodeBatch, decodeStatus, parseAgentIdentity, parseTopic, type Batch, type DecodeError, type Point } from '../../protocol/index.ts';
import type { AgentStateTable } from '../agents/agent-state.ts';
import { IssuedCommands, SeriesBudget, TokenBucket, seriesKey } from './budgets.ts';
import { AuthRefusedError, CONNACK, type BrokerPolicyHooks, type PublishVerdict } from '../broker/broker-hooks.ts';
import { agentPoint, deliveryPoint, enrichBatch } from './enrich.ts';
import { HubError, errorMessage } from '../errors.ts';
import type { Ingest } from '../write/ingest.ts';
import type { HubMetrics } from '../metrics.ts';
import { RateLimitedLog } from '../rate-limited-log.ts';
import type { Registry, Site } from '../agents/registry.ts';

export interface AgentIdentity {
  site: string;
  agent: string;
}

/** The per-agent budgets the policy enforces (hub config `budgets`). */
export interface PolicyBudgets {
  readonly pointsPerS: number;
  readonly pointsBurst: number;
  readonly bytesPerS: number;
  readonly bytesBurst: number;
  readonly maxHoldMs: number;
  readonly seriesPerDay: number;
  readonly spoolShareBytes: number;
}

export const DEFAULT_POLICY_BUDGETS: PolicyBudgets = {
  pointsPerS: 5000,
  pointsBurst: 10_000,
  bytesPerS: 1024 * 1024,
  bytesBurst: 2 * 1024 * 1024,
  maxHoldMs: 30_000,
  seriesPerDay: 2000,
  spoolShareBytes: 64 * 1024 * 1024,
};

export interface BrokerPolicyDeps {
  registry: Pick<Registry, 'verify' | 'getSite'>;
  ingest: Pick<Ingest, 'submit'>;
  agentState: AgentStateTable;
  metrics: HubMetrics;
  limits: {
    readonly maxPayloadBytes: number;
    readonly maxTopicDepth: number;
    /** Accepted reading times: hub clock − maxPastMs … hub clock + maxFutureMs. */
    readonly maxFutureMs?: number;
    readonly maxPastMs?: number;
  };
  budgets?: PolicyBudgets;
  /** Bytes of an agent (`site/agent`) in the durable spool now (the spool share budget). */
  spoolBytesOf?: (key: string) => number;
  /** Command ids the hub issued: only their results are accepted on cmd-result. */
  issuedCommands?: IssuedCommands;
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
  private readonly budgets: PolicyBudgets;
  private readonly buckets = new Map<string, { points: TokenBucket; bytes: TokenBucket }>();
  private readonly series: SeriesBudget;
  readonly issuedCommands: IssuedCommands;

  constructor(private readonly deps: BrokerPolicyDeps) {
    this.log = deps.logger.child({ component: 'broker-policy' });
    this.warnings = new RateLimitedLog(this.log, deps.logIntervalMs ?? 60_000);
    this.now = deps.now ?? Date.now;
    this.budgets = deps.budgets ?? DEFAULT_POLICY_BUDGETS;
    this.series = new SeriesBudget(this.budgets.seriesPerDay);
    this.issuedCommands = deps.issuedCommands ?? new IssuedCommands();
  }

  /** Distinct series of an agent today (its series budget). */
  seriesToday(site: string, agent: string): number {
    return this.series.count(`${site}/${agent}`);
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
    // Retained messages are the agent's status only: one per agent, of a bounded size (decodeStatus).
    if (packet.retain && parsed.kind !== 'status') {
      this.deps.metrics.retainRefused.inc();
      this.warnings.warn(`retain:${client.id}`, { clientId: client.id, topic: packet.topic }, 'retain flag refused (status only)');
      packet.retain = false;
    }
    await this.holdForRate(identity, 'bytes', payload.byteLength);
    if (parsed.kind === 'telemetry' || parsed.kind === 'event') return this.ingestBatch(identity, payload);
    if (parsed.kind === 'status') {
      const decoded = decodeStatus(payload);
      return decoded.ok ? 'allow' : this.malformed(identity, decoded.error);
    }
    if (payload.byteLength > this.deps.limits.maxPayloadBytes) return this.malformed(identity, { code: 'E_PAYLOAD_TOO_LARGE', message: `${payload.byteLength} bytes` });
    // cmd-result: only for a command the hub issued to this agent (the hub issues none today: all are dropped).
    if (parsed.kind === 'cmd-result' && !this.issuedCommands.take(identity.site, identity.agent, parsed.id, this.now())) {
      this.deps.metrics.cmdResultRefused.inc();
      this.warnings.warn(`cmd-result:${client.id}`, { clientId: client.id, id: parsed.id }, 'cmd-result for a command the hub did not issue; dropped');
      return 'drop';
    }
    return 'allow';
  }

  /**
   * Holds the PUBACK while the agent is over its rate budget (only its own socket waits: Aedes reads a
   * client's next packets once these are handled); past `maxHoldMs` refuses the publish unacknowledged.
   */
  private async holdForRate(identity: AgentIdentity, kind: 'points' | 'bytes', amount: number): Promise<void> {
    const key = `${identity.site}/${identity.agent}`;
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      const { pointsPerS, pointsBurst, bytesPerS, bytesBurst } = this.budgets;
      b = { points: new TokenBucket({ perS: pointsPerS, burst: pointsBurst }, now), bytes: new TokenBucket({ perS: bytesPerS, burst: bytesBurst }, now) };
      this.buckets.set(key, b);
    }
    const verdict = b[kind].take(amount, now, this.budgets.maxHoldMs);
    if (verdict.kind === 'refuse') {
      this.budgetHit(identity, 'rate_refused');
      this.deny(key, '', `over the ${kind} budget (${Math.round(verdict.waitMs)} ms behind)`);
    }
    if (verdict.waitMs <= 0) return;
    this.budgetHit(identity, 'rate_held');
    await new Promise((resolve) => setTimeout(resolve, verdict.waitMs));
  }

  private budgetHit(identity: AgentIdentity, budget: string, n = 1): void {
    this.deps.metrics.budgetHits.inc(n, budget);
    this.deps.agentState.recordBudgetHit(identity.site, identity.agent, budget, n);
    this.warnings.warn(`budget:${budget}:${identity.site}/${identity.agent}`, { ...identity, budget, n }, 'agent over its budget');
  }

  private timeWindow(now: number): { min: number; max: number } {
    const past = this.deps.limits.maxPastMs;
    return { min: past === undefined ? 0 : now - past, max: now + (this.deps.limits.maxFutureMs ?? 600_000) };
  }

  private async ingestBatch(identity: AgentIdentity, payload: Buffer): Promise<PublishVerdict> {
    const receivedAt = this.now();
    const decoded = decodeBatch(payload, this.deps.limits.maxPayloadBytes);
    if (!decoded.ok) return this.malformed(identity, decoded.error);
    const site = this.deps.registry.getSite(identity.site);
    if (site === undefined) return this.deny(`${identity.site}/${identity.agent}`, '', 'site no longer in the registry');
    const key = `${identity.site}/${identity.agent}`;
    await this.holdForRate(identity, 'points', decoded.value.points.length);
    // Spool share: while InfluxDB is away this agent may not fill the spool past its share; refused
    // before the ack (the agent keeps the batch and resends), so no one's acknowledged batch is evicted.
    const spooled = this.deps.spoolBytesOf?.(key) ?? 0;
    if (spooled > 0 && spooled + payload.byteLength > this.budgets.spoolShareBytes) {
      this.budgetHit(identity, 'spool_refused');
      this.deny(key, '', `over its spool share (${spooled} bytes spooled)`);
    }
    this.deps.metrics.pointsReceived.inc(decoded.value.points.length);
    this.deps.agentState.touch(identity.site, identity.agent, receivedAt);
    this.recordClockOffset(site, identity.agent, decoded.value, receivedAt);
    this.recordDelivery(site, identity.agent, decoded.value, receivedAt);
    const accepted = this.admitPoints(identity, decoded.value.points, receivedAt);
    if (accepted.length === 0) return 'drop';
    // PUBACK waits for this: the batch is acknowledged only once it is stored.
    await this.deps.ingest.submit(enrichBatch({ ...decoded.value, points: accepted }, site, identity.agent), key);
    return 'allow';
  }

  /** The data contract and the series budget, per point: refused points are counted, the rest goes on. */
  private admitPoints(identity: AgentIdentity, points: readonly Point[], now: number): Point[] {
    const outcome = applyContract(points, this.timeWindow(now));
    const key = `${identity.site}/${identity.agent}`;
    let overSeries = 0;
    const accepted = outcome.accepted.filter((p) => {
      if (this.series.admit(key, seriesKey(p.m, p.tags), now)) return true;
      overSeries++;
      return false;
    });
    const refused = new Map<string, number>(outcome.refused);
    if (overSeries > 0) {
      refused.set('series_budget', overSeries);
      this.budgetHit(identity, 'series', overSeries);
    }
    if (refused.size === 0) return accepted;
    for (const [reason, n] of refused) this.deps.metrics.pointsRefused.inc(n, reason);
    this.deps.agentState.recordRefused(identity.site, identity.agent, refused, outcome.clockRefused, now);
    const reasons = Object.fromEntries(refused);
    if (outcome.clockRefused !== undefined) {
      this.warnings.warn(`clock:${key}`, { ...identity, ...outcome.clockRefused, window: this.timeWindow(now) }, 'readings outside the time window refused: agent clock problem');
    } else {
      this.warnings.warn(`contract:${key}`, { ...identity, refused: reasons }, 'points refused by the data contract');
    }
    return accepted;
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
