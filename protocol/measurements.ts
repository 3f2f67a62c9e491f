// The agent data contract: every measurement written to InfluxDB, its tag keys and one type per field.
// Extend, never rename: dashboards and rules read these. The hub enforces it on every agent point
// (protocol/contract.ts); edge collectors and the simulators are checked against it by tests.
// A few agent measurements are stored under another name (STORED_AS): the wire name is the agent's, the
// stored one may be the hub's.

/** A field's one type in InfluxDB: numbers are written as floats, booleans as bools, strings as strings. */
export type FieldType = 'number' | 'boolean' | 'string';

export interface MeasurementSpec {
  /** Who writes it: `hub` measurements are refused from agents. */
  readonly owner: 'agent' | 'hub';
  /** Every tag key, hub tags (site, agent) included. */
  readonly tags: readonly string[];
  /** Every known field with its one type. */
  readonly fields: Readonly<Record<string, FieldType>>;
  /** Type allowed for fields not listed (equipment: per-device register maps); absent: unknown fields are refused. */
  readonly otherFields?: FieldType;
  /** One line for the measurement tables of the READMEs (generated from this catalogue). */
  readonly note?: string;
}

const n = 'number' as const;
const b = 'boolean' as const;
const s = 'string' as const;

/** Fields every probe-like reading carries (a failed probe is a reading with a result code). */
const PROBE_FIELDS = { up: n, result: s, rtt_ms: n } as const;

export const MEASUREMENTS = {
  /**
   * The hub writes `online` (from status) and `clock_offset_ms`; the agent's self-report arrives as
   * `agent_report` and is stored here (STORED_AS). An agent may never write `agent` itself: a forged
   * `online=false` would raise site-offline and suppress the site's real alerts.
   */
  agent: {
    owner: 'hub',
    note: "the hub's `online` (from status) and `clock_offset_ms`; the agent's `agent_report` is stored here",
    tags: ['site', 'agent'],
    fields: { online: b, uptime_s: n, outbox_depth: n, dropped_total: n, clock_offset_ms: n },
  },
  /** The agent's self-report (edge/agent.ts, every 30 s): on the wire only, stored as `agent` (STORED_AS). */
  agent_report: { owner: 'agent', note: "the agent's self-report every 30 s; on the wire only, stored as `agent`", tags: ['site', 'agent'], fields: { uptime_s: n, outbox_depth: n, dropped_total: n } },
  net_probe: {
    owner: 'agent',
    note: 'method icmp/tcp/http/dns; `up` is 1/0; a failed probe is `up=0` with a `result` code',
    tags: ['site', 'agent', 'target', 'method'],
    fields: { ...PROBE_FIELDS, loss_pct: n, status: n, cert_days_left: n, rtt_min_ms: n, rtt_max_ms: n, jitter_ms: n },
  },
  net_iface: {
    owner: 'agent',
    note: 'rates from the second gather; `present=0` for a configured interface that is missing',
    tags: ['site', 'agent', 'iface'],
    fields: { rx_bps: n, tx_bps: n, errors: n, drops: n, rx_bytes: n, tx_bytes: n, present: n },
  },
  uplink: { owner: 'agent', note: '`uplink` is fibre/adsl/4g/wifi/other, or none without a default route', tags: ['site', 'agent'], fields: { uplink: s, iface: s, uplink_since: n, since_s: n, on_4g: n } },
  queue: {
    owner: 'agent',
    note: 'counter `all` is the whole office',
    tags: ['site', 'agent', 'counter'],
    fields: {
      waiting: n,
      issued_total: n,
      served_total: n,
      current_number: n,
      avg_wait_s: n,
      skipped_total: n,
      longest_wait_s: n,
      p90_wait_s: n,
      avg_service_s: n,
      p90_service_s: n,
    },
  },
  display: {
    owner: 'agent',
    note: '`frozen` once the shown number lags the queue for `frozenAfterS`',
    tags: ['site', 'agent', 'display'],
    fields: { alive: n, last_seen_s: n, frozen: n, shown_number: n, expected_number: n, result: s },
  },
  /** Per-device register maps (edge/collectors/modbus/profiles.ts and custom maps): known fields typed, any other field a number. */
  equipment: {
    owner: 'agent',
    note: "kind ups/meter/aircon/env/printer; any other field of a device's register map is a number",
    tags: ['site', 'agent', 'device', 'kind'],
    fields: {
      ...PROBE_FIELDS,
      battery_pct: n,
      on_battery: n,
      input_v: n,
      output_v: n,
      load_pct: n,
      runtime_min: n,
      temp_c: n,
      humidity_pct: n,
      kwh: n,
      power_w: n,
      voltage_v: n,
      current_a: n,
      frequency_hz: n,
    },
    otherFields: n,
  },
  gpio: { owner: 'agent', note: '`available=0` while the line cannot be read', tags: ['site', 'agent', 'pin', 'name'], fields: { state: n, available: n } },
  host: {
    owner: 'agent',
    note: '`throttled` and its decoded bits only where vcgencmd exists',
    tags: ['site', 'agent'],
    fields: {
      cpu_pct: n,
      mem_pct: n,
      disk_pct: n,
      temp_c: n,
      throttled: n,
      uptime_s: n,
      under_voltage: n,
      freq_capped: n,
      throttled_now: n,
      soft_temp_limit: n,
      under_voltage_seen: n,
      throttled_seen: n,
    },
  },
  // Discrete events, sent on the event topic.
  queue_event: { owner: 'agent', note: 'event topic', tags: ['site', 'agent', 'counter', 'type'], fields: { number: n, wait_s: n, service_s: n } },
  display_event: { owner: 'agent', note: 'event topic', tags: ['site', 'agent', 'display', 'type'], fields: { alive: n, frozen: n, shown_number: n } },
  gpio_event: { owner: 'agent', note: 'event topic', tags: ['site', 'agent', 'pin', 'name'], fields: { state: n } },
  uplink_event: { owner: 'agent', note: 'event topic', tags: ['site', 'agent'], fields: { uplink: s, iface: s, previous: s, previous_iface: s } },
  // `late`: an episode of replayed readings, written at its original start and end (hub/alerts/README.md).
  alert: { owner: 'hub', tags: ['site', 'rule', 'severity'], fields: { state: s, value: n, late: b } },
  // Written by the hub at its own time: live vs replayed points, the agent's backlog, batches expected vs received today.
  delivery: {
    owner: 'hub',
    note: "late/live points and batches are today's",
    tags: ['site', 'agent'],
    fields: { late_points: n, live_points: n, backlog_depth: n, oldest_unsent_age_s: n, expected_batches: n, received_batches: n },
  },
  site_info: { owner: 'hub', note: 'retention policy `meta`; `area` absent without districts', tags: ['site', 'province', 'area'], fields: { name: s, lat: n, lon: n, area_name: s } },
} as const satisfies Record<string, MeasurementSpec>;

export type MeasurementName = keyof typeof MEASUREMENTS;

type Catalogue = typeof MEASUREMENTS;
/** The measurements an agent may write. */
export type AgentMeasurement = { [K in MeasurementName]: Catalogue[K]['owner'] extends 'agent' ? K : never }[MeasurementName];
/** The catalogue's field names of a measurement. */
export type FieldOf<M extends MeasurementName> = keyof Catalogue[M]['fields'] & string;
/** The tag keys an agent sets on a measurement (the hub sets site, agent, province, area). */
export type AgentTagOf<M extends MeasurementName> = Exclude<Catalogue[M]['tags'][number], (typeof HUB_TAGS)[number]>;

/** Measurements only the hub writes (agents are refused them). */
export const HUB_MEASUREMENTS: readonly MeasurementName[] = (Object.keys(MEASUREMENTS) as MeasurementName[]).filter((m) => MEASUREMENTS[m].owner === 'hub');

/**
 * Agent measurements the hub stores under another name, same tags and fields (a fixed mapping: a
 * replayed batch writes the identical point). Each target's spec declares every field of its source
 * with the same type (protocol/contract.test.ts).
 */
export const STORED_AS = { agent_report: 'agent' } as const satisfies Partial<Record<MeasurementName, MeasurementName>>;
const STORED: ReadonlyMap<string, MeasurementName> = new Map(Object.entries(STORED_AS));

/** The measurement an accepted agent point is stored as (its own name but for STORED_AS). */
export function storedMeasurement(m: string): string {
  return STORED.get(m) ?? m;
}

/** Tags the hub sets itself; an agent may not send them (they would let it pose as another site). */
export const HUB_TAGS = ['site', 'agent', 'province', 'area'] as const;
export const RESERVED_TAG_KEYS: ReadonlySet<string> = new Set<string>(HUB_TAGS);

/** Equipment kinds known to dashboards. */
export const EQUIPMENT_KINDS = ['ups', 'meter', 'aircon', 'env', 'printer'] as const;

/** Probe methods of net_probe. */
export const PROBE_METHODS = ['icmp', 'tcp', 'http', 'dns'] as const;

/** InfluxDB database name. */
export const DATABASE = 'ioc';
