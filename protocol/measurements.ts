// Measurement and tag names written to InfluxDB. Extend, never rename: dashboards and rules read these.

export const MEASUREMENTS = {
  agent: { tags: ['site', 'agent'], fields: ['online', 'uptime_s', 'outbox_depth', 'dropped_total', 'clock_offset_ms'] },
  net_probe: { tags: ['site', 'agent', 'target', 'method'], fields: ['up', 'rtt_ms', 'loss_pct', 'status', 'cert_days_left'] },
  net_iface: { tags: ['site', 'agent', 'iface'], fields: ['rx_bps', 'tx_bps', 'errors'] },
  queue: { tags: ['site', 'agent', 'counter'], fields: ['waiting', 'issued_total', 'served_total', 'current_number', 'avg_wait_s'] },
  display: { tags: ['site', 'agent', 'display'], fields: ['alive', 'last_seen_s'] },
  equipment: { tags: ['site', 'agent', 'device', 'kind'], fields: [] },
  gpio: { tags: ['site', 'agent', 'pin', 'name'], fields: ['state'] },
  host: { tags: ['site', 'agent'], fields: ['cpu_pct', 'mem_pct', 'disk_pct', 'temp_c', 'throttled'] },
  alert: { tags: ['site', 'rule', 'severity'], fields: ['state', 'value'] },
} as const;

export type MeasurementName = keyof typeof MEASUREMENTS;

/** Tags the hub sets itself; an agent may not send them (they would let it pose as another site). */
export const HUB_TAGS = ['site', 'agent', 'province', 'area'] as const;
export const RESERVED_TAG_KEYS: ReadonlySet<string> = new Set<string>(HUB_TAGS);

/** Equipment kinds known to dashboards. */
export const EQUIPMENT_KINDS = ['ups', 'meter', 'aircon', 'env', 'printer'] as const;

/** Probe methods of net_probe. */
export const PROBE_METHODS = ['icmp', 'tcp', 'http', 'dns'] as const;

/** InfluxDB database name. */
export const DATABASE = 'ioc';
