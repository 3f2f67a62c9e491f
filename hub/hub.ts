// The hub's composition root. `build()` wires the parts along the path a point travels (hub/README.md): broker →
// accept → write (ingest → spool → InfluxDB) → alerts, beside the registry, the agents' state and the HTTP API;
// `start()` builds, then listens; `stop()` closes in reverse order. Idempotent start/stop.
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { AcceptPath } from './accept/accept-path.ts';
import { IssuedCommands } from './accept/budgets.ts';
import { AgentStateTable } from './agents/agent-state.ts';
import { CommandService } from './agents/commands.ts';
import { ConfigDelivery } from './agents/config-delivery.ts';
import { ConfigStore } from './agents/config-store.ts';
import { configRoutes } from './http/config-routes.ts';
import { startFleetSync, type FleetSync } from './agents/fleet-sync.ts';
import { PointsToday } from './agents/points-today.ts';
import { Registry, registryDbPath, type RegistryOptions } from './agents/registry.ts';
import type { AlertEngine } from './alerts/engine.ts';
import { alertHttpPlugin, apiAccess, createAlertEngine, createNotifyWatchdog, loadAlertRules, serviceAccounts } from './alerts/hub-alerts.ts';
import type { NotifyWatchdog } from './alerts/watchdog.ts';
import { ServiceBrokerPolicy } from './auth/service-accounts.ts';
import { packetLimitAfterAuth } from './broker/broker-guard.ts';
import { MqttBroker } from './broker/broker.ts';
import type { HubConfig } from './config.ts';
import { buildHttp, siteViews, type HubHttp } from './http/http.ts';
import { consoleRoutes } from './http/console-routes.ts';
import { diagnosticsRoutes } from './http/diagnostics-routes.ts';
import { eventRoutes } from './http/events-routes.ts';
import { siteDetailRoutes } from './http/site-routes.ts';
import { fleetRoutes } from './http/fleet-routes.ts';
import { usersRoutes } from './http/users-routes.ts';
import { ReleaseStore } from './agents/release-store.ts';
import { RolloutRunner } from './agents/rollouts.ts';
import { releaseRoutes } from './http/release-routes.ts';
import { engineSiteAlerts } from './http/site-alerts.ts';
import { influxWallFigures, wallRoutes } from './http/wall-routes.ts';
import { silentLogger } from './logger.ts';
import { HubMetrics } from './metrics.ts';
import { DatabaseSetup } from './storage/database-setup.ts';
import { hubRollupBackfill, type RollupBackfill } from './storage/rollup-backfill.ts';
import { InfluxSink, RAW_RETENTION_POLICY } from './write/influx-sink.ts';
import { Ingest } from './write/ingest.ts';
import { countWrittenPerSite, influxRejectionHandler } from './write/outcomes.ts';
import type { HubPoint, Sink } from './write/sink.ts';
import { SpoolingSink } from './write/spool.ts';
import { writePath } from './write/write-path.ts';

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

/** Every part of a built hub; nothing listens yet. */
interface Parts {
  registry: Registry;
  fleet: FleetSync;
  database: DatabaseSetup;
  ingest: Ingest;
  spool: SpoolingSink | undefined;
  broker: MqttBroker;
  alerts: AlertEngine;
  http: HubHttp;
  watchdog: NotifyWatchdog;
  commands: CommandService;
  releases: ReleaseStore;
  rollouts: RolloutRunner;
  configStore: ConfigStore;
  configDelivery: ConfigDelivery;
}

export class Hub {
  readonly metrics = new HubMetrics();
  readonly agentState = new AgentStateTable();
  private readonly pointsToday = new PointsToday();
  private readonly log: Logger;
  private running: { parts: Parts; httpPort: number } | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Rollup buckets that late points touched, recomputed (none with a sink of the caller's). */
  private rollups: RollupBackfill | undefined;

  constructor(
    readonly config: HubConfig,
    private readonly opts: HubOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'hub' });
  }

  /** Wires the parts: reads the rules and the registry, builds the broker and the HTTP API, opens no port. */
  private async build(): Promise<Parts> {
    const { config, metrics, agentState } = this;
    const logger = this.opts.logger ?? silentLogger();
    const alertRules = loadAlertRules(config);
    const services = serviceAccounts(config);
    const registry = await Registry.open(config.registry.path, { ...registrySecret(config), ...this.opts.registry });
    metrics.addGauge({ name: 'ioc_hub_registry_scrypt_tokens', help: 'Agents whose token record is still scrypt (migrated to HMAC on their next connect)', read: () => registry.scryptRecordCount });
    metrics.addGauge({ name: 'ioc_hub_registry_migration_write_errors_total', help: 'Batched token-migration writes of the registry that failed (retried with the next write)', read: () => registry.migrationWriteErrors });
    const influx = new InfluxSink({ ...config.influx, logger });
    const onRejected = influxRejectionHandler({ metrics, agentState, log: this.log });
    const rollups = this.opts.sink === undefined ? hubRollupBackfill(config, RAW_RETENTION_POLICY, metrics, logger) : undefined;
    this.rollups = rollups;
    const spool = this.opts.sink === undefined ? this.openSpool(influx, logger, onRejected, rollups) : undefined;
    // The alert engine stores its points through the write path, and is fed what that path wrote.
    const written: ((points: readonly HubPoint[]) => void)[] = [(points) => countWrittenPerSite(points, this.pointsToday)];
    if (rollups !== undefined) written.push((points) => rollups.touch(points));
    const ingest = new Ingest({
      sink: this.opts.sink ?? spool ?? influx,
      metrics,
      logger,
      batchSize: config.influx.batchSize,
      flushIntervalMs: config.influx.flushIntervalMs,
      maxInflightWrites: config.influx.maxInflightWrites,
      maxPendingPoints: config.limits.maxPendingPoints,
      maxPendingPointsPerKey: config.budgets.pendingPointsPerAgent,
      onRejected,
      onWritten: (points) => {
        for (const listener of written) listener(points);
      },
    });
    const write = writePath(ingest);
    const issuedCommands = new IssuedCommands();
    const late: { commands?: CommandService } = {}; // built once the broker exists
    const accept = new AcceptPath({
      issuedCommands,
      onCommandResult: (site, agent, id, payload) => late.commands?.resultArrived(site, agent, id, payload),
      registry,
      write,
      agentState,
      metrics,
      limits: { ...config.limits, maxPastMs: config.limits.maxPastMs ?? retentionMs(config.influx.retention) },
      budgets: config.budgets,
      spoolBytesOf: (key) => spool?.agentBytes(key) ?? 0,
      logger,
    });
    const broker = await MqttBroker.create({
      policy: new ServiceBrokerPolicy(accept, services, logger),
      logger,
      listen: config.mqtt,
      maxTopicLevels: Math.max(config.limits.maxTopicDepth, 8),
      metrics,
      connectTimeoutMs: config.mqtt.connectTimeoutMs,
      guard: { ...config.mqtt, maxPacketBytes: packetLimitAfterAuth(config.limits.maxPayloadBytes), takeoverIdleMs: config.mqtt.takeoverIdleMs },
      onConnection: (client, connected) => accept.connectionChanged(client, connected),
    });
    const commands = new CommandService({ publish: (topic, payload) => broker.publish(topic, payload, false), issued: issuedCommands, isConnected: (site, agent) => agentState.get(site, agent)?.connected === true, logger });
    late.commands = commands;
    this.addCommandMetrics(commands);
    const configStore = ConfigStore.open(registryDbPath(config.registry.path), { busyTimeoutMs: config.registry.busyTimeoutMs });
    const configDelivery = new ConfigDelivery({ store: configStore, commands, agentState, metrics, logger, pollMs: config.registry.pollMs, ...config.remoteConfig });
    const fleet = startFleetSync({ registry, agentState, closeClient: (id) => broker.closeClient(id), metrics, logger, pollMs: config.registry.pollMs, lastSeenFlushMs: config.registry.lastSeenFlushMs });
    const watchdog = createNotifyWatchdog(config, broker, logger, metrics);
    const alerts = createAlertEngine({ config, rules: alertRules, broker, write, logger, metrics, extraRules: watchdog.enabled ? [watchdog.rule] : [] });
    written.push((points) => alerts.onPoints(points)); // the engine sees what is stored, agent status points included
    const access = apiAccess(config, services);
    const releases = ReleaseStore.open(config);
    const agentsHost = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
    const rollouts = new RolloutRunner({
      store: releases,
      commands,
      agentState,
      audit: access.audit,
      logger,
      baseUrl: () => config.releases.baseUrl ?? `http://${agentsHost}:${this.running?.httpPort ?? config.http.port}`,
      tickMs: config.releases.tickMs,
      agentTimeoutMs: config.releases.agentTimeoutS * 1000,
      parallel: config.releases.parallel,
    });
    metrics.addCounter(rollouts.outcomes);
    // One tile state per site, the same in /api/sites and /api/wall.
    const siteAlerts = engineSiteAlerts(alerts, alertRules.maintenance);
    const siteStatePolicy = { freshForMs: config.wall.freshFor, downForMs: config.wall.downFor };
    const http = buildHttp({
      metrics,
      registry,
      agentState,
      pointsToday: this.pointsToday,
      listFleet: () => registry.listFleet(),
      influxUp: () => influx.ping(),
      brokerUp: () => broker.up,
      bannedClients: () => broker.guard.banned(),
      logger,
      auth: access.auth,
      audit: access.audit,
      siteAlerts,
      siteStatePolicy,
      plugins: [
        alertHttpPlugin(alerts, access, config, logger, { rules: alertRules, sites: () => registry.listSites() }),
        consoleRoutes({ sessions: access.sessions, sessionsError: access.sessionsError, console: config.console, audit: access.audit, metrics, logger }),
        watchdog.routes(access.auth),
        diagnosticsRoutes({ commands, knownAgent: (site, agent) => registry.getAgent(site, agent) !== undefined, auth: access.auth, audit: access.audit, logger, addCounter: (c) => metrics.addCounter(c) }),
        eventRoutes({ auth: access.auth, console: config.console, agentState, alertChanges: alerts.changes, onWritten: (listener) => written.push(listener), metrics, logger }),
        siteDetailRoutes({ influxConn: config.influx, registry, agentState, pointsToday: this.pointsToday, bannedClients: () => broker.guard.banned(), alerts: (site) => alerts.list({ site, includeResolved: true }), auth: access.auth, metrics, logger }),
        fleetRoutes({ registry, auth: access.auth, audit: access.audit, logger, mqtt: config.mqtt }),
        usersRoutes({ store: access.sessions?.store, storeError: access.sessionsError, auth: access.auth, audit: access.audit, logger }),
        releaseRoutes({ store: releases, runner: rollouts, registry, auth: access.auth, audit: access.audit, logger, metrics }),
        wallRoutes({ auth: access.auth, sites: (now) => siteViews({ registry, agentState, pointsToday: this.pointsToday, bannedClients: () => broker.guard.banned(), siteAlerts, siteStatePolicy }, now), siteAlerts, rules: alertRules, figures: influxWallFigures(config.influx, config.wall, metrics), config: config.wall }),
        configRoutes({ store: configStore, auth: access.auth, audit: access.audit, logger }),
      ],
    });
    const database = new DatabaseSetup({ influx, conn: config.influx, sites: () => registry.listSites(), log: this.log });
    this.addGauges(broker, ingest);
    return { registry, fleet, database, ingest, spool, broker, alerts, http, watchdog, commands, releases, rollouts, configStore, configDelivery };
  }

  /** Builds, then starts the parts and opens the MQTT and HTTP ports. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const parts = await this.build();
    const { config } = this;
    let httpPort: number;
    let alertsStarted = false;
    try {
      parts.database.start();
      await parts.alerts.start(); // before the first point can arrive: the engine sees every stored one
      alertsStarted = true;
      await parts.broker.listen();
      await parts.http.listen({ host: config.http.host, port: config.http.port });
      const addr = parts.http.server.address();
      httpPort = addr !== null && typeof addr === 'object' ? addr.port : config.http.port;
      parts.watchdog.start();
      parts.rollouts.start();
      parts.configDelivery.start();
    } catch (err: unknown) {
      await this.closeParts(parts, alertsStarted);
      throw err;
    }
    this.running = { parts, httpPort };
    this.log.info({ mqttPort: parts.broker.port, tlsPort: parts.broker.tlsPort, httpPort }, 'hub started');
  }

  /** InfluxDB behind the durable spool: a batch is acknowledged once it is in one or the other. */
  private openSpool(influx: InfluxSink, logger: Logger, onRejected: ReturnType<typeof influxRejectionHandler>, rollups: RollupBackfill | undefined): SpoolingSink {
    const { config, metrics } = this;
    const spool = SpoolingSink.open({
      dir: config.spool.dir ?? join(dirname(config.registry.path), 'spool'),
      target: influx,
      maxBytes: config.spool.maxBytes,
      fsyncIntervalMs: config.spool.fsyncIntervalMs,
      drainBatchPoints: config.influx.batchSize,
      logger,
      onRejected,
      // Drained points reach InfluxDB only now: their rollup buckets are touched now.
      ...(rollups === undefined ? {} : { onDrained: (points: readonly HubPoint[]) => rollups.touch(points) }),
    });
    metrics.addGauge({ name: 'ioc_hub_spool_depth', help: 'Batches in the durable spool, waiting for InfluxDB', read: () => spool.depth });
    metrics.addGauge({ name: 'ioc_hub_spool_bytes', help: 'Bytes of the batches in the spool', read: () => spool.bytes });
    metrics.addGauge({ name: 'ioc_hub_spool_oldest_age_seconds', help: 'Age of the oldest spooled batch', read: () => Math.round(spool.oldestAgeMs() / 1000) });
    metrics.addGauge({ name: 'ioc_hub_spool_dropped_total', help: 'Spooled batches dropped because the spool was full (since the spool began)', read: () => spool.droppedTotal });
    return spool;
  }

  private addCommandMetrics(commands: CommandService): void {
    this.metrics.addCounter(commands.sent);
    this.metrics.addCounter(commands.outcomes);
    this.metrics.addGauge({ name: 'ioc_hub_commands_pending', help: 'Commands sent to agents and waiting for their result', read: () => commands.pendingCount });
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

  /** Stops accepting, closes the broker and its clients, writes what is pending, closes HTTP. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (this.running === undefined) return;
    await this.closeParts(this.running.parts, true);
    this.log.info({}, 'hub stopped');
  }

  /**
   * In reverse order of the path: no new publishes, then what is pending is written, then alerts and HTTP.
   * An engine that never started is not stopped (stopping saves its state, which it never loaded).
   */
  private async closeParts(parts: Parts, alertsStarted: boolean): Promise<void> {
    parts.database.stop();
    parts.watchdog.stop();
    parts.rollouts.stop();
    parts.configDelivery.stop();
    parts.commands.stop();
    await parts.broker.close();
    await parts.ingest.stop();
    await parts.spool?.close();
    await this.rollups?.stop();
    if (alertsStarted) await parts.alerts.stop();
    await parts.http.close();
    parts.fleet.stop();
    await parts.registry.close(); // token migrations and agents' reports still pending
    parts.releases.close();
    parts.configStore.close();
  }

  private get live(): Parts {
    if (this.running === undefined) throw new Error('hub not started');
    return this.running.parts;
  }

  get mqttPort(): number {
    return this.live.broker.port;
  }

  get mqttTlsPort(): number | undefined {
    return this.live.broker.tlsPort;
  }

  get httpPort(): number {
    if (this.running === undefined) throw new Error('hub not started');
    return this.running.httpPort;
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

  /** Commands to agents (request → result over MQTT). */
  get commands(): CommandService {
    return this.live.commands;
  }

  stats(): HubStats {
    const m = this.metrics;
    return {
      connectedClients: this.running?.parts.broker.connectedClients ?? 0,
      agentsOnline: this.agentState.onlineCount(),
      pointsReceived: m.pointsReceived.get(),
      pointsWritten: m.pointsWritten.get(),
      pointsRejected: m.pointsRejected.get(),
      batchesRejected: m.batchesRejected.total(),
      publishDenied: m.publishDenied.get(),
      authFailures: m.authFailures.get(),
      pendingPoints: this.running?.parts.ingest.pendingPoints ?? 0,
      writeErrors: m.writeErrors.get(),
    };
  }
}

/** Where the hub secret is, when the config says. */
export function registrySecret(config: HubConfig): { secretPath?: string; busyTimeoutMs: number } {
  return { ...(config.registry.secretPath === undefined ? {} : { secretPath: config.registry.secretPath }), busyTimeoutMs: config.registry.busyTimeoutMs };
}

/** An InfluxDB duration (90d, 12w, 720h) in ms; INF: undefined (no lower bound but the schema's). */
export function retentionMs(duration: string): number | undefined {
  const m = /^(\d+)([hdw])$/.exec(duration);
  if (m === null) return undefined;
  const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'd' ? 86_400_000 : 7 * 86_400_000;
  return Number(m[1]) * unit;
}
