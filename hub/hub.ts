// The hub: registry, InfluxDB sink, ingest, MQTT broker and HTTP API wired together with idempotent start/stop.
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { parseAgentIdentity } from '../protocol/index.ts';
import { AgentStateTable } from './agents/agent-state.ts';
import type { AlertEngine } from './alerts/engine.ts';
import { alertHttpPlugin, apiAccess, createAlertEngine, loadAlertRules, serviceAccounts } from './alerts/hub-alerts.ts';
import { ServiceBrokerPolicy } from './auth/service-accounts.ts';
import { fullJitterDelay } from './backoff.ts';
import { packetLimitAfterAuth } from './broker/broker-guard.ts';
import { BrokerPolicy } from './accept/accept-path.ts';
import { MqttBroker } from './broker/broker.ts';
import type { HubConfig } from './config.ts';
import { buildHttp, type HubHttp } from './http/http.ts';
import { writeSiteInfo } from './storage/influx-schema.ts';
import { InfluxSink } from './write/influx-sink.ts';
import { Ingest } from './write/ingest.ts';
import { silentLogger } from './logger.ts';
import { HubMetrics } from './metrics.ts';
import { PointsToday } from './agents/points-today.ts';
import { Registry, type RegistryOptions } from './agents/registry.ts';
import { SpoolingSink } from './write/spool.ts';
import { parseRejection, type HubPoint, type Sink, type SinkError } from './write/sink.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import { statusWatcher } from './agents/status-watch.ts';

export interface HubOptions {
  logger?: Logger;
  /** Replaces the InfluxDB sink (tests, or a spool in front of it). */
  sink?: Sink;
  registry?: RegistryOptions;
}

export interface HubStats {
  connectedClients: number;
  agentsOnline: number;
  pointsReceived: number;
  pointsWritten: number;
  /** Points InfluxDB refused (HTTP 400), acknowledged and dropped. */
  pointsRejected: number;
  /** Malformed messages acknowledged and dropped (all codes). */
  batchesRejected: number;
  publishDenied: number;
  authFailures: number;
  pendingPoints: number;
  writeErrors: number;
}

interface Running {
  registry: Registry;
  influx: InfluxSink;
  ingest: Ingest;
  broker: MqttBroker;
  http: HubHttp;
  httpPort: number;
  alerts: AlertEngine;
}

export class Hub {
  readonly metrics = new HubMetrics();
  readonly agentState = new AgentStateTable();
  private readonly pointsToday = new PointsToday();
  private readonly log: Logger;
  private running: Running | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private setupTimer: NodeJS.Timeout | undefined;
  private spool: SpoolingSink | undefined;
  private alertEngine: AlertEngine | undefined;
  private readonly rejectLog: RateLimitedLog;

  constructor(
    readonly config: HubConfig,
    private readonly opts: HubOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'hub' });
    this.rejectLog = new RateLimitedLog(this.log, 60_000);
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { config } = this;
    const logger = this.opts.logger ?? silentLogger();
    const alertRules = loadAlertRules(config);
    const services = serviceAccounts(config);
    const registry = await Registry.open(config.registry.path, this.opts.registry);
    const influx = new InfluxSink({ ...config.influx, logger });
    const ingest = new Ingest({
      sink: this.opts.sink ?? this.openSpool(influx, logger),
      metrics: this.metrics,
      logger,
      batchSize: config.influx.batchSize,
      flushIntervalMs: config.influx.flushIntervalMs,
      maxInflightWrites: config.influx.maxInflightWrites,
      maxPendingPoints: config.limits.maxPendingPoints,
      maxPendingPointsPerKey: config.budgets.pendingPointsPerAgent,
      onRejected: (points, err) => this.onInfluxRejected(points, err),
      onWritten: (points) => {
        this.countWritten(points);
        this.alertEngine?.onPoints(points); // the engine sees what is stored, agent status points included
      },
    });
    this.ensureDatabase(influx, 0, registry);
    const policy = new BrokerPolicy({
      registry,
      ingest,
      agentState: this.agentState,
      metrics: this.metrics,
      limits: { ...config.limits, maxPastMs: config.limits.maxPastMs ?? retentionMs(config.influx.retention) },
      budgets: config.budgets,
      spoolBytesOf: (key) => this.spool?.agentBytes(key) ?? 0,
      logger,
    });
    const broker = await MqttBroker.start({
      policy: new ServiceBrokerPolicy(policy, services, logger),
      logger,
      listen: config.mqtt,
      maxTopicLevels: Math.max(config.limits.maxTopicDepth, 8),
      metrics: this.metrics,
      connectTimeoutMs: config.mqtt.connectTimeoutMs,
      guard: { ...config.mqtt, maxPacketBytes: packetLimitAfterAuth(config.limits.maxPayloadBytes), takeoverIdleMs: config.mqtt.takeoverIdleMs },
    });
    this.watchBroker(broker, registry, ingest, policy);
    const alerts = createAlertEngine({ config, rules: alertRules, broker, ingest, logger, metrics: this.metrics });
    const access = apiAccess(config, services);
    await alerts.start();
    this.alertEngine = alerts;
    const http = buildHttp({
      metrics: this.metrics,
      registry,
      agentState: this.agentState,
      pointsToday: this.pointsToday,
      influxUp: () => influx.ping(),
      brokerUp: () => broker.up,
      bannedClients: () => broker.guard.banned(),
      logger,
      auth: access.auth,
      audit: access.audit,
      plugins: [alertHttpPlugin(alerts, access, config, logger)],
    });
    this.addGauges(broker, ingest);
    let httpPort: number;
    try {
      await http.listen({ host: config.http.host, port: config.http.port });
      const addr = http.server.address();
      httpPort = addr !== null && typeof addr === 'object' ? addr.port : config.http.port;
    } catch (err: unknown) {
      await broker.close();
      await ingest.stop();
      await alerts.stop();
      throw err;
    }
    this.running = { registry, influx, ingest, broker, http, httpPort, alerts };
    this.log.info({ mqttPort: broker.port, tlsPort: broker.tlsPort, httpPort }, 'hub started');
  }

  /** Creates the database in the background until InfluxDB answers: the hub starts even while it is down. */
  private ensureDatabase(influx: InfluxSink, attempt: number, registry: Registry): void {
    // site_info (names, coordinates) lets the walls' geomap join the registry; written once the database exists.
    influx.ensureDatabase().then(() => writeSiteInfo(this.config.influx, registry.listSites())).then(
      () => undefined,
      (err: unknown) => {
        if (this.stopping !== undefined) return;
        const delay = fullJitterDelay(attempt, 500, 30_000);
        this.log.warn({ err, attempt, retryInMs: delay }, 'InfluxDB setup failed; retrying');
        this.setupTimer = setTimeout(() => this.ensureDatabase(influx, attempt + 1, registry), delay);
      },
    );
  }

  private watchBroker(broker: MqttBroker, registry: Registry, ingest: Ingest, policy: BrokerPolicy): void {
    broker.aedes.on('publish', statusWatcher({ registry, ingest, agentState: this.agentState, logger: this.opts.logger ?? silentLogger() }));
    const track = (connected: boolean) => (client: { id: string }) => {
      const id = parseAgentIdentity(client.id);
      if (id !== null) this.agentState.setConnected(id.site, id.agent, connected, Date.now());
    };
    broker.aedes.on('client', (client) => {
      if (policy.identityOf(client) !== undefined) track(true)(client);
    });
    broker.aedes.on('clientDisconnect', track(false));
  }

  /** InfluxDB behind the durable spool: a batch is acknowledged once it is in one or the other. */
  private openSpool(influx: InfluxSink, logger: Logger): SpoolingSink {
    const { config } = this;
    const spool = SpoolingSink.open({
      dir: config.spool.dir ?? join(dirname(config.registry.path), 'spool'),
      target: influx,
      maxBytes: config.spool.maxBytes,
      fsyncIntervalMs: config.spool.fsyncIntervalMs,
      drainBatchPoints: config.influx.batchSize,
      logger,
      onRejected: (points, err) => this.onInfluxRejected(points, err),
    });
    this.spool = spool;
    this.metrics.addGauge({ name: 'ioc_hub_spool_depth', help: 'Batches in the durable spool, waiting for InfluxDB', read: () => spool.depth });
    this.metrics.addGauge({ name: 'ioc_hub_spool_bytes', help: 'Bytes of the batches in the spool', read: () => spool.bytes });
    this.metrics.addGauge({ name: 'ioc_hub_spool_oldest_age_seconds', help: 'Age of the oldest spooled batch', read: () => Math.round(spool.oldestAgeMs() / 1000) });
    this.metrics.addGauge({ name: 'ioc_hub_spool_dropped_total', help: 'Spooled batches dropped because the spool was full (since the spool began)', read: () => spool.droppedTotal });
    return spool;
  }

  private addGauges(broker: MqttBroker, ingest: Ingest): void {
    this.metrics.addGauge({ name: 'ioc_hub_connected_clients', help: 'Open MQTT connections', read: () => broker.connectedClients });
    this.metrics.addGauge({ name: 'ioc_hub_agents_online', help: 'Agents whose last status says online', read: () => this.agentState.onlineCount() });
    this.metrics.addGauge({ name: 'ioc_hub_pending_points', help: 'Points queued or being written', read: () => ingest.pendingPoints });
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    this.metrics.addGauge({ name: 'ioc_hub_event_loop_delay_max_ms', help: 'Longest event-loop delay since start (one agent must not hold the loop)', read: () => Math.round(loop.max / 1e6) });
    this.metrics.addGauge({ name: 'ioc_hub_agents_clock_problem', help: 'Agents with readings refused for their time in the last 10 minutes', read: () => this.agentState.clockProblemCount(Date.now()) });
  }

  /**
   * InfluxDB refused points of a batch for good (HTTP 400) after it was acknowledged: an alarm, never a
   * silent drop. Counted by reason, logged, and charged to the agents whose points it held (their
   * /api/sites entry): those of the named measurement when InfluxDB names one.
   */
  private onInfluxRejected(points: readonly HubPoint[], err: SinkError): void {
    const rejection = err.rejection ?? parseRejection(err.message);
    const named = rejection.measurement === undefined ? points : points.filter((p) => p.measurement === rejection.measurement);
    const culprits = named.length > 0 ? named : points;
    this.metrics.influxRejected.inc(rejection.dropped ?? culprits.length, rejection.reason);
    const byAgent = new Map<string, { site: string; agent: string; n: number }>();
    for (const p of culprits) {
      const { site, agent } = p.tags;
      if (site === undefined || agent === undefined) continue;
      const k = `${site}/${agent}`;
      const e = byAgent.get(k) ?? { site, agent, n: 0 };
      e.n++;
      byAgent.set(k, e);
    }
    const now = Date.now();
    for (const e of byAgent.values()) this.agentState.recordInfluxRejected(e.site, e.agent, e.n, rejection.reason, now);
    this.rejectLog.warn(`influx-rejected:${rejection.reason}`, { reason: rejection.reason, measurement: rejection.measurement, dropped: rejection.dropped, agents: [...byAgent.keys()].slice(0, 10), err: err.message.slice(0, 500) }, 'InfluxDB refused acknowledged points');
  }

  private countWritten(points: readonly HubPoint[]): void {
    const bySite = new Map<string, number>();
    for (const p of points) {
      const site = p.tags.site;
      if (site !== undefined && p.measurement !== 'agent') bySite.set(site, (bySite.get(site) ?? 0) + 1);
    }
    for (const [site, n] of bySite) this.pointsToday.add(site, n);
  }

  /** Stops accepting, closes the broker and its clients, writes what is pending, closes HTTP. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (this.setupTimer !== undefined) clearTimeout(this.setupTimer);
    const r = this.running;
    if (r === undefined) return;
    await r.broker.close();
    await r.ingest.stop();
    await this.spool?.close();
    await r.alerts.stop();
    await r.http.close();
    this.log.info({}, 'hub stopped');
  }

  private get live(): Running {
    if (this.running === undefined) throw new Error('hub not started');
    return this.running;
  }

  get mqttPort(): number {
    return this.live.broker.port;
  }

  get mqttTlsPort(): number | undefined {
    return this.live.broker.tlsPort;
  }

  get httpPort(): number {
    return this.live.httpPort;
  }

  get registry(): Registry {
    return this.live.registry;
  }

  get http(): HubHttp {
    return this.live.http;
  }

  get broker(): MqttBroker {
    return this.live.broker;
  }

  get alerts(): AlertEngine {
    return this.live.alerts;
  }

  stats(): HubStats {
    const m = this.metrics;
    return {
      connectedClients: this.running?.broker.connectedClients ?? 0,
      agentsOnline: this.agentState.onlineCount(),
      pointsReceived: m.pointsReceived.get(),
      pointsWritten: m.pointsWritten.get(),
      pointsRejected: m.pointsRejected.get(),
      batchesRejected: m.batchesRejected.total(),
      publishDenied: m.publishDenied.get(),
      authFailures: m.authFailures.get(),
      pendingPoints: this.running?.ingest.pendingPoints ?? 0,
      writeErrors: m.writeErrors.get(),
    };
  }
}

/** An InfluxDB duration (90d, 12w, 720h) in ms; INF: undefined (no lower bound but the schema's). */
export function retentionMs(duration: string): number | undefined {
  const m = /^(\d+)([hdw])$/.exec(duration);
  if (m === null) return undefined;
  const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'd' ? 86_400_000 : 7 * 86_400_000;
  return Number(m[1]) * unit;
}
