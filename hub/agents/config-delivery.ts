// Delivery of remote configuration: each agent's desired revision (config-store.ts) goes to it as the
// `config-apply` command (CommandService), whenever it comes online with another configRev, until its status says
// it runs the revision — or says it refused or rolled it back (status.configResult), which ends the delivery of that
// revision (a new one starts again). A new revision set by the CLI is noticed through `PRAGMA data_version`.
// Bounded: at most `maxInflight` configs wait for their answer at once, the rest queue; every outcome is counted.
import type { Logger } from 'pino';
import { CONFIG_APPLY_COMMAND, type Status } from '../../protocol/index.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import type { AgentStateEvent, AgentStateTable } from './agent-state.ts';
import { CommandError, CommandService } from './commands.ts';
import type { ConfigEvent, ConfigStore } from './config-store.ts';

export interface ConfigDeliveryDeps {
  store: ConfigStore;
  commands: Pick<CommandService, 'send'>;
  agentState: AgentStateTable;
  metrics: HubMetrics;
  logger: Logger;
  pollMs: number;
  maxInflight: number;
  timeoutMs: number;
  retryMs: number;
}

interface Desired {
  site: string;
  agent: string;
  rev: number;
  /** Applied, refused or rolled back: nothing more to send for this revision. */
  done: boolean;
  lastSentAt: number;
}

const FINAL: ReadonlySet<ConfigEvent['kind']> = new Set(['applied', 'refused', 'rolled-back']);

export class ConfigDelivery {
  readonly outcomes = new Counter('ioc_hub_config_deliveries_total', 'Config deliveries to agents by outcome: delivered (the agent took it), applied (its status shows the revision), refused (by the agent), rolled-back (by the agent), timeout, offline, busy', 'outcome');
  readonly bytes = new Counter('ioc_hub_config_delivery_bytes_total', 'Bytes of config-apply commands sent (topic and payload)');
  private readonly desired = new Map<string, Desired>();
  private readonly queue = new Set<string>();
  private readonly inflight = new Set<string>();
  private readonly log: Logger;
  private stopWatch: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Newly enrolled agents whose config would not validate, logged once. */
  private readonly invalidLogged = new Set<string>();

  constructor(private readonly deps: ConfigDeliveryDeps) {
    this.log = deps.logger.child({ component: 'config-delivery' });
    deps.metrics.addCounter(this.outcomes);
    deps.metrics.addCounter(this.bytes);
    deps.metrics.addGauge({ name: 'ioc_hub_config_deliveries_inflight', help: 'Configs sent and waiting for the agent to answer', read: () => this.inflight.size });
    deps.metrics.addGauge({ name: 'ioc_hub_config_delivery_queue', help: 'Agents waiting for their config to be sent (maxInflight reached)', read: () => this.queue.size });
    deps.metrics.addGauge({ name: 'ioc_hub_config_agents_pending', help: 'Agents not yet running the revision the hub holds for them', read: () => [...this.desired.values()].filter((d) => !d.done).length });
  }

  start(): void {
    this.reload();
    this.deps.agentState.onEvent((e) => this.onAgentEvent(e));
    this.stopWatch = this.deps.store.watch(() => this.reload(), this.deps.pollMs);
    this.retryTimer = setInterval(() => this.retry(), Math.max(100, Math.min(this.deps.retryMs, 10_000)));
    this.retryTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    clearInterval(this.retryTimer);
  }

  /** Reads the desired revisions again (a new revision: every connected agent it concerns is queued). */
  reload(): void {
    if (this.stopped) return;
    let states;
    try {
      const adopted = this.deps.store.adoptNew();
      if (adopted.added.length > 0) this.log.info({ agents: adopted.added.length }, 'config rendered for agents enrolled since their revision');
      for (const bad of adopted.invalid) {
        if (this.invalidLogged.has(bad.agent)) continue;
        this.invalidLogged.add(bad.agent);
        this.log.warn({ agent: bad.agent, error: bad.error }, 'config of a newly enrolled agent would not validate: none delivered');
      }
      states = this.deps.store.states();
    } catch (err: unknown) {
      this.log.warn({ err }, 'config states not read');
      return;
    }
    const seen = new Set<string>();
    for (const s of states) {
      const key = `${s.site}/${s.agent}`;
      seen.add(key);
      const old = this.desired.get(key);
      if (old !== undefined && old.rev === s.rev) continue;
      this.desired.set(key, { site: s.site, agent: s.agent, rev: s.rev, done: s.last !== undefined && FINAL.has(s.last.kind), lastSentAt: 0 });
      const live = this.deps.agentState.get(s.site, s.agent);
      if (live?.connected === true && live.online) this.check(key, live.configRev);
    }
    for (const key of this.desired.keys()) if (!seen.has(key)) this.desired.delete(key);
    this.pump();
  }

  private onAgentEvent(e: AgentStateEvent): void {
    if (e.kind !== 'status' || !e.status.online) return;
    const key = `${e.site}/${e.agent}`;
    const d = this.desired.get(key);
    if (d === undefined) return;
    this.noteResult(d, e.status);
    this.check(key, e.status.configRev);
    this.pump();
  }

  /** What the status says of the revision: runs it (applied), or refused or rolled it back. */
  private noteResult(d: Desired, status: Status): void {
    if (d.done) return;
    const r = status.configResult;
    if (String(status.configRev) === String(d.rev)) {
      this.final(d, 'applied', undefined);
    } else if (r !== undefined && r.rev === d.rev && r.state !== 'applied') {
      this.final(d, r.state, r.error);
    }
  }

  private final(d: Desired, kind: 'applied' | 'refused' | 'rolled-back', detail: string | undefined): void {
    d.done = true;
    this.outcomes.inc(1, kind);
    this.record({ site: d.site, agent: d.agent, rev: d.rev, kind, ...(detail === undefined ? {} : { detail }) });
    this.log.info({ site: d.site, agent: d.agent, rev: d.rev, outcome: kind, detail }, 'config outcome');
  }

  private check(key: string, reportedRev: string | number | null): void {
    const d = this.desired.get(key);
    if (d === undefined || d.done) return;
    if (reportedRev !== null && String(reportedRev) === String(d.rev)) return;
    if (!this.inflight.has(key)) this.queue.add(key);
  }

  /** Connected agents still without their revision, not sent one within retryMs: queued again. */
  private retry(): void {
    const now = Date.now();
    for (const [key, d] of this.desired) {
      if (d.done || this.inflight.has(key) || now - d.lastSentAt < this.deps.retryMs) continue;
      const live = this.deps.agentState.get(d.site, d.agent);
      if (live?.connected === true && live.online) this.check(key, live.configRev);
    }
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inflight.size < this.deps.maxInflight && this.queue.size > 0) {
      const key = this.queue.values().next().value;
      if (key === undefined) break;
      this.queue.delete(key);
      const d = this.desired.get(key);
      if (d === undefined || d.done) continue;
      this.inflight.add(key);
      void this.deliver(key, d).finally(() => {
        this.inflight.delete(key);
        this.pump();
      });
    }
  }

  private async deliver(key: string, d: Desired): Promise<void> {
    const config = this.deps.store.rendered(d.site, d.agent, d.rev);
    if (config === undefined) return;
    const args = { rev: d.rev, config };
    d.lastSentAt = Date.now();
    const size = Buffer.byteLength(JSON.stringify({ id: CommandService.newId(CONFIG_APPLY_COMMAND), name: CONFIG_APPLY_COMMAND, issuedAt: Date.now(), args })) + Buffer.byteLength(`ioc/v1/${key}/cmd/${CONFIG_APPLY_COMMAND}`);
    try {
      const result = await this.deps.commands.send(d.site, d.agent, CONFIG_APPLY_COMMAND, args, { timeoutMs: this.deps.timeoutMs });
      this.bytes.inc(size);
      if (result.ok) {
        this.outcomes.inc(1, 'delivered');
        this.record({ site: d.site, agent: d.agent, rev: d.rev, kind: 'delivered', detail: JSON.stringify(result.result ?? {}) });
      } else if (this.desired.get(key) === d && !d.done) {
        this.final(d, 'refused', result.error);
      }
    } catch (err: unknown) {
      if (!(err instanceof CommandError)) {
        this.log.warn({ err, site: d.site, agent: d.agent }, 'config not sent');
        return;
      }
      const outcome = err.code === 'E_COMMAND_TIMEOUT' ? 'timeout' : err.code === 'E_AGENT_OFFLINE' ? 'offline' : err.code === 'E_COMMANDS_BUSY' ? 'busy' : 'stopped';
      this.outcomes.inc(1, outcome);
      if (outcome === 'timeout') {
        this.bytes.inc(size);
        this.record({ site: d.site, agent: d.agent, rev: d.rev, kind: 'timeout', detail: err.message });
      }
      if (outcome === 'busy') d.lastSentAt = 0; // retried at the next tick
      this.log.warn({ site: d.site, agent: d.agent, rev: d.rev, code: err.code }, 'config delivery failed');
    }
  }

  private record(e: Omit<ConfigEvent, 'seq' | 'at'>): void {
    try {
      this.deps.store.addEvents([e]);
    } catch (err: unknown) {
      this.log.warn({ err }, 'config event not written');
    }
  }
}
