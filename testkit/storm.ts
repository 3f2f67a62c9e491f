// A reconnect storm: many in-process agents (real MqttLinks over memory outboxes) against the hub as its own
// process; the hub is stopped while every agent builds a backlog, then started again. Used by
// test/storm.test.ts (a few hundred agents) and bench/storm.ts (1,000+, printed figures).
import { MqttLink } from '../edge/link/link.ts';
import { MemoryOutbox } from '../edge/outbox.ts';
import type { AgentCredentials, Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

export interface StormOptions {
  /** Batches each agent appends while the hub is down. */
  backlogBatches: number;
  pointsPerBatch: number;
  outageMs: number;
  /** The agents' reconnect back-off (full jitter): min and cap. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Batches each agent appends live, every liveEveryMs, from the start until the end of the drain. */
  liveEveryMs: number;
  replayBatchesPerS?: number;
  drainTimeoutMs: number;
}

export interface StormResult {
  agents: number;
  generatedPoints: number;
  /** Agents connected before the outage, ms from start. */
  firstConnectMs: number;
  /** From the hub's restart until every agent was connected again. */
  reconnectAllMs: number;
  /** From the hub's restart until every outbox was empty. */
  drainMs: number;
  /** Connects per agent over the whole run (1 before the outage, 1 after, more on a refused or timed-out attempt). */
  connectsMax: number;
  connectsMean: number;
  connectsHistogram: Record<string, number>;
  /** Per agent `site/agent`: points generated. */
  generated: Map<string, number>;
}

interface StormAgent {
  key: string;
  creds: AgentCredentials;
  outbox: MemoryOutbox;
  link: MqttLink;
  seq: number;
  generated: number;
  connects: number;
}

/** Each point is unique per agent (t = t0 + seq × P + i), so exact counts in InfluxDB show loss and doubling. */
function append(a: StormAgent, t0: number, points: number): void {
  const seq = a.seq;
  a.seq += 1;
  const list = [];
  // A measurement of the agent data contract (the hub refuses any other): the value rides in rtt_ms.
  for (let i = 0; i < points; i += 1) list.push({ m: 'net_probe', t: t0 + seq * points + i, tags: { target: 'storm', method: 'tcp' }, fields: { rtt_ms: seq * points + i } });
  a.generated += points;
  void a.outbox.append({ seq, payload: JSON.stringify(list), points }).then(() => a.link.kick());
}

export async function runStorm(stack: Stack, creds: readonly AgentCredentials[], opts: StormOptions): Promise<StormResult> {
  const t0 = Date.now() - 3_600_000;
  const started = Date.now();
  const agents: StormAgent[] = creds.map((c) => {
    const outbox = new MemoryOutbox({ maxBatches: 100_000 });
    const link = new MqttLink({
      url: stack.mqttUrl,
      site: c.site,
      agent: c.agent,
      token: c.token,
      outbox,
      maxInflight: 8,
      reconnectMinMs: opts.reconnectMinMs,
      reconnectMaxMs: opts.reconnectMaxMs,
      connectTimeoutMs: 20_000,
      keepaliveS: 60,
      clockSynced: true,
      ...(opts.replayBatchesPerS === undefined ? {} : { replayBatchesPerS: opts.replayBatchesPerS }),
    });
    const a: StormAgent = { key: `${c.site}/${c.agent}`, creds: c, outbox, link, seq: 0, generated: 0, connects: 0 };
    link.on('error', () => undefined);
    link.on('connect', () => (a.connects += 1));
    return a;
  });
  const live = setInterval(() => {
    for (const a of agents) append(a, t0, opts.pointsPerBatch);
  }, opts.liveEveryMs);
  try {
    for (const a of agents) a.link.start();
    await waitUntil('every agent connected', async () => agents.every((a) => a.link.connected), 120_000, 100);
    const firstConnectMs = Date.now() - started;
    await stack.hub.stop();
    for (const a of agents) for (let i = 0; i < opts.backlogBatches; i += 1) append(a, t0, opts.pointsPerBatch);
    await new Promise((r) => setTimeout(r, opts.outageMs));
    const restartedAt = Date.now();
    await stack.restartHub();
    await waitUntil('every agent reconnected', async () => agents.every((a) => a.link.connected), opts.drainTimeoutMs, 100);
    const reconnectAllMs = Date.now() - restartedAt;
    clearInterval(live);
    await waitUntil('every outbox drained', async () => agents.every((a) => a.outbox.depth === 0), opts.drainTimeoutMs, 100);
    const drainMs = Date.now() - restartedAt;
    const histogram: Record<string, number> = {};
    for (const a of agents) histogram[String(a.connects)] = (histogram[String(a.connects)] ?? 0) + 1;
    return {
      agents: agents.length,
      generatedPoints: agents.reduce((n, a) => n + a.generated, 0),
      firstConnectMs,
      reconnectAllMs,
      drainMs,
      connectsMax: Math.max(...agents.map((a) => a.connects)),
      connectsMean: agents.reduce((n, a) => n + a.connects, 0) / agents.length,
      connectsHistogram: histogram,
      generated: new Map(agents.map((a) => [a.key, a.generated])),
    };
  } finally {
    clearInterval(live);
    await Promise.all(agents.map((a) => a.link.stop({ drainTimeoutMs: 500 })));
  }
}

/** Rows of the storm's points (`net_probe` of target `storm`) per `site/agent` in InfluxDB (after the hub was stopped cleanly, so nothing is pending). */
export async function stormCounts(stack: Stack): Promise<Map<string, { rows: number; distinct: number }>> {
  const body = await stack.influx.query(`SELECT count("rtt_ms"), count(distinct("rtt_ms")) FROM "net_probe" WHERE "target" = 'storm' GROUP BY "site", "agent"`, 'ioc');
  const out = new Map<string, { rows: number; distinct: number }>();
  for (const s of body.results[0]?.series ?? []) {
    const row = s.values?.[0] ?? [];
    out.set(`${s.tags?.site ?? ''}/${s.tags?.agent ?? ''}`, { rows: Number(row[1]), distinct: Number(row[2]) });
  }
  return out;
}

/** Agents whose stored rows differ from what they generated. */
export function stormMismatches(generated: ReadonlyMap<string, number>, stored: ReadonlyMap<string, { rows: number; distinct: number }>): string[] {
  const out: string[] = [];
  for (const [key, want] of generated) {
    const got = stored.get(key) ?? { rows: 0, distinct: 0 };
    if (got.rows !== want || got.distinct !== want) out.push(`${key}: generated ${want}, stored ${got.rows} rows / ${got.distinct} distinct`);
  }
  return out;
}
