// Agent configuration: YAML file + environment overrides, validated once with zod, then frozen.
import { deepFreeze } from '../common/deep-freeze.ts';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readYamlFile, YamlConfigError, type YamlFile } from '../common/yaml-config.ts';
import { issueLines } from '../common/zod-issues.ts';
import { isSiteSlug, slugSchema } from '../protocol/index.ts';
import { collectorConfigSchema } from './collectors/index.ts';
import { EdgeError } from './errors.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const hubConfigSchema = z.strictObject({
  /** `mqtt://host:1883` or `mqtts://host:8883`. */
  url: z.string().regex(/^mqtts?:\/\/[^\s/]+(?::\d+)?\/?$/, 'expected mqtt://host[:port] or mqtts://host[:port]'),
  /** Enrollment token: the MQTT password. */
  token: z.string().min(1).max(512),
  /** PEM CA bundle to verify the hub (mqtts). */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key (PEM) for a hub that requires mTLS; its CN is `{site}/{agent}`. */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** false turns off the check of the hub's certificate: anyone on the path can pose as the hub. The link warns about it every 10 minutes. */
  rejectUnauthorized: z.boolean().default(true),
  keepaliveS: z.int().min(5).max(1200).default(30),
  /** Time allowed from opening the socket to CONNACK. */
  connectTimeoutMs: z.int().min(500).max(120_000).default(10_000),
}).refine((h) => (h.certFile === undefined) === (h.keyFile === undefined), { message: 'certFile and keyFile go together', path: ['certFile'] });

export const edgeConfigSchema = z.strictObject({
  site: slugSchema.refine(isSiteSlug, 'reserved site slug'),
  agent: slugSchema,
  hub: hubConfigSchema,
  dataDir: z.string().min(1).default('/var/lib/ioc-edge'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Reported in the status message; defaults to a hash of the config file. */
  configRev: z.union([z.string().min(1).max(64), z.int().min(0)]).default(0),
  batch: z
    .strictObject({
      maxPoints: z.int().min(1).max(5000).default(500),
      flushIntervalMs: z.int().min(10).max(600_000).default(1000),
    })
    .prefault({}),
  link: z
    .strictObject({
      maxInflight: z.int().min(1).max(1000).default(8),
      /** After an outage the backlog is replayed oldest first at this many batches a second, beside live batches. */
      replayBatchesPerS: z.number().positive().max(100_000).default(20),
      reconnectMinMs: z.int().min(1).max(600_000).default(1000),
      reconnectMaxMs: z.int().min(1).max(3_600_000).default(60_000),
    })
    .refine((l) => l.reconnectMaxMs >= l.reconnectMinMs, { message: 'must be ≥ reconnectMinMs', path: ['reconnectMaxMs'] })
    .prefault({}),
  clock: z
    .strictObject({
      /** A Pi has no RTC: while timesyncd says the clock is not synced, readings wait in memory this long for it (0: never). */
      holdUnsyncedS: z.int().min(0).max(86_400).default(120),
      /** …and at most this many readings; past either bound they are sent with the time they have. */
      maxHoldPoints: z.int().min(0).max(1_000_000).default(20_000),
      /** A wall-clock step against the monotonic clock this large counts as the clock being set. */
      jumpThresholdS: z.int().min(1).max(86_400).default(30),
    })
    .prefault({}),
  outbox: z
    .strictObject({
      /** Batches kept while the hub is unreachable; beyond it the oldest are dropped and counted. */
      maxBatches: z.int().min(1).max(10_000_000).default(100_000),
      /** `disk`: the durable journal under dataDir/outbox (default); `memory`: lost on restart. */
      kind: z.enum(['disk', 'memory']).default('disk'),
      /** Bytes the disk outbox may use on the SD card; past it the oldest batches are dropped and counted. */
      maxBytes: z.int().min(256 * 1024).max(64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
      /** Batches older than this many hours are dropped and counted. */
      maxAgeH: z.number().positive().max(24 * 365).default(7 * 24),
      /** Group commit: fsync at most this long after a write (an SD card must not be written per point). */
      fsyncIntervalMs: z.int().min(0).max(60_000).default(1000),
      /** …or once this many batches/acks are waiting for fsync. */
      fsyncEveryRecords: z.int().min(1).max(1_000_000).default(64),
    })
    .prefault({}),
  collectors: z.array(collectorConfigSchema).max(256).default([]),
  /** Software updates from the hub (edge/update/): signed bundles installed beside the running version (A/B). */
  update: z
    .strictObject({
      /** PEM ed25519 public key (`ioc-hub release keygen`) whose signature a bundle must carry; none: updates refused. */
      publicKey: z.string().regex(/-----BEGIN PUBLIC KEY-----/, 'a PEM public key').optional(),
      /** A new version must be connected and sending within this long after the switch, else it is switched back. */
      healthTimeoutS: z.int().min(5).max(86_400).default(300),
      /** Starts of a new version that may fail before it is switched back. */
      maxAttempts: z.int().min(1).max(20).default(3),
      downloadTimeoutS: z.int().min(5).max(7200).default(600),
    })
    .prefault({}),
});

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

export class ConfigError extends EdgeError {
  /** Every problem as `path: message`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string, cause?: unknown) {
    super('E_CONFIG', `invalid config ${source}:\n  ${issues.join('\n  ')}`, { cause });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Applies IOC_EDGE_* overrides onto the raw (unvalidated) object. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const hubRaw = out.hub;
  const hub: Record<string, unknown> = typeof hubRaw === 'object' && hubRaw !== null && !Array.isArray(hubRaw) ? { ...(hubRaw as Record<string, unknown>) } : {};
  if (env.IOC_EDGE_HUB_URL) hub.url = env.IOC_EDGE_HUB_URL;
  if (env.IOC_EDGE_HUB_TOKEN) hub.token = env.IOC_EDGE_HUB_TOKEN;
  if (env.IOC_EDGE_HUB_URL || env.IOC_EDGE_HUB_TOKEN || hubRaw !== undefined) out.hub = hub;
  if (env.IOC_EDGE_DATA_DIR) out.dataDir = env.IOC_EDGE_DATA_DIR;
  if (env.IOC_EDGE_LOG_LEVEL) out.logLevel = env.IOC_EDGE_LOG_LEVEL;
  return out;
}

/** Validates an already-parsed object (YAML or literal). Throws ConfigError (E_CONFIG). */
export function parseEdgeConfig(raw: unknown, source = '(inline)'): Readonly<EdgeConfig> {
  const parsed = edgeConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(issueLines(parsed.error.issues), source, parsed.error);
  deepFreeze(parsed.data);
  return parsed.data;
}

export async function loadEdgeConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Readonly<EdgeConfig>> {
  let file: YamlFile;
  try {
    file = readYamlFile(path);
  } catch (err: unknown) {
    if (!(err instanceof YamlConfigError)) throw err;
    if (err.code === 'E_CONFIG_READ') throw new EdgeError('E_CONFIG_READ', `cannot read config ${path}`, { cause: err.cause });
    throw new ConfigError(err.issues, path, err.cause);
  }
  const { text, doc } = file;
  const withEnv = applyEnvOverrides(doc, env);
  if (typeof withEnv === 'object' && withEnv !== null && !Array.isArray(withEnv) && !('configRev' in withEnv)) {
    (withEnv as Record<string, unknown>).configRev = createHash('sha256').update(text).digest('hex').slice(0, 12);
  }
  return parseEdgeConfig(withEnv, path);
}
