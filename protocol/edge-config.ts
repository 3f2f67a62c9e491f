// The agent's config schema as both sides see it: edge/config.ts parses its file with it (adding each collector's
// own schema for `collectors[]`), and the hub validates a config it renders for an agent with it before delivery
// (remote configuration), so that a config the agent would refuse never leaves the hub.
import { z } from 'zod';
import { slugSchema } from './schemas.ts';
import { isSiteSlug } from './topics.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The collector types the agent knows (edge/collectors/index.ts COLLECTOR_PLUGINS; a test holds the two equal). */
export const EDGE_COLLECTOR_TYPES = ['tcp', 'http', 'dns', 'icmp', 'host', 'net_iface', 'uplink', 'queue', 'display', 'modbus', 'gpio'] as const;

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

/**
 * Every key of the agent's config; `collectors[]` entries are checked here for their `type` only (the agent checks
 * the rest with each plugin's own schema, see edge/config.ts).
 */
export const edgeConfigBaseSchema = z.strictObject({
  site: slugSchema.refine(isSiteSlug, 'reserved site slug'),
  agent: slugSchema,
  hub: hubConfigSchema,
  dataDir: z.string().min(1).default('/var/lib/ioc-edge'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Reported in the status message; defaults to a hash of the config file (a config the hub pushed: its revision). */
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
  remoteConfig: z
    .strictObject({
      /** After applying a config the hub pushed, the agent must reach the hub within this long, or it goes back to the previous file by itself. */
      confirmTimeoutS: z.number().min(1).max(3600).default(120),
    })
    .prefault({}),
  collectors: z.array(z.looseObject({ type: z.enum(EDGE_COLLECTOR_TYPES) })).max(256).default([]),
});

/** The command that carries a pushed config (`ioc/v1/{site}/{agent}/cmd/config-apply`). */
export const CONFIG_APPLY_COMMAND = 'config-apply';

export const configApplyArgsSchema = z.strictObject({
  rev: z.int().min(1),
  /** The YAML the agent writes (without hub.token: the agent keeps its own). */
  config: z.string().min(1).max(256 * 1024),
});
export type ConfigApplyArgs = z.infer<typeof configApplyArgsSchema>;
