// A load generator process for the bench: mqtt.js clients that act as enrolled agents (QoS 1 publishes of
// point batches in the protocol's envelope, PUBACK latency measured per publish), or line protocol written
// straight to influxd. It runs in its own process so that its CPU is its own: it reports process.cpuUsage()
// and the bench reads its /proc entry too. `node --import tsx bench/generator.ts JOB.json RESULT.json`.
import { readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeBatch } from '../protocol/envelope.ts';
import type { GenAgent, GeneratorJob, GeneratorResult } from './generator-job.ts';

const [jobFile, resultFile] = process.argv.slice(2);
if (jobFile === undefined || resultFile === undefined) {
  console.error('usage: generator.ts JOB.json RESULT.json');
  process.exit(2);
}
const job = JSON.parse(readFileSync(jobFile, 'utf8')) as GeneratorJob;

const SAMPLE_MAX = 20_000;
const latencies: number[] = [];
let latencySeen = 0;
function recordLatency(ms: number): void {
  latencySeen += 1;
  if (latencies.length < SAMPLE_MAX) latencies.push(ms);
  else {
    const j = Math.floor(Math.random() * latencySeen);
    if (j < SAMPLE_MAX) latencies[j] = ms;
  }
}

const r: GeneratorResult = {
  agents: job.agents.length,
  connected: 0,
  allConnectedMs: Number.NaN,
  connectErrors: 0,
  errorKinds: {},
  disconnects: 0,
  sentMessages: 0,
  ackedMessages: 0,
  sentPoints: 0,
  ackedPoints: 0,
  windowAckedPoints: 0,
  windowMs: job.durationMs,
  latencyMs: latencies,
  cpuSeconds: Number.NaN,
  wallSeconds: Number.NaN,
  rssMiB: Number.NaN,
};

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, Math.max(0, ms)));
const endAt = job.startAt + job.durationMs;
let cpu0: NodeJS.CpuUsage | undefined;
let wall0 = 0;
function windowOpen(): void {
  cpu0 = process.cpuUsage();
  wall0 = performance.now();
}
function windowClosed(): void {
  const u = process.cpuUsage(cpu0);
  r.cpuSeconds = (u.user + u.system) / 1e6;
  r.wallSeconds = (performance.now() - wall0) / 1000;
}

interface AgentState {
  a: GenAgent;
  topic: string;
  /** Next point timestamp offset (t0 + n). */
  n: number;
  seq: number;
  inflight: number;
  client: MqttClient;
}

/** Points of one message, as the agent's outbox holds them: a JSON array of `{m, t, tags, fields}`. */
function pointsJson(s: AgentState, count: number): string {
  let out = '[';
  for (let i = 0; i < count; i++) {
    const k = s.n++;
    out += `${i === 0 ? '' : ','}{"m":"net_probe","t":${job.t0 + k},"tags":{"target":"${job.target}","method":"tcp"},"fields":{"up":1,"rtt_ms":${(k % 997) + 0.5}}}`;
  }
  return `${out}]`;
}

function publish(s: AgentState, onAcked: () => void): void {
  const payload = encodeBatch({ seq: s.seq++, sentAt: Date.now() }, pointsJson(s, job.batchPoints));
  const t = performance.now();
  s.inflight += 1;
  r.sentMessages += 1;
  r.sentPoints += job.batchPoints;
  s.client.publish(s.topic, payload, { qos: 1 }, (err) => {
    s.inflight -= 1;
    if (err !== undefined && err !== null) return; // closed before its PUBACK: not acknowledged
    const now = Date.now();
    r.ackedMessages += 1;
    r.ackedPoints += job.batchPoints;
    if (now <= endAt) r.windowAckedPoints += job.batchPoints;
    recordLatency(performance.now() - t);
    onAcked();
  });
}

async function runMqtt(): Promise<void> {
  const connectStart = job.kind === 'connect' ? job.startAt : Date.now();
  if (job.kind === 'connect') await sleep(job.startAt - Date.now());
  const states: AgentState[] = [];
  let lastConnack = 0;
  const seqBase = Date.now() * 4; // above any earlier phase's seq for the same agent
  for (const a of job.agents) {
    const id = `${a.site}/${a.agent}`;
    const client = mqtt.connect(job.url, {
      clientId: id,
      ...(job.auth ? { username: id, password: a.token } : {}),
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 1000 + Math.floor(Math.random() * 1000),
      connectTimeout: 60_000,
      resubscribe: false,
    });
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
    const s: AgentState = { a, topic: job.topic === 'hub' ? `ioc/v1/${a.site}/${a.agent}/telemetry` : `bench/${a.site}/${a.agent}`, n: 0, seq: seqBase, inflight: 0, client };
    let first = true;
    client.on('connect', () => {
      if (first) {
        first = false;
        r.connected += 1;
        lastConnack = Date.now();
      }
    });
    client.on('close', () => {
      if (!first) r.disconnects += 1;
    });
    client.on('error', (err: Error) => {
      r.connectErrors += 1;
      const kind = err.message.slice(0, 60);
      r.errorKinds[kind] = (r.errorKinds[kind] ?? 0) + 1;
    });
    states.push(s);
  }
  const connectDeadline = Math.max(job.startAt, Date.now()) + 120_000;
  while (r.connected < states.length && Date.now() < connectDeadline) await sleep(20);
  if (r.connected === states.length) r.allConnectedMs = lastConnack - connectStart;

  if (job.kind === 'connect') {
    windowOpen();
    await sleep(job.holdMs);
    windowClosed();
  } else {
    await sleep(job.startAt - Date.now());
    windowOpen();
    if (job.pace === 'flood') {
      const pump = (s: AgentState): void => {
        while (s.inflight < job.maxInflight && Date.now() < endAt) publish(s, () => pump(s));
      };
      for (const s of states) pump(s);
    } else if (job.pace === 'interval') {
      for (const s of states) {
        const phase = Math.random() * job.intervalMs;
        const tick = (): void => {
          if (Date.now() >= endAt) return;
          if (s.inflight < job.maxInflight) publish(s, () => undefined);
          setTimeout(tick, job.intervalMs);
        };
        setTimeout(tick, phase);
      }
    } else {
      // rate: every 10 ms, the messages due since the start, round-robin over the agents (skipping one at its in-flight cap)
      let due = 0;
      let next = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (Date.now() >= endAt) {
            clearInterval(timer);
            resolve();
            return;
          }
          const target = Math.floor(((performance.now() - t0) / 1000) * job.ratePerS);
          let tries = 0;
          while (due < target && tries < states.length) {
            const s = states[next++ % states.length];
            if (s === undefined) break;
            if (s.inflight >= job.maxInflight) {
              tries++;
              continue;
            }
            tries = 0;
            publish(s, () => undefined);
            due++;
          }
          due = Math.max(due, target - job.ratePerS); // never owe more than a second: the offered rate is what was sent
        }, 10);
      });
    }
    await sleep(endAt - Date.now());
    windowClosed();
    const drainUntil = Date.now() + job.drainMs;
    while (states.some((s) => s.inflight > 0) && Date.now() < drainUntil) await sleep(20);
  }
  r.rssMiB = process.memoryUsage().rss / 1024 / 1024;
  await Promise.all(states.map((s) => new Promise<void>((res) => s.client.end(true, {}, () => res()))));
}

async function runInflux(): Promise<void> {
  const url = `${job.url}/write?db=${encodeURIComponent(job.database)}&precision=ms`;
  let k = 0;
  const body = (): string => {
    const lines: string[] = [];
    for (let i = 0; i < job.batchPoints; i++, k++) {
      const a = job.agents[k % job.agents.length];
      // the tags the hub writes for a commune (province from the registry; the 2025 list has no area)
      lines.push(`net_probe,agent=${a?.agent ?? 'pi-1'},method=tcp,province=bench,site=${a?.site ?? 'x'},target=${job.target} up=1,rtt_ms=${(k % 997) + 0.5} ${job.t0 + Math.floor(k / job.agents.length)}`);
    }
    return lines.join('\n');
  };
  await sleep(job.startAt - Date.now());
  windowOpen();
  const worker = async (): Promise<void> => {
    while (Date.now() < endAt) {
      const text = body();
      const t = performance.now();
      r.sentMessages += 1;
      r.sentPoints += job.batchPoints;
      const res = await fetch(url, { method: 'POST', body: text, signal: AbortSignal.timeout(30_000) });
      await res.text();
      if (res.status !== 204) continue;
      r.ackedMessages += 1;
      r.ackedPoints += job.batchPoints;
      if (Date.now() <= endAt) r.windowAckedPoints += job.batchPoints;
      recordLatency(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: job.maxInflight }, () => worker()));
  windowClosed();
  r.rssMiB = process.memoryUsage().rss / 1024 / 1024;
}

try {
  if (job.kind === 'influx') await runInflux();
  else await runMqtt();
  writeFileSync(resultFile, JSON.stringify(r));
  process.exit(0);
} catch (err: unknown) {
  console.error(err);
  process.exit(1);
}
