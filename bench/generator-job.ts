// What a load generator process (bench/generator.ts) is told to do and what it reports back: JSON files, so
// the bench and its generators share only these types.

export interface GenAgent {
  site: string;
  agent: string;
  token: string;
}

export interface GeneratorJob {
  /** mqtt: publish batches as agents do; connect: only connect (and hold); influx: line protocol straight to influxd /write. */
  kind: 'mqtt' | 'connect' | 'influx';
  /** mqtt://… of the broker, or http://… of influxd. */
  url: string;
  agents: GenAgent[];
  /** Send each agent's `site/agent` and token as MQTT username and password. */
  auth: boolean;
  /** hub: ioc/v1/{site}/{agent}/telemetry; plain: bench/{site}/{agent} (for the peers). */
  topic: 'hub' | 'plain';
  /** Points in each message (mqtt) or each /write body (influx). */
  batchPoints: number;
  /** flood: every agent keeps `maxInflight` unacknowledged publishes; interval: one batch per agent every intervalMs; rate: ratePerS messages/s over all agents. */
  pace: 'flood' | 'interval' | 'rate';
  maxInflight: number;
  intervalMs: number;
  ratePerS: number;
  /** Epoch ms at which to start publishing (connections are made before). */
  startAt: number;
  durationMs: number;
  /** After the window: at most this long for the unacknowledged publishes (mqtt) to be acknowledged. */
  drainMs: number;
  /** Value of the `target` tag: one per phase, so stored points are counted per phase. */
  target: string;
  /** Epoch ms of the first point's timestamp; each agent's points are t0, t0+1, … (unique, so stored counts are exact). */
  t0: number;
  /** influx: database to write to. */
  database: string;
  /** connect: keep the connections this long after all are up (the bench reads the broker's RSS meanwhile). */
  holdMs: number;
}

export interface GeneratorResult {
  agents: number;
  connected: number;
  /** connect: ms from startAt until the last CONNACK (NaN if not all connected). */
  allConnectedMs: number;
  connectErrors: number;
  /** The clients' error messages (first 60 characters) and how often each came. */
  errorKinds: Record<string, number>;
  disconnects: number;
  sentMessages: number;
  ackedMessages: number;
  sentPoints: number;
  ackedPoints: number;
  /** Points acknowledged inside [startAt, startAt + durationMs]. */
  windowAckedPoints: number;
  windowMs: number;
  /** Publish → PUBACK latencies (ms), a uniform sample of at most 20,000. */
  latencyMs: number[];
  /** Own CPU (process.cpuUsage) from startAt to the end of the window, seconds, and the window's wall seconds. */
  cpuSeconds: number;
  wallSeconds: number;
  rssMiB: number;
}
