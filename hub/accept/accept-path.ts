// The accept path: who may connect, publish where, subscribe to what, and what of a batch is stored — as
// plain async functions behind the broker's hooks. A publish runs a named list of steps (steps.ts holds
// their pure decisions); the first refusal ends it and becomes its counter, its log line and the MQTT outcome.
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { parseTopic, type Batch, type Point } from '../../protocol/index.ts';
import type { AgentStateTable } from '../agents/agent-state.ts';
import type { Registry, Site } from '../agents/registry.ts';
import type { BrokerPolicyHooks, PublishVerdict } from '../broker/broker-hooks.ts';
import { HubError, errorMessage } from '../errors.ts';
import type { HubMetrics } from '../metrics.ts';
import { RateLimitedLog } from '../../common/rate-limited-log.ts';
import type { HubPoint } from '../write/sink.ts';
import type { WritePath } from '../write/write-path.ts';
import { DEFAULT_POLICY_BUDGETS, IssuedCommands, RateBuckets, SeriesBudget, type PolicyBudgets } from './budgets.ts';
import { AgentIdentities } from './identities.ts';
import { agentPoint, deliveryPoint, enrichPoints } from './enrich.ts';
import { statusApplier, type ApplyStatus } from './status.ts';
import * as step from './steps.ts';
import type { AgentIdentity, AgentTopic, Refusal } from './steps.ts';

export type { AgentIdentity } from './steps.ts';
export { DEFAULT_POLICY_BUDGETS, type PolicyBudgets } from './budgets.ts';

export interface AcceptPathDeps {
  registry: Pick<Registry, 'verify' | 'getSite'>;
  write: WritePath;
  agentState: AgentStateTable;
  metrics: HubMetrics;
  limits: step.TimeLimits & { readonly maxPayloadBytes: number; readonly maxTopicDepth: number };
  budgets?: PolicyBudgets;
  /** Bytes of an agent (`site/agent`) in the durable spool now (the spool share budget). */
  spoolBytesOf?: (key: string) => number;
  /** Command ids the hub issued: only their results are accepted on cmd-result. */
  issuedCommands?: IssuedCommands;
  /** A cmd-result for an id the hub issued to this agent (hub/agents/commands.ts settles the command). */
  onCommandResult?: (site: string, agent: string, id: string, payload: Buffer) => void;
  logger: Logger;
  /** Interval of the once-per-agent warnings. */
  logIntervalMs?: number;
  now?: () => number;
}

/** One publish of an agent on its way through the steps. */
interface Message {
  readonly identity: AgentIdentity;
  /** `site/agent`: the agent's budgets, its ingest key, its warnings. */
  readonly key: string;
  readonly topic: AgentTopic;
  readonly packet: PublishPacket;
  readonly payload: Buffer;
}

/** A telemetry or event batch, once decoded and its site found. */
interface BatchMessage extends Message {
  readonly receivedAt: number;
  readonly batch: Batch;
  readonly site: Site;
  /** The batch's points still accepted (the contract and the series budget narrow it). */
  accepted: readonly Point[];
}

/** A named step (the names hub/README.md uses): undefined passes the message on, a refusal ends its way. */
type Step<M> = readonly [name: string, run: (msg: M) => Promise<Refusal | undefined> | Refusal | undefined];

export class AcceptPath implements BrokerPolicyHooks {
  private readonly identities: AgentIdentities;
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;
  private readonly now: () => number;
  private readonly budgets: PolicyBudgets;
  private readonly rates: RateBuckets;
  private readonly series: SeriesBudget;
  private readonly applyStatus: ApplyStatus;
  readonly issuedCommands: IssuedCommands;

  /** Every publish of an authenticated agent on its own topic (step `topic`), in order. */
  private readonly publishSteps: readonly Step<Message>[] = [
    ['retain', (m) => this.clearRetain(m)],
    ['bytes budget', (m) => this.holdForRate(m, 'bytes', m.payload.byteLength)],
    ['channel', (m) => this.runChannel(m)],
  ];

  /** A telemetry or event batch after step `decode` (once) and step `site`. */
  private readonly batchSteps: readonly Step<BatchMessage>[] = [
    ['points budget', (m) => this.holdForRate(m, 'points', m.batch.points.length)],
    ['spool share', (m) => this.checkSpoolShare(m)],
    ['arrival', (m) => this.recordArrival(m)],
    ['contract + time window, series budget', (m) => this.admitPoints(m)],
    ['enrich + write', (m) => this.enrichAndWrite(m)],
  ];

  constructor(private readonly deps: AcceptPathDeps) {
    this.log = deps.logger.child({ component: 'broker-policy' });
    this.warnings = new RateLimitedLog(this.log, deps.logIntervalMs ?? 60_000);
    this.now = deps.now ?? Date.now;
    this.budgets = deps.budgets ?? DEFAULT_POLICY_BUDGETS;
    this.rates = new RateBuckets(this.budgets);
    this.series = new SeriesBudget(this.budgets.seriesPerDay);
    this.issuedCommands = deps.issuedCommands ?? new IssuedCommands();
    this.identities = new AgentIdentities({ registry: deps.registry, agentState: deps.agentState, metrics: deps.metrics, warnings: this.warnings, now: this.now });
    this.applyStatus = statusApplier({ agentState: deps.agentState, write: deps.write, logger: deps.logger });
  }

  /** Distinct series of an agent today (its series budget). */
  seriesToday(site: string, agent: string): number {
    return this.series.count(`${site}/${agent}`);
  }

  identityOf(client: Client | null): AgentIdentity | undefined {
    return this.identities.of(client);
  }

  /** An MQTT connection opened or closed (the broker's `onConnection`). */
  connectionChanged(client: Client, connected: boolean): void {
    this.identities.connectionChanged(client, connected);
  }

  /** Step `authenticate`, at CONNECT (identities.ts). */
  authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    return this.identities.authenticate(client, username, password);
  }

  async authorizeSubscribe(client: Client, sub: Subscription): Promise<Subscription | null> {
    return this.identities.authorizeSubscribe(client, sub);
  }

  async authorizePublish(client: Client | null, packet: PublishPacket): Promise<PublishVerdict> {
    if (client === null) return this.hubPublish(packet);
    const checked = step.checkTopic(this.identities.of(client), packet.topic, this.deps.limits.maxTopicDepth);
    if (!checked.ok) return this.deny(client.id, packet.topic, checked.refusal);
    const { identity, topic } = checked.value;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const msg: Message = { identity, key: `${identity.site}/${identity.agent}`, topic, packet, payload };
    const refusal = await runSteps(this.publishSteps, msg);
    if (refusal === undefined) return 'allow';
    if (refusal.action === 'deny') return this.deny(msg.key, packet.topic, refusal);
    if (refusal.action === 'malformed') return this.malformed(identity, refusal);
    return 'drop';
  }

  /**
   * The hub's own publishes, and the wills Aedes publishes for the clients of a broker that died (clustered
   * persistence): a status among them is applied like an agent's.
   */
  private hubPublish(packet: PublishPacket): PublishVerdict {
    const parsed = parseTopic(packet.topic);
    if (parsed?.kind !== 'status') return 'allow';
    const status = step.decodeAgentStatus(typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
    const site = this.deps.registry.getSite(parsed.site);
    if (status.ok && site !== undefined) this.applyStatus(site, parsed.agent, status.value, this.now());
    return 'allow';
  }

  /** Step `retain`: cleared (and counted) on anything but the agent's status. */
  private clearRetain(m: Message): undefined {
    if (!m.packet.retain || step.retainAllowed(m.topic)) return undefined;
    this.deps.metrics.retainRefused.inc();
    this.warnings.warn(`retain:${m.key}`, { clientId: m.key, topic: m.packet.topic }, 'retain flag refused (status only)');
    m.packet.retain = false;
    return undefined;
  }

  /** Step `channel`: the channel's own steps. */
  private async runChannel(m: Message): Promise<Refusal | undefined> {
    switch (m.topic.kind) {
      case 'telemetry':
      case 'event':
        return this.acceptBatch(m);
      case 'status':
        return this.acceptStatus(m);
      case 'cmd-result':
        return this.acceptCmdResult(m, m.topic.id);
    }
  }

  /** Steps `decode` (once) and `site` of a batch, then the batch steps. */
  private async acceptBatch(m: Message): Promise<Refusal | undefined> {
    const receivedAt = this.now();
    const decoded = step.decodeAgentBatch(m.payload, this.deps.limits.maxPayloadBytes);
    if (!decoded.ok) return decoded.refusal;
    const site = step.requireSite(this.deps.registry.getSite(m.identity.site));
    if (!site.ok) return site.refusal;
    return runSteps(this.batchSteps, { ...m, receivedAt, batch: decoded.value, site: site.value, accepted: decoded.value.points });
  }

  private checkSpoolShare(m: BatchMessage): Refusal | undefined {
    const share = step.checkSpoolShare(this.deps.spoolBytesOf?.(m.key) ?? 0, m.payload.byteLength, this.budgets.spoolShareBytes);
    return share.ok ? undefined : this.budgetRefusal(m.identity, share.refusal);
  }

  /** Step `arrival`: the agent was seen; its clock offset and its delivery (live/late, backlog) are recorded. */
  private recordArrival(m: BatchMessage): undefined {
    this.deps.metrics.pointsReceived.inc(m.batch.points.length);
    this.deps.agentState.touch(m.identity.site, m.identity.agent, m.receivedAt);
    this.recordClockOffset(m.site, m.identity.agent, m.batch, m.receivedAt);
    this.recordDelivery(m.site, m.identity.agent, m.batch, m.receivedAt);
    return undefined;
  }

  /** Steps `contract + time window` and `series budget`: refused points are counted and reported, the rest go on. */
  private admitPoints(m: BatchMessage): Refusal | undefined {
    const window = step.timeWindow(m.receivedAt, this.deps.limits);
    const outcome = step.admitPoints(m.batch.points, window, this.series, m.key, m.receivedAt);
    m.accepted = outcome.accepted;
    if (outcome.overSeries > 0) this.budgetHit(m.identity, 'series', outcome.overSeries);
    if (outcome.refused.size > 0) {
      for (const [reason, n] of outcome.refused) this.deps.metrics.pointsRefused.inc(n, reason);
      this.deps.agentState.recordRefused(m.identity.site, m.identity.agent, outcome.refused, outcome.clockRefused, m.receivedAt);
      if (outcome.clockRefused !== undefined) {
        this.warnings.warn(`clock:${m.key}`, { ...m.identity, ...outcome.clockRefused, window }, 'readings outside the time window refused: agent clock problem');
      } else {
        this.warnings.warn(`contract:${m.key}`, { ...m.identity, refused: Object.fromEntries(outcome.refused) }, 'points refused by the data contract');
      }
    }
    return m.accepted.length === 0 ? { action: 'drop', code: 'nothing_accepted', reason: 'no point of the batch accepted' } : undefined;
  }

  /** Step `enrich + write`: the hub's tags on, and the PUBACK waits for it: a batch is acknowledged once stored. */
  private async enrichAndWrite(m: BatchMessage): Promise<undefined> {
    const points = enrichPoints(m.accepted, m.site, m.identity.agent);
    // A replayed batch's points carry its `late` on to the alert engine (never into InfluxDB: the sink writes fields only).
    if (m.batch.late === true) for (const p of points) p.late = true;
    await this.deps.write.submitAgentBatch(m.key, points);
    return undefined;
  }

  /** Steps `decode` and `apply` of a status: decoded here once, then into the state table and the `agent` measurement. */
  private acceptStatus(m: Message): Refusal | undefined {
    const status = step.decodeAgentStatus(m.payload);
    if (!status.ok) return status.refusal;
    const site = this.deps.registry.getSite(m.identity.site);
    if (site !== undefined) this.applyStatus(site, m.identity.agent, status.value, this.now());
    return undefined;
  }

  /** Step `cmd-result`: only for a command the hub issued to this agent; handed to the command service. */
  private acceptCmdResult(m: Message, id: string): Refusal | undefined {
    const checked = step.checkCmdResult(m.payload.byteLength, this.deps.limits.maxPayloadBytes, () => this.issuedCommands.take(m.identity.site, m.identity.agent, id, this.now()));
    if (checked.ok) {
      this.deps.onCommandResult?.(m.identity.site, m.identity.agent, id, m.payload);
      return undefined;
    }
    if (checked.refusal.action === 'drop') {
      this.deps.metrics.cmdResultRefused.inc();
      this.warnings.warn(`cmd-result:${m.key}`, { clientId: m.key, id }, checked.refusal.reason);
    }
    return checked.refusal;
  }

  /**
   * Steps `bytes budget` / `points budget`: holds the PUBACK while the agent is over its rate (only its own
   * socket waits: Aedes reads a client's next packets once these are handled); past `maxHoldMs` refuses.
   */
  private async holdForRate(m: Message, kind: 'points' | 'bytes', amount: number): Promise<Refusal | undefined> {
    const now = this.now();
    const taken = step.takeRate(this.rates.of(m.key, now)[kind], kind, amount, now, this.budgets.maxHoldMs);
    if (!taken.ok) return this.budgetRefusal(m.identity, taken.refusal);
    if (taken.value.holdMs <= 0) return undefined;
    this.budgetHit(m.identity, 'rate_held');
    await new Promise((resolve) => setTimeout(resolve, taken.value.holdMs));
    return undefined;
  }

  /** A budget refusal is a budget hit too (counted under the refusal's code: rate_refused, spool_refused). */
  private budgetRefusal(identity: AgentIdentity, refusal: Refusal): Refusal {
    this.budgetHit(identity, refusal.code);
    return refusal;
  }

  private budgetHit(identity: AgentIdentity, budget: string, n = 1): void {
    this.deps.metrics.budgetHits.inc(n, budget);
    this.deps.agentState.recordBudgetHit(identity.site, identity.agent, budget, n);
    this.warnings.warn(`budget:${budget}:${identity.site}/${identity.agent}`, { ...identity, budget, n }, 'agent over its budget');
  }

  private recordClockOffset(site: Site, agent: string, batch: Batch, receivedAt: number): void {
    const offset = receivedAt - batch.sentAt;
    if (!this.deps.agentState.recordClockOffset(site.slug, agent, offset, receivedAt)) return;
    this.writeHubPoint(agentPoint(site, agent, { clock_offset_ms: offset }, receivedAt), 'offset', 'clock offset not written');
  }

  /** Live/late points, backlog and completeness: a `delivery` point at the hub's time when due (never on the agent's points). */
  private recordDelivery(site: Site, agent: string, batch: Batch, receivedAt: number): void {
    const fields = this.deps.agentState.delivery.record(site.slug, agent, batch, receivedAt);
    if (fields !== undefined) this.writeHubPoint(deliveryPoint(site, agent, { ...fields }, receivedAt), 'delivery', 'delivery point not written');
  }

  /** A hub-owned point beside the batch: never holds the PUBACK; a failed write is logged once a minute per agent. */
  private writeHubPoint(point: HubPoint, what: string, message: string): void {
    const { site, agent } = point.tags;
    this.deps.write.submitHubPoints([point]).catch((err: unknown) => this.warnings.warn(`${what}:${site ?? ''}/${agent ?? ''}`, { site, agent, err: errorMessage(err) }, message));
  }

  private malformed(identity: AgentIdentity, refusal: Refusal): PublishVerdict {
    this.deps.metrics.batchesRejected.inc(1, refusal.code);
    this.warnings.warn(`malformed:${identity.site}/${identity.agent}`, { ...identity, code: refusal.code, reason: refusal.reason }, 'malformed payload acknowledged and dropped');
    return 'drop';
  }

  /** Refused before the PUBACK: the connection is closed, the agent keeps its message and resends after reconnecting. */
  private deny(who: string, topic: string, refusal: Refusal): never {
    this.deps.metrics.publishDenied.inc();
    this.warnings.warn(`deny:${who}`, { clientId: who, topic, code: refusal.code, reason: refusal.reason }, 'publish denied; closing connection');
    throw new HubError('E_PUBLISH_DENIED', `publish to ${topic} denied: ${refusal.reason}`);
  }
}

/** Runs the steps in order (as Aedes runs its handlers); the first refusal ends the run. */
async function runSteps<M>(steps: readonly Step<M>[], msg: M): Promise<Refusal | undefined> {
  for (const [, run] of steps) {
    const refusal = await run(msg);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}
