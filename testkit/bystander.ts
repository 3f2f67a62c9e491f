// A well-behaved agent that runs beside an attacker in the hostile-agent tests: it publishes one small
// batch every `everyMs`, records each PUBACK's latency, and at the end checks that every point it was
// acknowledged for is in InfluxDB exactly once. What a hostile client must never cost anyone else.
import type { MqttClient } from 'mqtt';
import { agentIdentity, telemetryTopic, type Batch } from '../protocol/index.ts';
import type { InfluxdProcess } from '../scripts/lib/influxd-process.ts';
import { connectAs, endClient, publishQos1 } from './mqtt-client.ts';
import type { AgentCredentials } from './stack.ts';

export interface BystanderReport {
  sent: number;
  acked: number;
  /** Batches that got no PUBACK (closed or timed out): each is a failure of isolation. */
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Points acknowledged and points found in InfluxDB (a point written twice is stored once). */
  pointsAcked: number;
  pointsStored: number;
}

export interface Bystander {
  readonly target: string;
  /** Stops publishing, waits for the last PUBACK, reads back what InfluxDB holds. */
  finish(): Promise<BystanderReport>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Starts a bystander agent. `target` names its `net_probe` series so that its points can be told
 * apart from anything else the test writes; each batch carries `pointsPerBatch` points.
 */
export async function startBystander(opts: {
  mqttUrl: string;
  influx: InfluxdProcess;
  agent: AgentCredentials;
  everyMs?: number;
  pointsPerBatch?: number;
  target?: string;
  /** PUBACK wait before a batch counts as failed. */
  ackTimeoutMs?: number;
}): Promise<Bystander> {
  const { agent } = opts;
  const everyMs = opts.everyMs ?? 100;
  const perBatch = opts.pointsPerBatch ?? 5;
  const target = opts.target ?? `bystander-${process.pid}-${Date.now()}`;
  const client: MqttClient = await connectAs(opts.mqttUrl, agentIdentity(agent.site, agent.agent), agent.token, { reconnectPeriod: 0 });
  const topic = telemetryTopic(agent.site, agent.agent);
  const latencies: number[] = [];
  let seq = 0;
  let sent = 0;
  let failed = 0;
  let pointsAcked = 0;
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  const firstT = Date.now();
  let lastT = firstT;

  const publishOne = (): void => {
    seq++;
    const now = Date.now();
    const base = Math.max(now, lastT + 1);
    lastT = base + perBatch - 1;
    const batch: Batch = {
      seq,
      sentAt: now,
      points: Array.from({ length: perBatch }, (_, i) => ({ m: 'net_probe', t: base + i, tags: { target, method: 'tcp' }, fields: { up: 1, rtt_ms: 10 + i } })),
    };
    sent++;
    const started = performance.now();
    const p = publishQos1(client, topic, JSON.stringify(batch), opts.ackTimeoutMs ?? 15_000).then((r) => {
      if (r === 'acked') {
        latencies.push(performance.now() - started);
        pointsAcked += perBatch;
      } else failed++;
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  const timer = setInterval(() => {
    if (!stopped) publishOne();
  }, everyMs);
  publishOne();

  return {
    target,
    async finish() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inflight]);
      await endClient(client);
      const q = `SELECT count(rtt_ms) FROM net_probe WHERE site='${agent.site}' AND target='${target}' AND time >= ${firstT - 1000}ms`;
      const body = await opts.influx.query(q, 'ioc');
      const stored = body.results[0]?.series?.[0]?.values?.[0]?.[1];
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        sent,
        acked: latencies.length,
        failed,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? Number.NaN,
        pointsAcked,
        pointsStored: typeof stored === 'number' ? stored : 0,
      };
    },
  };
}

/** The assertion every hostile-agent test makes about its bystander, as one message on failure. */
export function bystanderProblems(r: BystanderReport, maxP99Ms: number): string[] {
  const problems: string[] = [];
  if (r.acked === 0) problems.push('no batch was acknowledged');
  if (r.failed > 0) problems.push(`${r.failed} of ${r.sent} batches got no PUBACK`);
  if (r.p99Ms > maxP99Ms) problems.push(`PUBACK p99 ${r.p99Ms.toFixed(1)} ms > ${maxP99Ms} ms`);
  if (r.pointsStored !== r.pointsAcked) problems.push(`acknowledged ${r.pointsAcked} points, InfluxDB holds ${r.pointsStored}`);
  return problems;
}
