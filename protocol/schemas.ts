// zod schemas of every payload on the wire, with their size limits.
import { z } from 'zod';
import { MAX_BACKLOG_DEPTH, MAX_EPOCH_MS, MAX_SEQ, MIN_EPOCH_MS } from './envelope.ts';
import { RESERVED_TAG_KEYS } from './measurements.ts';
import { SLUG_PATTERN } from './topics.ts';

/**
 * The agent reserves batch seqs in blocks of this size (edge/seq-store.ts): after a restart its seq
 * continues at the next multiple of the block, so the hub tells a restart's jump from missing batches.
 */
export const SEQ_BLOCK = 1000;

export const LIMITS = {
  /** Largest MQTT payload the hub accepts (bytes). */
  maxPayloadBytes: 512 * 1024,
  /** Points in one telemetry/event batch. */
  maxPointsPerBatch: 5000,
  maxTagsPerPoint: 16,
  maxFieldsPerPoint: 64,
  maxTagValueLength: 256,
  maxStringFieldLength: 1024,
} as const;

/** The epoch bounds live with the batch envelope (envelope.ts), whose size they bound. */
export { MAX_EPOCH_MS, MIN_EPOCH_MS } from './envelope.ts';

export const slugSchema = z.string().regex(SLUG_PATTERN, 'must be a slug: 1-64 of a-z, 0-9, -');
export const epochMsSchema = z.int().min(MIN_EPOCH_MS, 'epoch milliseconds expected').max(MAX_EPOCH_MS, 'epoch milliseconds expected');

/** Measurement names, tag and field keys. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const measurementNameSchema = z.string().regex(NAME_PATTERN, 'measurement: lowercase letters, digits, _');
const keySchema = z.string().regex(NAME_PATTERN, 'key: lowercase letters, digits, _');
const tagValueSchema = z.string().min(1).max(LIMITS.maxTagValueLength);
const fieldValueSchema = z.union([z.number(), z.boolean(), z.string().max(LIMITS.maxStringFieldLength)]);

export const pointSchema = z.strictObject({
  /** Measurement. */
  m: measurementNameSchema,
  /** Collection time, epoch ms. */
  t: epochMsSchema,
  tags: z
    .record(keySchema, tagValueSchema)
    .optional()
    .refine((tags) => tags === undefined || Object.keys(tags).length <= LIMITS.maxTagsPerPoint, `at most ${LIMITS.maxTagsPerPoint} tags`)
    .refine(
      (tags) => tags === undefined || Object.keys(tags).every((k) => !RESERVED_TAG_KEYS.has(k)),
      'tags site, agent, province and area are set by the hub',
    ),
  fields: z
    .record(keySchema, fieldValueSchema)
    .refine((f) => Object.keys(f).length >= 1, 'at least one field')
    .refine((f) => Object.keys(f).length <= LIMITS.maxFieldsPerPoint, `at most ${LIMITS.maxFieldsPerPoint} fields`),
});
export type Point = z.infer<typeof pointSchema>;
export type FieldValue = z.infer<typeof fieldValueSchema>;

/** Its envelope (all but `points`) is written by `encodeBatch` in envelope.ts. */
export const batchSchema = z.strictObject({
  /** Rises by one per batch per agent, survives restarts. */
  seq: z.int().min(0).max(MAX_SEQ),
  /** Agent clock when the batch was (re)sent, epoch ms. */
  sentAt: epochMsSchema,
  /**
   * Replayed from the backlog after an outage (not collected since the connection came up).
   * Batch-level on purpose: it may differ between two deliveries of the same batch, so it never
   * reaches a point. Optional: batches without it are live.
   */
  late: z.literal(true).optional(),
  /** The agent's backlog when this batch was sent: set on every batch while a replay is under way. */
  backlog: z
    .strictObject({
      /** Batches of the backlog not yet acknowledged. */
      depth: z.int().min(0).max(MAX_BACKLOG_DEPTH),
      /** Append time of the oldest batch not yet acknowledged, agent clock, epoch ms. */
      oldestT: epochMsSchema,
    })
    .optional(),
  points: z.array(pointSchema).min(1).max(LIMITS.maxPointsPerBatch),
});
export type Batch = z.infer<typeof batchSchema>;

/** USB devices an inventory lists at most (the status must stay under 4 KiB). */
export const MAX_INVENTORY_USB = 16;

/**
 * What the agent reports of its device with its online status (fleet inventory). Every field is optional: a missing
 * file (no device tree on x86) is an absent field, and older agents send no inventory at all. Unknown fields are
 * dropped, so a newer agent's additions do not make an older hub refuse its status.
 */
export const inventorySchema = z.object({
  /** PRETTY_NAME of /etc/os-release. */
  os: z.string().max(128).optional(),
  /** Kernel release (uname -r). */
  kernel: z.string().max(128).optional(),
  arch: z.string().max(32).optional(),
  /** /proc/device-tree/model, e.g. `Raspberry Pi 4 Model B Rev 1.5`. */
  boardModel: z.string().max(128).optional(),
  /** `Serial` of /proc/cpuinfo. */
  boardSerial: z.string().max(64).optional(),
  /** The filesystem of the agent's data folder. */
  diskTotalBytes: z.number().int().min(0).optional(),
  diskFreeBytes: z.number().int().min(0).optional(),
  /** Seconds since the device booted (/proc/uptime). */
  uptimeS: z.number().int().min(0).optional(),
  usb: z
    .array(z.object({ vendorId: z.string().regex(/^[0-9a-f]{4}$/), productId: z.string().regex(/^[0-9a-f]{4}$/), product: z.string().max(64).optional() }))
    .max(MAX_INVENTORY_USB)
    .optional(),
});
export type Inventory = z.infer<typeof inventorySchema>;

/**
 * What an agent reports of the last config the hub pushed, in its status until the next: applied (it reached
 * the hub with it), refused (it would not validate or not be written), rolled-back (it could not reach the hub
 * with it within confirmTimeoutS and went back to the previous file).
 */
export const configResultSchema = z.strictObject({
  rev: z.int().min(0),
  state: z.enum(['applied', 'refused', 'rolled-back']),
  at: z.int().min(0),
  error: z.string().max(1024).optional(),
});
export type ConfigResult = z.infer<typeof configResultSchema>;

export const statusSchema = z.strictObject({
  online: z.boolean(),
  ts: epochMsSchema,
  version: z.string().max(64),
  bootId: z.string().max(64),
  configRev: z.union([z.string().max(64), z.int()]),
  clockSynced: z.boolean(),
  /** With the online status: the device (fleet inventory); optional, older agents send none. */
  inventory: inventorySchema.optional(),
  /** The outcome of the last config the hub pushed (remote configuration); optional, older agents send none. */
  configResult: configResultSchema.optional(),
});
export type Status = z.infer<typeof statusSchema>;

export const commandSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  issuedAt: epochMsSchema,
  args: z.record(z.string(), z.unknown()).default({}),
});
export type Command = z.infer<typeof commandSchema>;

export const commandResultSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  ok: z.boolean(),
  at: epochMsSchema,
  error: z.string().max(1024).optional(),
  result: z.unknown().optional(),
});
export type CommandResult = z.infer<typeof commandResultSchema>;

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const ALERT_STATES = ['pending', 'firing', 'acknowledged', 'resolved'] as const;

/** Members listed in one incident record; `value` and `labels.sites` count them all. */
export const MAX_ALERT_PARTS = 500;
export const alertPartSchema = z.strictObject({
  site: slugSchema,
  rule: z.string().min(1).max(128).optional(),
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/).optional(),
  agent: slugSchema.optional(),
});
export type AlertPart = z.infer<typeof alertPartSchema>;

export const alertRecordSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  site: slugSchema,
  rule: z.string().min(1).max(128),
  severity: z.enum(SEVERITIES),
  state: z.enum(ALERT_STATES),
  since: epochMsSchema,
  updatedAt: epochMsSchema,
  value: z.number().optional(),
  summary: z.strictObject({ vi: z.string().max(1024), en: z.string().max(1024) }),
  labels: z.record(z.string(), z.string()).default({}),
  /** Recorded from replayed readings (an outage's backlog): history, never a current event. */
  late: z.literal(true).optional(),
  /** A late record's end, reading time (its start is `since`). */
  endsAt: epochMsSchema.optional(),
  ackedBy: z.string().max(128).optional(),
  /** An incident's members (a group's alerts, the agents of a hub-link incident), at most MAX_ALERT_PARTS listed. */
  parts: z.array(alertPartSchema).max(MAX_ALERT_PARTS).optional(),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

/** A heartbeat of the notification path (WATCHDOG_TOPIC), and what Node-RED reports back once it is delivered. */
export const watchdogHeartbeatSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  sentAt: epochMsSchema,
});
export type WatchdogHeartbeat = z.infer<typeof watchdogHeartbeatSchema>;
