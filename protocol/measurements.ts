// Measurement and tag names written to InfluxDB. Extend, never rename: dashboards and rules read these.

export const MEASUREMENTS = {
  agent: { tags: ['site', 'agent'], fields: ['online', 'uptime_s', 'outbox_depth', 'dropped_total', 'clock_offset_ms'] },
  net_probe: { tags: ['site', 'agent', 'target', 'method'], fields: ['up', 'rtt_ms', 'loss_pct', 'status', 'cert_days_left'] },
  net_iface: { tags: ['site', 'agent', 'iface'], fields: ['rx_bps', 'tx_bps', 'errors', 'drops', 'rx_bytes', 'tx_bytes', 'present'] },
  uplink: { tags: ['site', 'agent'], fields: ['uplink', 'iface', 'uplink_since', 'since_s', 'on_4g'] },
  queue: {
    tags: ['site', 'agent', 'counter'],
    fields: ['waiting', 'issued_total', 'served_total', 'current_number', 'avg_wait_s', 'skipped_total', 'longest_wait_s', 'p90_wait_s', 'avg_service_s', 'p90_service_s'],
  },
  display: { tags: ['site', 'agent', 'display'], fields: ['alive', 'last_seen_s', 'frozen', 'shown_number', 'expected_number', 'result'] },
  equipment: { tags: ['site', 'agent', 'device', 'kind'], fields: [] },
  gpio: { tags: ['site', 'agent', 'pin', 'name'], fields: ['state'] },
  host: { tags: ['site', 'agent'], fields: ['cpu_pct', 'mem_pct', 'disk_pct', 'temp_c', 'throttled', 'uptime_s', 'under_voltage', 'freq_capped', 'throttled_now', 'soft_temp_limit', 'under_voltage_seen', 'throttled_seen'] },
  // Discrete events, sent on the event topic.
  queue_event: { tags: ['site', 'agent', 'counter', 'type'], fields: ['number', 'wait_s', 'service_s'] },
  display_event: { tags: ['site', 'agent', 'display', 'type'], fields: ['alive', 'frozen', 'shown_number'] },
  gpio_event: { tags: ['site', 'agent', 'pin', 'name'], fields: ['state'] },
  uplink_event: { tags: ['site', 'agent'], fields: ['uplink', 'iface', 'previous', 'previous_iface'] },
  alert: { tags: ['site', 'rule', 'severity'], fields: ['state', 'value'] },
  // Written by the hub at its own time: live vs replayed points, the agent's backlog, batches expected vs received today.
  delivery: {
    tags: ['site', 'agent'],
    fields: ['late_points', 'live_points', 'backlog_depth', 'oldest_unsent_age_s', 'expected_batches', 'received_batches'],
  },
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
