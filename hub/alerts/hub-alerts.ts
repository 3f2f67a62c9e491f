// Wiring of the alert engine into the hub: rules from the config, outputs to the broker and the write path, the HTTP
// routes, the API's access check and audit log, and the engine's metrics.
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { AuditLog, auditLogPath } from '../auth/audit-log.ts';
import type { HubBroker } from '../broker/broker.ts';
import type { HubConfig } from '../config.ts';
import type { WritePath } from '../write/write-path.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import { ApiAuth, scryptParamsOf } from '../auth/api-auth.ts';
import { AlertEngine } from './engine.ts';
import { alertRoutes } from './http-routes.ts';
import { LoopDelayMonitor } from './loop-delay.ts';
import { hubAlertOutputs } from './outputs.ts';
import { loadRulesFile, parseRulesFile, type RulesFile } from './rules-file.ts';
import { ServiceAccounts } from '../auth/service-accounts.ts';
import { AccountStore, accountsPath } from '../auth/accounts.ts';
import { SessionAuth } from '../auth/sessions.ts';
import { incidentRulesOf } from './incidents.ts';
import type { RuleInstance } from './types.ts';
import { NotifyWatchdog } from './watchdog.ts';

/** Reads and validates the rules file (throws E_CONFIG with every problem): call before anything starts. */
export function loadAlertRules(config: HubConfig): RulesFile {
  return config.alerts.rulesFile === undefined ? parseRulesFile({}) : loadRulesFile(config.alerts.rulesFile);
}

export function serviceAccounts(config: HubConfig): ServiceAccounts {
  return new ServiceAccounts(config.services);
}

/** What the HTTP API needs to check logins and record writes. */
export interface ApiAccess {
  auth: ApiAuth;
  audit: AuditLog;
  /** People's sessions (accounts.db beside the registry), closed with the HTTP server; undefined when the file cannot be opened. */
  sessions: SessionAuth | undefined;
  /** Why there are no sessions (the hub runs on: agents and service tokens do not need them). */
  sessionsError?: string;
}

export function apiAccess(config: HubConfig, accounts: ServiceAccounts): ApiAccess {
  let sessions: SessionAuth | undefined;
  let sessionsError: string | undefined;
  try {
    sessions = new SessionAuth(AccountStore.open(accountsPath(config)), config.sessions, config.console.anonymousWall);
  } catch (err: unknown) {
    sessionsError = err instanceof Error ? err.message : String(err);
  }
  const auth = new ApiAuth(accounts, scryptParamsOf(config.services.map((s) => s.tokenHash)), sessions);
  void auth.warm().catch(() => undefined);
  return { auth, audit: new AuditLog(auditLogPath(config)), sessions, ...(sessionsError === undefined ? {} : { sessionsError }) };
}

/** A counter whose values are read from their source when rendered. */
class ReadCounter extends Counter {
  constructor(
    name: string,
    help: string,
    label: string,
    private readonly read: () => ReadonlyMap<string, number>,
  ) {
    super(name, help, label);
  }

  override render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [label, v] of [...this.read()].sort()) lines.push(`${this.name}{${this.labelName ?? 'label'}="${label.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"} ${v}`);
    return lines;
  }
}

/** A counter without labels whose value is read from its source when rendered. */
class ReadTotal extends Counter {
  constructor(
    name: string,
    help: string,
    private readonly read: () => number,
  ) {
    super(name, help);
  }

  override render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, `${this.name} ${this.read()}`];
  }
}

/** The notification path's watchdog (alerts.watchdog): its rule joins the engine's, its route the API's. */
export function createNotifyWatchdog(config: HubConfig, broker: Pick<HubBroker, 'publish'>, logger: Logger, metrics: HubMetrics): NotifyWatchdog {
  const watchdog = new NotifyWatchdog({ config: config.alerts.watchdog, publish: (topic, payload, retain) => broker.publish(topic, payload, retain), logger });
  if (watchdog.enabled) watchdog.addMetrics(metrics);
  return watchdog;
}

export function createAlertEngine(opts: { config: HubConfig; rules: RulesFile; broker: Pick<HubBroker, 'publish'>; write: Pick<WritePath, 'submitHubPoints'>; logger: Logger; metrics?: HubMetrics; extraRules?: readonly RuleInstance[] }): AlertEngine {
  const outputs = hubAlertOutputs({
    publish: (topic, payload, retain) => opts.broker.publish(topic, payload, retain),
    store: (points) => opts.write.submitHubPoints(points),
    logger: opts.logger,
  });
  const a = opts.config.alerts;
  const loop = new LoopDelayMonitor();
  const engine = new AlertEngine({
    rules: opts.extraRules === undefined ? opts.rules : { ...opts.rules, rules: [...opts.rules.rules, ...opts.extraRules] },
    outputs,
    statePath: a.statePath ?? join(dirname(opts.config.registry.path), 'alerts-state.json'),
    startupGraceMs: a.startupGrace,
    evaluateIntervalMs: a.evaluateIntervalMs,
    sliceBudgetMs: a.sliceBudgetMs,
    maxAlertsPerRuleSite: a.maxAlertsPerRuleSite,
    tooManySeriesClearMs: a.tooManySeriesClear,
    maxSilenceMs: a.maxSilence,
    maxSilences: a.maxSilences,
    replayIdleMs: a.replayIdle,
    maxReplaySessions: a.maxReplaySessions,
    logger: opts.logger,
    onStop: () => loop.stop(),
  });
  const m = opts.metrics;
  if (m !== undefined) {
    loop.start();
    m.addCounter(new ReadCounter('ioc_hub_alerts_capped_total', 'New series-alerts not opened because their rule + site was at alerts.maxAlertsPerRuleSite', 'rule', () => engine.stats().capped));
    m.addCounter(new ReadCounter('ioc_hub_alert_series_refused_total', 'Series a rule did not remember (maxSeriesPerSite / maxSeries of the rule)', 'rule', () => engine.stats().seriesRefused));
    m.addCounter(new ReadTotal('ioc_hub_alert_state_corrupt_total', 'Starts that found the alert state file corrupt, moved it aside (.corrupt) and began with no saved alerts', () => engine.stats().stateFileCorrupt));
    m.addCounter(new ReadCounter('ioc_hub_alert_incidents_total', 'Incidents formed (groups by labels, composites, the hub-link self-check), per incident rule', 'rule', () => engine.stats().grouping.formed));
    m.addCounter(new ReadTotal('ioc_hub_alert_incident_republished_total', 'Standing incident records published again because their parts changed (storm.groupInterval)', () => engine.stats().grouping.republished));
    m.addGauge({ name: 'ioc_hub_alert_incidents_standing', help: 'Incidents (groups, composites, hub-link) active now', read: () => engine.stats().grouping.standing });
    m.addCounter(new ReadTotal('ioc_hub_selfcheck_mass_drops_total', 'Times selfCheck.massDrop.share of the online agents dropped within selfCheck.massDrop.window', () => engine.stats().selfCheck.massDrops));
    m.addCounter(new ReadTotal('ioc_hub_selfcheck_uplink_downs_total', "Times the hub's uplink was found down (every target failed selfCheck.uplink.failures rounds in a row)", () => engine.stats().selfCheck.uplinkDowns));
    m.addCounter(new ReadTotal('ioc_hub_selfcheck_drops_forgotten_total', 'Agent drops the self-check forgot because its window held its bound of them', () => engine.stats().selfCheck.dropsForgotten));
    m.addCounter(new ReadTotal('ioc_hub_selfcheck_agents_untracked_total', 'Online statuses of agents the self-check did not track (it tracks at most 100,000 agents)', () => engine.stats().selfCheck.agentsUntracked));
    m.addCounter(new ReadCounter('ioc_hub_selfcheck_uplink_failures_total', 'Failed TCP connects of the uplink probe, per target', 'target', () => engine.stats().uplinkFailures));
    m.addGauge({ name: 'ioc_hub_selfcheck_uplink_up', help: "The hub's uplink: 1 up, 0 down, -1 not probed (no selfCheck.uplink.targets)", read: () => engine.stats().selfCheck.uplinkUp });
    m.addGauge({ name: 'ioc_hub_selfcheck_agents_online', help: 'Agents the self-check sees online (the base of the mass-drop share)', read: () => engine.stats().selfCheck.agentsOnline });
    m.addGauge({ name: 'ioc_hub_alerts_active', help: 'Alerts in the engine (pending, firing, acknowledged)', read: () => engine.stats().active });
    m.addGauge({ name: 'ioc_hub_alerts_over_cap', help: 'Rule + site pairs past alerts.maxAlertsPerRuleSite (each has one too-many-series alert)', read: () => engine.stats().overCap });
    m.addGauge({ name: 'ioc_hub_alert_slice_max_seconds', help: 'Longest slice of alert evaluation work since start', read: () => engine.stats().maxSliceMs / 1000 });
    m.addGauge({ name: 'ioc_hub_alert_slice_max_cpu_seconds', help: 'Most process CPU time one slice of alert work used since start', read: () => engine.stats().maxSliceCpuMs / 1000 });
    m.addGauge({ name: 'ioc_hub_alert_queued_jobs', help: 'Alert evaluation jobs waiting for their slices', read: () => engine.stats().queued });
    m.addGauge({ name: 'ioc_hub_event_loop_delay_max_seconds', help: 'Longest event-loop delay over the last 10 s (monitorEventLoopDelay)', read: () => loop.maxSeconds() });
    m.addGauge({ name: 'ioc_hub_event_loop_delay_p99_seconds', help: 'Worst per-second p99 event-loop delay over the last 10 s', read: () => loop.p99Seconds() });
    m.addCounter(new ReadTotal('ioc_hub_alert_replayed_points_total', 'Replayed (late) readings evaluated as history, on their own time', () => engine.replayStats().points));
    m.addCounter(new ReadTotal('ioc_hub_alert_replay_episodes_total', 'Alert episodes recorded from replayed readings (history, late=true, never announced)', () => engine.replayStats().episodes));
    m.addCounter(new ReadTotal('ioc_hub_alert_replay_refused_total', 'Replayed readings not evaluated: alerts.maxReplaySessions sites were being replayed', () => engine.replayStats().refused));
    m.addGauge({ name: 'ioc_hub_alert_replay_sessions', help: 'Sites whose replayed readings are being evaluated as history now', read: () => engine.replayStats().sessions });
  }
  return engine;
}

/** `checks`: the rules and the registry's sites, against which a silence is checked and incidents get their parts. */
export function alertHttpPlugin(engine: AlertEngine, access: ApiAccess, config: HubConfig, logger: Logger, checks?: { rules: RulesFile; sites: () => readonly { slug: string; area: string }[] }): FastifyPluginAsync {
  return alertRoutes({
    engine,
    auth: access.auth,
    audit: access.audit,
    logger,
    pageSize: config.alerts.pageSize,
    maxPageSize: config.alerts.maxPageSize,
    ...(checks === undefined ? {} : { rules: checks.rules, incidentRules: incidentRulesOf(checks.rules), sites: checks.sites }),
  });
}
