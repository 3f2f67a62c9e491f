// The edge agent: schedules collectors, batches their points into the outbox, and runs the link that drains it.
import { mkdirSync } from 'node:fs';
import { createCollector, collectorLabel, type Collector, type CollectorConfig } from './collectors/index.ts';
import type { EdgeConfig } from './config.ts';
import { Batcher } from './batcher.ts';
import type { EdgeClock } from './clock.ts';
import { silentLogger, type Logger } from './logger.ts';
import { MqttLink } from './link/link.ts';
import { MemoryOutbox, type Outbox } from './outbox.ts';
import { DiskOutbox, outboxDir } from './disk-outbox.ts';
import { SeqStore } from './seq-store.ts';
import { EdgeError } from './errors.ts';
import { readInventory } from './system/inventory.ts';
import { CONFIG_APPLY_COMMAND, type ConfigResult, type Inventory } from '../protocol/index.ts';
import type { CommandHandler } from './link/commands.ts';
import { diagnosticHandlers } from './link/diagnostics.ts';
import type { LogRing } from './log-ring.ts';
import { Updater } from './update/updater.ts';

export interface AgentOptions {
  logger?: Logger;
  /** Defaults to a MemoryOutbox of config.outbox.maxBatches. */
  outbox?: Outbox;
  /** Period of the `agent` self-metrics point. */
  agentPointIntervalMs?: number;
  /** Upper bound of each collector's random start phase. */
  maxPhaseMs?: number;
  /** Overrides clock-sync detection in the status message. */
  clockSynced?: boolean;
  /** How long stop() keeps draining before going offline. */
  drainTimeoutMs?: number;
  /** Wall/monotonic clock and sync state for the batcher's time correction (tests: a fake clock). */
  clock?: EdgeClock;
  /** Remote configuration (link/remote-config.ts): the `config-apply` handler and the result sent with the status. */
  remoteConfig?: { apply: CommandHandler; result: () => ConfigResult | undefined };
  /** The process's recent log lines, for the `logs` diagnostic (`ioc-edge run` keeps them). */
  logRing?: LogRing;
}

export interface AgentStats {
  pointsCollected: number;
  batchesAcked: number;
  pointsAcked: number;
  outboxDepth: number;
  droppedTotal: number;
  connected: boolean;
}

interface ScheduledCollector {
  label: string;
  config: CollectorConfig;
  collector: Collector;
  phase: NodeJS.Timeout | undefined;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  overruns: number;
  /** Aborts this collector's gather alone (restart-collector). */
  abort: AbortController;
}

/** No gather may run longer than this, whatever its interval. */
const MAX_GATHER_MS = 60_000;
/** The inventory is read again this often (disk and uptime move) and sent with the online status again. */
const INVENTORY_REFRESH_MS = 10 * 60_000;

export class Agent {
  private readonly log: Logger;
  private outbox: Outbox;
  private link: MqttLink | undefined;
  private batcher: Batcher | undefined;
  private seqStore: SeqStore | undefined;
  private collectors: ScheduledCollector[] = [];
  private agentTimer: NodeJS.Timeout | undefined;
  private inventoryTimer: NodeJS.Timeout | undefined;
  private inventory: Inventory | undefined;
  private readonly abort = new AbortController();
  private readonly startedAt = Date.now();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  private updater: Updater | undefined;
  private restartWanted: (() => void) | undefined;
  /** Resolves when the agent asks to be restarted (a software update switched its slot). */
  readonly restartRequested = new Promise<string>((resolve) => (this.restartWanted = () => resolve('restart')));

  constructor(
    private readonly config: EdgeConfig,
    private readonly opts: AgentOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'agent' });
    // The disk outbox is opened in start() (it needs dataDir); until then an empty placeholder answers stats().
    this.outbox = opts.outbox ?? new MemoryOutbox({ maxBatches: config.outbox.maxBatches });
    this.ownsOutbox = opts.outbox === undefined && config.outbox.kind === 'disk';
  }

  private readonly ownsOutbox: boolean;

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    const { config } = this;
    try {
      mkdirSync(config.dataDir, { recursive: true });
    } catch (err: unknown) {
      throw new EdgeError('E_CONFIG', `cannot create dataDir ${config.dataDir}`, { cause: err });
    }
    const seqStore = SeqStore.open(config.dataDir);
    this.seqStore = seqStore;
    if (this.ownsOutbox) {
      this.outbox = DiskOutbox.open({
        dir: outboxDir(config.dataDir),
        maxBytes: config.outbox.maxBytes,
        maxAgeMs: config.outbox.maxAgeH * 3_600_000,
        fsyncIntervalMs: config.outbox.fsyncIntervalMs,
        fsyncEveryRecords: config.outbox.fsyncEveryRecords,
        logger: this.opts.logger ?? silentLogger(),
      });
    }
    await this.refreshInventory();
    // A connected agent reports its inventory again (disk free, uptime move), not only at its next connect.
    this.inventoryTimer = setInterval(() => void this.refreshInventory().then(() => this.link?.refreshStatus()), INVENTORY_REFRESH_MS);
    this.inventoryTimer.unref();
    const link = new MqttLink({
      url: config.hub.url,
      site: config.site,
      agent: config.agent,
      token: config.hub.token,
      outbox: this.outbox,
      ...(config.hub.caFile === undefined ? {} : { caFile: config.hub.caFile }),
      ...(config.hub.certFile === undefined || config.hub.keyFile === undefined ? {} : { certFile: config.hub.certFile, keyFile: config.hub.keyFile }),
      rejectUnauthorized: config.hub.rejectUnauthorized,
      keepaliveS: config.hub.keepaliveS,
      connectTimeoutMs: config.hub.connectTimeoutMs,
      maxInflight: config.link.maxInflight,
      replayBatchesPerS: config.link.replayBatchesPerS,
      reconnectMinMs: config.link.reconnectMinMs,
      reconnectMaxMs: config.link.reconnectMaxMs,
      configRev: config.configRev,
      inventory: () => this.inventory,
      ...(this.opts.remoteConfig === undefined ? {} : { configResult: this.opts.remoteConfig.result }),
      logger: this.opts.logger ?? silentLogger(),
      ...(this.opts.clockSynced === undefined ? {} : { clockSynced: this.opts.clockSynced }),
    });
    this.link = link;
    const batcher = new Batcher({
      outbox: this.outbox,
      maxPoints: config.batch.maxPoints,
      flushIntervalMs: config.batch.flushIntervalMs,
      nextSeq: () => seqStore.next(),
      onBatch: () => link.kick(),
      holdUnsyncedMs: config.clock.holdUnsyncedS * 1000,
      maxHoldPoints: config.clock.maxHoldPoints,
      jumpThresholdMs: config.clock.jumpThresholdS * 1000,
      ...(this.opts.clock === undefined ? {} : { clock: this.opts.clock }),
      logger: this.opts.logger ?? silentLogger(),
    });
    this.batcher = batcher;
    link.handleCommand('probe-now', async () => await this.probeNow());
    if (this.opts.remoteConfig !== undefined) link.handleCommand(CONFIG_APPLY_COMMAND, this.opts.remoteConfig.apply);
    for (const [name, handler] of diagnosticHandlers({ logRing: this.opts.logRing, restartCollector: (n) => this.restartCollector(n) })) link.handleCommand(name, handler);
    const updater = new Updater({ config, logger: this.opts.logger ?? silentLogger(), healthy: () => link.connected && link.stats().batchesAcked > 0, requestRestart: () => this.restartWanted?.() });
    this.updater = updater;
    link.handleCommand('update', async (cmd) => await updater.install(cmd.args));
    link.handleCommand('update-status', () => Promise.resolve(updater.status()));
    updater.start();
    batcher.start();
    link.start();
    this.collectors = config.collectors.map((c) => this.schedule(c));
    // Service collectors (HTTP listener, GPIO edges) add points between gathers; one failing to start does not stop the rest.
    await Promise.all(
      this.collectors.map(async (s) => {
        try {
          await s.collector.start?.(batcher);
        } catch (err: unknown) {
          this.log.error({ err, collector: s.label }, 'collector start failed');
        }
      }),
    );
    const agentEvery = this.opts.agentPointIntervalMs ?? 30_000;
    this.agentTimer = setInterval(() => this.addAgentPoint(), agentEvery);
    this.log.info({ site: config.site, agent: config.agent, collectors: this.collectors.length, hub: config.hub.url }, 'agent started');
  }

  /** Runs every collector now; resolves with how many points they added. */
  async probeNow(): Promise<{ collectors: number; points: number }> {
    const before = this.batcher?.collected ?? 0;
    await Promise.all(this.collectors.map((s) => this.runOnce(s)));
    return { collectors: this.collectors.length, points: (this.batcher?.collected ?? 0) - before };
  }

  /**
   * Restarts one collector (by label, e.g. `icmp:gateway`, or by its `name`): its gather is aborted, it is closed,
   * made anew from its config, started and scheduled again. Rejects when no collector has that label or name.
   */
  async restartCollector(name: string): Promise<{ collector: string; durationMs: number }> {
    const i = this.collectors.findIndex((c) => c.label === name || c.config.name === name);
    const old = this.collectors[i];
    if (old === undefined) {
      const known = this.collectors.map((c) => c.label).join(', ');
      throw new EdgeError('E_CONFIG', `no collector ${JSON.stringify(name.slice(0, 80))} on this agent (it has: ${known.slice(0, 600) || 'none'})`);
    }
    if (this.state !== 'running' || this.batcher === undefined) throw new EdgeError('E_CONFIG', 'the agent is stopping');
    const started = Date.now();
    clearTimeout(old.phase);
    clearInterval(old.timer);
    old.abort.abort();
    await old.running;
    try {
      await old.collector.close?.();
    } catch (err: unknown) {
      this.log.warn({ err, collector: old.label }, 'collector close failed');
    }
    const fresh = this.schedule(old.config);
    this.collectors[i] = fresh;
    await fresh.collector.start?.(this.batcher);
    this.log.info({ collector: fresh.label }, 'collector restarted');
    return { collector: fresh.label, durationMs: Date.now() - started };
  }

  stats(): AgentStats {
    const link = this.link?.stats();
    return {
      pointsCollected: this.batcher?.collected ?? 0,
      batchesAcked: link?.batchesAcked ?? 0,
      pointsAcked: link?.pointsAcked ?? 0,
      outboxDepth: this.outbox.depth,
      droppedTotal: this.outbox.droppedTotal,
      connected: link?.connected ?? false,
    };
  }

  /** Stops collectors, flushes the batch, drains briefly, goes offline (retained), disconnects. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.state === 'new') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.state = 'stopping';
    this.stopping = this.doStop();
    return this.stopping;
  }

  /** The device's inventory (sent with the next online status); kept as it was when a read fails. */
  private async refreshInventory(): Promise<void> {
    try {
      this.inventory = await readInventory({ diskPath: this.config.dataDir });
    } catch (err: unknown) {
      this.log.warn({ err }, 'inventory not read');
    }
  }

  private async doStop(): Promise<void> {
    clearInterval(this.agentTimer);
    clearInterval(this.inventoryTimer);
    this.updater?.stop();
    for (const s of this.collectors) {
      clearTimeout(s.phase);
      clearInterval(s.timer);
    }
    this.abort.abort();
    await Promise.allSettled(this.collectors.map((s) => s.running));
    for (const s of this.collectors) {
      try {
        await s.collector.close?.();
      } catch (err: unknown) {
        this.log.warn({ err, collector: s.label }, 'collector close failed');
      }
    }
    this.batcher?.stop();
    await this.batcher?.flush();
    await this.link?.stop({ drainTimeoutMs: this.opts.drainTimeoutMs ?? 3000 });
    await this.outbox.close();
    this.state = 'stopped';
    this.log.info(this.stats(), 'agent stopped');
  }

  private schedule(config: CollectorConfig): ScheduledCollector {
    const logger = (this.opts.logger ?? silentLogger()).child({ component: 'collector', collector: collectorLabel(config) });
    const s: ScheduledCollector = {
      label: collectorLabel(config),
      config,
      collector: createCollector(config, { logger }),
      phase: undefined,
      timer: undefined,
      running: undefined,
      overruns: 0,
      abort: new AbortController(),
    };
    const intervalMs = config.intervalS * 1000;
    // A random phase keeps collectors (and agents booted together) from firing in lockstep.
    const phase = Math.floor(Math.random() * Math.min(intervalMs, this.opts.maxPhaseMs ?? 5000));
    s.phase = setTimeout(() => {
      s.phase = undefined;
      void this.runOnce(s);
      s.timer = setInterval(() => void this.runOnce(s), intervalMs);
    }, phase);
    return s;
  }

  private runOnce(s: ScheduledCollector): Promise<void> {
    const batcher = this.batcher;
    if (batcher === undefined || this.abort.signal.aborted) return Promise.resolve();
    if (s.running !== undefined) {
      s.overruns += 1;
      this.log.debug({ collector: s.label, overruns: s.overruns }, 'gather still running, tick skipped');
      return s.running;
    }
    const signal = AbortSignal.any([this.abort.signal, s.abort.signal, AbortSignal.timeout(Math.min(s.config.intervalS * 1000, MAX_GATHER_MS))]);
    s.running = s.collector
      .gather(batcher, signal)
      .catch((err: unknown) => this.log.warn({ err, collector: s.label }, 'gather failed'))
      .finally(() => {
        s.running = undefined;
      });
    return s.running;
  }

  /** The self-report: `agent_report` on the wire, stored by the hub as `agent` (protocol STORED_AS). */
  private addAgentPoint(): void {
    this.batcher?.add('agent_report', {
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      outbox_depth: this.outbox.depth,
      dropped_total: this.outbox.droppedTotal,
    });
  }
}
