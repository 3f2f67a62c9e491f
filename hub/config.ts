// Hub configuration: zod schema with every default, YAML file + IOC_HUB_* env overrides, frozen result.
import { z } from 'zod';
import { readYamlFile as readYamlDocument, YamlConfigError } from '../common/yaml-config.ts';
import { LIMITS, MAX_TOPIC_DEPTH, describeIssues } from '../protocol/index.ts';
import { durationSchema as msDurationSchema } from './alerts/duration.ts';
import { serviceAccountSchema } from './auth/service-accounts.ts';
import { consoleConfigSchema, sessionsConfigSchema } from './auth/session-config.ts';
import { wallConfigSchema } from './http/wall-config.ts';
import { deepFreeze, type DeepReadonly } from '../common/deep-freeze.ts';
import { HubError } from './errors.ts';
import { defaultRegistryPath } from './state-dir.ts';

const portSchema = z.int().min(0).max(65535);
const durationSchema = z.string().regex(/^(INF|\d+[hdw])$/, 'an InfluxDB duration such as 90d, 12w, 720h or INF');

const tlsSchema = z.strictObject({
  port: portSchema.default(8883),
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  caFile: z.string().min(1).optional(),
});

const mqttSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: portSchema.default(1883),
  /** false: no plaintext listener (TLS only; needs `tls`). */
  plain: z.boolean().default(true),
  tls: tlsSchema.optional(),
  /** A socket that has not sent its CONNECT by then is closed (Aedes' connectTimeout). */
  connectTimeoutMs: z.int().min(100).max(120_000).default(10_000),
  /** Open connections in all, and from one source address (agents behind one carrier NAT share one). */
  maxConnections: z.int().min(1).default(10_000),
  maxConnectionsPerAddress: z.int().min(1).default(1000),
  /** Largest packet before authentication (the CONNECT), refused from its fixed header. After: 2 × limits.maxPayloadBytes + 1 KiB (a batch somewhat over the payload limit is still acknowledged and dropped, not resent forever). */
  maxPreConnectPacketBytes: z.int().min(128).max(1024 * 1024).default(4096),
  /** Failed authentications per source address (token bucket); past it CONNECTs are refused without running scrypt. */
  authFailures: z.strictObject({ burst: z.int().min(1).default(20), perMinute: z.number().positive().default(20) }).prefault({}),
  /**
   * EMQX-style flapping detect: within windowMs, maxConnects accepted connects of one client id, or maxTakeovers
   * made while its session is live (kicking it or refused for trying), ban it for banMs. A crash-looping agent
   * restarts slower than 1/s, so only a broken or hostile client reaches maxConnects.
   */
  flapping: z
    .strictObject({ maxConnects: z.int().min(2).default(60), maxTakeovers: z.int().min(1).default(5), windowMs: z.int().min(1000).default(60_000), banMs: z.int().min(1000).default(300_000) })
    .prefault({}),
  /** A second connection of a live identity is refused unless the live one has been silent this long (1.5 × the agents' keepalive). */
  takeoverIdleMs: z.int().min(0).default(45_000),
}).refine((m) => m.plain || m.tls !== undefined, { message: 'mqtt.plain: false needs mqtt.tls (no listener left)', path: ['plain'] });

const httpSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: portSchema.default(8080),
});

const influxSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8086'),
  database: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('ioc'),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  retention: durationSchema.default('90d'),
  batchSize: z.int().min(1).max(100_000).default(5000),
  flushIntervalMs: z.int().min(1).max(60_000).default(100),
  maxInflightWrites: z.int().min(1).max(64).default(2),
  timeoutMs: z.int().min(100).max(300_000).default(10_000),
});

const registrySchema = z.strictObject({
  /** Default: $XDG_STATE_HOME/ioc-hub/registry.json (~/.local/state when unset), outside any checkout. */
  path: z.string().min(1).default(() => defaultRegistryPath()),
  /** The key of the agents' token HMACs (32 random bytes, made once, mode 0600); default: `hub-secret` beside the registry. */
  secretPath: z.string().min(1).optional(),
  /** How often the running hub looks for the CLI's writes (enroll, rotate, revoke take effect within it). */
  pollMs: z.int().min(10).max(250).default(200),
  /** Longest wait for another process's write to the registry database. */
  busyTimeoutMs: z.int().min(100).max(60_000).default(5000),
  /** How often the agents' last seen is written for the CLI's `agents list` (their reports are written within 1 s). */
  lastSeenFlushMs: z.int().min(1000).max(600_000).default(30_000),
});

const limitsSchema = z.strictObject({
  maxPayloadBytes: z.int().min(256).max(64 * 1024 * 1024).default(LIMITS.maxPayloadBytes),
  maxTopicDepth: z.int().min(4).max(100).default(MAX_TOPIC_DEPTH),
  maxPendingPoints: z.int().min(1).default(200_000),
  /** Readings more than this far ahead of the hub's clock are refused (per point) and reported as a clock problem. */
  maxFutureMs: z.int().min(0).max(7 * 86_400_000).default(600_000),
  /** Readings older than this are refused likewise; default: the raw retention (INF: no lower bound but 2001). */
  maxPastMs: z.int().min(60_000).optional(),
});

/** Per-agent budgets (hub/accept/budgets.ts): each hit is counted in /metrics and shown in the agent's /api/sites entry. */
const budgetsSchema = z.strictObject({
  /** Points per second per agent (token bucket); past it the PUBACK is held, past `maxHoldMs` the publish is refused unacknowledged. */
  pointsPerS: z.number().positive().default(5000),
  pointsBurst: z.number().positive().default(10_000),
  /** Payload bytes per second per agent, likewise. */
  bytesPerS: z.number().positive().default(1024 * 1024),
  bytesBurst: z.number().positive().default(2 * 1024 * 1024),
  /** Longest a PUBACK is held for a rate budget (holding stalls only that agent's socket; refusing makes it reconnect, which costs the hub more). */
  maxHoldMs: z.int().min(0).max(120_000).default(30_000),
  /** Distinct series (measurement + tags) per agent per UTC day; new series past it are refused. */
  seriesPerDay: z.int().min(1).default(2000),
  /** Points of one agent queued in ingest; past it that agent's submits wait (the others' do not). */
  pendingPointsPerAgent: z.int().min(1).default(20_000),
  /** Bytes of one agent in the spool; past it its batches are refused before the ack (never evicting another's). */
  spoolShareBytes: z.int().min(1024).default(64 * 1024 * 1024),
});

const alertsSchema = z.strictObject({
  /** YAML file of alert rules, office hours and storm control (see hub/samples/alerts.yaml); none: no rules. */
  rulesFile: z.string().min(1).optional(),
  /** Active alerts, silences and rule memory, kept over restarts; default: alerts-state.json beside the registry. */
  statePath: z.string().min(1).optional(),
  /** Nothing starts firing this long after the hub starts (agents are reconnecting). */
  startupGrace: msDurationSchema.prefault('90s'),
  evaluateIntervalMs: z.int().min(0).max(60_000).default(1000),
  /** Evaluation runs in slices of at most this many ms, yielding to the event loop between them. */
  sliceBudgetMs: z.int().min(1).max(100).default(5),
  /** Alerts one rule may have open at one site; past it one `too-many-series` alert stands for the rest (ioc_hub_alerts_capped_total). */
  maxAlertsPerRuleSite: z.int().min(1).max(100_000).default(50),
  /** The `too-many-series` alert clears once under the cap with no new series refused for this long. */
  tooManySeriesClear: msDurationSchema.prefault('5m'),
  /** Longest a silence may last (from its start or now, whichever is later). */
  maxSilence: msDurationSchema.prefault('7d'),
  /** Active silences kept at most. */
  maxSilences: z.int().min(1).max(100_000).default(1000),
  /** Replayed (late) readings are evaluated as history per site; a site's replay ends once none came for this long. */
  replayIdle: msDurationSchema.prefault('60s'),
  /** Sites replayed at once; the late readings of more are not evaluated (ioc_hub_alert_replay_refused_total). */
  maxReplaySessions: z.int().min(1).max(1_000_000).default(5000),
  /** GET /api/alerts: page size without `limit`, and the largest `limit`. */
  pageSize: z.int().min(1).max(10_000).default(100),
  maxPageSize: z.int().min(1).max(10_000).default(500),
  /**
   * The notification path's watchdog (hub/alerts/watchdog.ts): a heartbeat on ioc/v1/alerts/watchdog every `interval`,
   * which Node-RED delivers to its heartbeat recipient and reports back (POST /api/notify/heartbeat). None delivered
   * for `bound`: the critical `notify-path-down` alert, also mailed straight to `fallback.to` (Node-RED may be the dead part).
   */
  watchdog: z
    .strictObject({
      enabled: z.boolean().default(false),
      interval: msDurationSchema.prefault('5m'),
      bound: msDurationSchema.prefault('15m'),
      fallback: z
        .strictObject({
          to: z.array(z.email()).default([]),
          host: z.string().default('127.0.0.1'),
          port: z.int().min(1).max(65535).default(25),
          secure: z.boolean().default(false),
          user: z.string().optional(),
          pass: z.string().optional(),
          from: z.string().default('IOC hub <ioc-hub@localhost>'),
          timeoutMs: z.int().min(100).default(10_000),
          /** A fallback mail that fails is retried (full jitter) from `minDelay` up to `maxDelay` while the alert stands. */
          minDelay: msDurationSchema.prefault('5s'),
          maxDelay: msDurationSchema.prefault('5m'),
        })
        .prefault({}),
    })
    .prefault({}),
});

const auditSchema = z.strictObject({
  /** JSON lines of every write (ack, silence, enroll, revoke, sites import); default: audit.jsonl beside the registry. */
  path: z.string().min(1).optional(),
});

const spoolSchema = z.strictObject({
  /** Batches InfluxDB cannot take are kept here (fsynced before the PUBACK); default: `spool/` beside the registry file. */
  dir: z.string().min(1).optional(),
  /** Bytes on disk; past it the oldest spooled batches are dropped and counted (ioc_hub_spool_dropped_total). */
  maxBytes: z.int().min(1024 * 1024).default(4 * 1024 * 1024 * 1024),
  /** Group commit window of the spool fsync; 0 = at once, concurrent batches sharing one fsync. */
  fsyncIntervalMs: z.int().min(0).max(1000).default(0),
});

/** Rollup buckets that late points touched (older than the CQs recompute) are recomputed (storage/rollup-backfill.ts). */
const rollupsSchema = z.strictObject({
  /** Recompute once no new bucket was touched for this long… */
  debounce: msDurationSchema.prefault('2s'),
  /** …but at the latest this long after the first one of a round. */
  maxDelay: msDurationSchema.prefault('30s'),
  /** Buckets waiting, both rollups together; past it new ones are dropped (ioc_hub_rollup_windows_dropped_total). */
  maxWindows: z.int().min(1).max(10_000_000).default(20_000),
});

const releasesSchema = z.strictObject({
  /** Where `ioc-hub release add` keeps the agent bundles the hub serves; default: releases/ beside the registry. */
  dir: z.string().min(1).optional(),
  /** The hub's HTTP address as the agents reach it (the manifest URL of an update); default: http://HOST:PORT of `http`. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How often the rollout runner looks at the rollout (and sees the CLI's start and stop). */
  tickMs: z.int().min(50).max(60_000).default(1000),
  /** An agent whose update was accepted must run the new version, committed, within this long (else it failed). */
  agentTimeoutS: z.int().min(10).max(86_400).default(900),
  /** Agents sent the update at once (each downloads the bundle). */
  parallel: z.int().min(1).max(1000).default(20),
});

const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const hubConfigSchema = z.strictObject({
  mqtt: mqttSchema.prefault({}),
  http: httpSchema.prefault({}),
  influx: influxSchema.prefault({}),
  registry: registrySchema.prefault({}),
  limits: limitsSchema.prefault({}),
  budgets: budgetsSchema.prefault({}),
  spool: spoolSchema.prefault({}),
  log: logSchema.prefault({}),
  alerts: alertsSchema.prefault({}),
  audit: auditSchema.prefault({}),
  rollups: rollupsSchema.prefault({}),
  /** Service accounts (Node-RED…): MQTT user `service:NAME`, API `Bearer NAME:TOKEN`. */
  services: z.array(serviceAccountSchema).default([]),
  /** People's logins: users and sessions in accounts.db (`ioc-hub users …`), cookies, login throttle. */
  sessions: sessionsConfigSchema.prefault({}),
  /** The web console served on the HTTP port. */
  console: consoleConfigSchema.prefault({}),
  /** Agent software updates: bundles served over HTTP, rollouts in waves (hub/agents/rollouts.ts). */
  releases: releasesSchema.prefault({}),
  /** The wall (console/wall.html): tile freshness bounds, headline figures. */
  wall: wallConfigSchema.prefault({}),
  /** Delivery of the configs set with `ioc-hub config set` (remote configuration, agents/config-delivery.ts). */
  remoteConfig: z
    .strictObject({
      /** Configs sent and waiting for the agent's answer at once; the rest wait their turn (ioc_hub_config_delivery_queue). */
      maxInflight: z.int().min(1).max(1000).default(20),
      /** Wait for the agent's answer to a config; past it the delivery counts as a timeout and is sent again on its next connect. */
      timeoutMs: z.int().min(100).max(600_000).default(30_000),
      /** A connected agent still without its revision (a timeout) is sent it again this often. */
      retryMs: z.int().min(100).max(3_600_000).default(60_000),
    })
    .prefault({}),
});

export type HubConfigInput = z.input<typeof hubConfigSchema>;
export type HubConfig = DeepReadonly<z.output<typeof hubConfigSchema>>;

/** Environment variables and the config path each one overrides. */
export const ENV_OVERRIDES: Readonly<Record<string, readonly string[]>> = {
  IOC_HUB_MQTT_HOST: ['mqtt', 'host'],
  IOC_HUB_MQTT_PORT: ['mqtt', 'port'],
  IOC_HUB_MQTT_TLS_PORT: ['mqtt', 'tls', 'port'],
  IOC_HUB_HTTP_HOST: ['http', 'host'],
  IOC_HUB_HTTP_PORT: ['http', 'port'],
  IOC_HUB_INFLUX_URL: ['influx', 'url'],
  IOC_HUB_INFLUX_DATABASE: ['influx', 'database'],
  IOC_HUB_INFLUX_USERNAME: ['influx', 'username'],
  IOC_HUB_INFLUX_PASSWORD: ['influx', 'password'],
  IOC_HUB_REGISTRY_PATH: ['registry', 'path'],
  IOC_HUB_REGISTRY_SECRET_PATH: ['registry', 'secretPath'],
  IOC_HUB_LOG_LEVEL: ['log', 'level'],
  IOC_HUB_ALERTS_RULES_FILE: ['alerts', 'rulesFile'],
  IOC_HUB_ALERTS_STATE_PATH: ['alerts', 'statePath'],
};

/** Validates a raw config object (already merged) and freezes it. */
export function parseHubConfig(raw: unknown, source = 'config'): HubConfig {
  const parsed = hubConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new HubError('E_CONFIG', `invalid ${source}: ${describeIssues(parsed.error.issues, 20)}`, { cause: parsed.error });
  }
  return deepFreeze(parsed.data);
}

export interface LoadHubConfigOptions {
  /** YAML file; optional (defaults + env alone are a valid config). */
  path?: string;
  /** Environment, default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function loadHubConfig(opts: LoadHubConfigOptions = {}): HubConfig {
  const raw = opts.path === undefined ? {} : readYamlFile(opts.path);
  applyEnvOverrides(raw, opts.env ?? process.env);
  return parseHubConfig(raw, opts.path ?? 'config');
}

function readYamlFile(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = readYamlDocument(path).doc; // no excerpt of the file in the message: it may hold a password
  } catch (err: unknown) {
    throw err instanceof YamlConfigError ? new HubError('E_CONFIG', err.message, { cause: err.cause }) : err;
  }
  if (!isRecord(doc)) throw new HubError('E_CONFIG', `${path}: (root): expected a mapping`);
  return doc;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): void {
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, /^\d+$/.test(value) && path.at(-1) === 'port' ? Number(value) : value, name);
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown, envName: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (child === undefined || child === null) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else if (isRecord(child)) {
      node = child;
    } else {
      throw new HubError('E_CONFIG', `${envName}: ${path.join('.')} cannot be set, ${key} is not a mapping`);
    }
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
