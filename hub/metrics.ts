// Hub counters and the Prometheus text rendering of them (no client library: a dozen series).

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelName?: string,
  ) {}

  inc(by = 1, label = ''): void {
    this.values.set(label, (this.values.get(label) ?? 0) + by);
  }

  get(label = ''): number {
    return this.values.get(label) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.labelName === undefined) lines.push(`${this.name} ${this.get()}`);
    else for (const [label, v] of [...this.values].sort()) lines.push(`${this.name}{${this.labelName}="${escapeLabel(label)}"} ${v}`);
    return lines;
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((le, i) => {
      if (value <= le) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }

  get observations(): number {
    return this.count;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{le="${le}"} ${this.counts[i] ?? 0}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines;
  }
}

export interface GaugeSource {
  name: string;
  help: string;
  read: () => number;
}

/** Every metric the hub exports. Gauges read live values through callbacks set by the Hub. */
export class HubMetrics {
  readonly pointsReceived = new Counter('ioc_hub_points_received_total', 'Points in accepted telemetry/event batches');
  readonly pointsWritten = new Counter('ioc_hub_points_written_total', 'Points written to the sink');
  readonly pointsRejected = new Counter('ioc_hub_points_rejected_total', 'Points refused by InfluxDB (HTTP 400), acknowledged and dropped');
  readonly batchesRejected = new Counter('ioc_hub_batches_rejected_total', 'Malformed batches acknowledged and dropped', 'code');
  readonly publishDenied = new Counter('ioc_hub_publish_denied_total', 'Publishes refused by the ACL (connection closed)');
  readonly subscribeDenied = new Counter('ioc_hub_subscribe_denied_total', 'Subscriptions refused by the ACL');
  readonly authFailures = new Counter('ioc_hub_auth_failures_total', 'Refused MQTT connections');
  readonly writeErrors = new Counter('ioc_hub_write_errors_total', 'Failed sink writes');
  readonly backpressureWaits = new Counter('ioc_hub_backpressure_waits_total', 'Submits that waited for pending points to drain');
  readonly connRefused = new Counter('ioc_hub_conn_refused_total', 'MQTT connections refused or closed by the broker guard (caps, packet size, CONNECT timeout, auth rate limit, bans, takeovers)', 'reason');
  readonly takeovers = new Counter('ioc_hub_takeover_total', 'Connections with the identity of a live session: refused (live one kept) or allowed (live one silent)', 'outcome');
  readonly flappingBans = new Counter('ioc_hub_flapping_bans_total', 'Client ids banned for connecting too often (mqtt.flapping)');
  readonly pointsRefused = new Counter('ioc_hub_points_refused_total', 'Agent points refused by the data contract (the rest of their batch is stored)', 'reason');
  readonly influxRejected = new Counter('ioc_hub_influx_rejected_points_total', 'Points InfluxDB refused (HTTP 400: field type conflict, partial write…): an alarm', 'reason');
  readonly budgetHits = new Counter('ioc_hub_budget_hits_total', 'Per-agent budget hits (rate_held: PUBACK held; rate_refused, spool_refused: refused unacknowledged; series: points refused)', 'budget');
  readonly retainRefused = new Counter('ioc_hub_retain_refused_total', 'Publishes whose retain flag was refused (retain is for status only)');
  readonly cmdResultRefused = new Counter('ioc_hub_cmd_result_refused_total', 'cmd-result publishes for ids the hub did not issue, acknowledged and dropped');
  readonly writeLatency = new Histogram('ioc_hub_write_latency_seconds', 'Latency of one batch write to the sink', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  readonly writesStarted = new Counter('ioc_hub_writes_started_total', 'Sink writes started (slot_free: a slot was free and the batch took every queued point; size_bound: cut at influx.batchSize, points left queued)', 'trigger');
  readonly writeBatchPoints = new Histogram('ioc_hub_write_batch_points', 'Points in one sink write', [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000]);
  private readonly gauges: GaugeSource[] = [];
  private readonly extraCounters: Counter[] = [];

  addGauge(gauge: GaugeSource): void {
    this.gauges.push(gauge);
  }

  /** Counters kept by a part of the hub (the alert engine), rendered with the others. */
  addCounter(counter: Counter): void {
    this.extraCounters.push(counter);
  }

  render(): string {
    const lines: string[] = [];
    for (const c of [this.pointsReceived, this.pointsWritten, this.pointsRejected, this.batchesRejected, this.publishDenied, this.subscribeDenied, this.authFailures, this.writeErrors, this.backpressureWaits, this.pointsRefused, this.influxRejected, this.budgetHits, this.retainRefused, this.cmdResultRefused]) {
      lines.push(...c.render());
    }
    for (const c of [this.connRefused, this.takeovers, this.flappingBans]) lines.push(...c.render());
    lines.push(...this.writeLatency.render());
    lines.push(...this.writesStarted.render(), ...this.writeBatchPoints.render());
    for (const c of this.extraCounters) lines.push(...c.render());
    for (const g of this.gauges) lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.read()}`);
    return `${lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
