// Ingest benchmark: simulated agents publish as fast as the hub acknowledges, through the real broker
// and ingest into a real influxd. Compared in the same run with the peer that bounds it: the same
// points written straight to influxd (batches of 5000, 2 in flight), with no MQTT and no hub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulator, type SimAck } from '../edge/simulator.ts';
import { InfluxdProcess } from '../scripts/lib/influxd-process.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { startProgram } from '../scripts/lib/child-process.ts';
import { importAndEnroll, writeHubConfig } from '../scripts/lib/hub-setup.ts';
import { fmt, groupCpuSeconds, percentile, rssMiB } from './stats.ts';

export interface IngestFigures {
  agents: number;
  /** Points per MQTT message. */
  batchPoints: number;
  points: number;
  hubPointsPerSec: number;
  directPointsPerSec: number;
  ratio: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  hubRssPeakMiB: number;
  storedPoints: number;
  /** CPU during the flood, in cores (CPU seconds / wall seconds): the hub, influxd, and this process (the load generator). */
  cpu: { hub: number; influxd: number; generator: number };
  /** Realistic load: every agent reports once a second (not run for every shape). */
  steady?: { agents: number; pointsPerSec: number; latencyP50Ms: number; latencyP99Ms: number };
}

const T_BASE = Date.now() - 3_600_000;

async function directPeer(influx: InfluxdProcess, points: number): Promise<number> {
  await influx.query('CREATE DATABASE direct');
  const batchSize = 5000;
  const batches: string[] = [];
  for (let start = 0; start < points; start += batchSize) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(points, start + batchSize); i++) {
      const site = `site-${i % 50}`;
      // the tags the hub writes for a commune of the 2025 list (Phú Thọ: no district, so no area tag)
      lines.push(`net_probe,agent=pi-1,method=tcp,province=phu-tho,site=${site},target=t${i % 7} up=true,rtt_ms=${(i % 97) + 0.5} ${T_BASE + i}`);
    }
    batches.push(lines.join('\n'));
  }
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const body = batches[next++];
      const res = await fetch(`${influx.url}/write?db=direct&precision=ms`, { method: 'POST', body, signal: AbortSignal.timeout(30_000) });
      if (res.status !== 204) throw new Error(`direct write: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return (points * 1000) / (performance.now() - t0);
}

export async function runIngestBench(opts: { agents?: number; batches?: number; batchPoints?: number; steady?: boolean } = {}): Promise<IngestFigures> {
  const agents = opts.agents ?? 50;
  const batchesPerAgent = opts.batches ?? 40;
  const batchPoints = opts.batchPoints ?? 100;
  const total = agents * batchesPerAgent * batchPoints;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-'));
  const influx = await InfluxdProcess.start({ dir: join(dir, 'influxdb') });
  try {
    const directPointsPerSec = await directPeer(influx, total);

    const mqttPort = await freePort();
    const httpPort = await freePort();
    const hubConfig = join(dir, 'hub.yaml');
    writeHubConfig(hubConfig, { writtenBy: 'a benchmark', mqttPort, httpPort, influxUrl: influx.url, registryPath: join(dir, 'registry.json'), logLevel: 'warn' });
    const creds = await importAndEnroll(hubConfig, join(dir, 'creds.json'), agents);
    const hub = startProgram('ioc-hub', ['start', '--config', hubConfig], join(dir, 'hub.log'));
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const latencies: number[] = [];
      let rssPeak = 0;
      const sampler = setInterval(() => {
        if (hub.pid !== undefined) rssPeak = Math.max(rssPeak, rssMiB(hub.pid) || 0);
      }, 100);
      const onAck = (ack: SimAck): void => {
        // sample: the first point of every batch, collection time → PUBACK (= written to InfluxDB)
        const m = /"t":(\d+)/.exec(ack.payload);
        if (m?.[1] !== undefined) latencies.push(ack.ackedAt - Number(m[1]));
      };
      const sim = new Simulator({ hubUrl: `mqtt://127.0.0.1:${mqttPort}`, agents: creds, mode: 'flood', floodBatches: batchesPerAgent, floodBatchPoints: batchPoints, maxInflight: 8, onAck });
      const cpu0 = { hub: groupCpuSeconds(hub.pid), influxd: groupCpuSeconds(influx.pid), generator: process.cpuUsage() };
      const t0 = performance.now();
      sim.start();
      await sim.done();
      const seconds = (performance.now() - t0) / 1000;
      const generatorUs = process.cpuUsage(cpu0.generator);
      const cpu = {
        hub: (groupCpuSeconds(hub.pid) - cpu0.hub) / seconds,
        influxd: (groupCpuSeconds(influx.pid) - cpu0.influxd) / seconds,
        generator: (generatorUs.user + generatorUs.system) / 1e6 / seconds,
      };
      clearInterval(sampler);
      const acked = sim.stats().pointsAcked;
      await sim.stop();
      latencies.sort((a, b) => a - b);
      const stored = await influx.query('SELECT count(*) FROM /.*/', 'ioc');
      let storedPoints = 0;
      for (const s of stored.results[0]?.series ?? []) {
        if (s.name === 'agent') continue;
        const counts = (s.values?.[0] ?? []).slice(1).filter((v): v is number => typeof v === 'number');
        storedPoints += Math.max(0, ...counts);
      }
      const hubPointsPerSec = acked / seconds;
      const steady = opts.steady === false ? undefined : await steadyPhase(`mqtt://127.0.0.1:${mqttPort}`, creds);
      return {
        agents,
        batchPoints,
        points: acked,
        hubPointsPerSec,
        directPointsPerSec,
        ratio: hubPointsPerSec / directPointsPerSec,
        latencyP50Ms: percentile(latencies, 50),
        latencyP99Ms: percentile(latencies, 99),
        hubRssPeakMiB: rssPeak,
        storedPoints,
        cpu,
        ...(steady === undefined ? {} : { steady }),
      };
    } finally {
      await hub.stop();
    }
  } finally {
    await influx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every agent reports once a second for 10 s: latency without a self-made queue in front of the hub. */
async function steadyPhase(hubUrl: string, creds: { site: string; agent: string; token: string }[]): Promise<IngestFigures['steady']> {
  const latencies: number[] = [];
  const sim = new Simulator({
    hubUrl,
    agents: creds,
    mode: 'realtime',
    intervalMs: 1000,
    startJitterMs: 1000,
    seed: 3,
    onAck: (ack) => {
      const m = /"t":(\d+)/.exec(ack.payload);
      if (m?.[1] !== undefined) latencies.push(ack.ackedAt - Number(m[1]));
    },
  });
  sim.start();
  await new Promise((r) => setTimeout(r, 2000));
  const before = sim.stats().pointsAcked;
  latencies.length = 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const pointsPerSec = ((sim.stats().pointsAcked - before) * 1000) / (performance.now() - t0);
  await sim.stop();
  latencies.sort((a, b) => a - b);
  return { agents: creds.length, pointsPerSec, latencyP50Ms: percentile(latencies, 50), latencyP99Ms: percentile(latencies, 99) };
}

export function printIngest(f: IngestFigures): void {
  console.log(`ingest, ${f.batchPoints === 1 ? 'one point per message' : `batches of ${f.batchPoints} points`} (agents → broker → ingest → influxd; PUBACK only after the write)`);
  console.log(`  agents ${f.agents}, points acknowledged ${fmt(f.points)}, stored ${fmt(f.storedPoints)} (approx. by the densest field)`);
  console.log(`  hub end to end        ${fmt(f.hubPointsPerSec)} points/s`);
  console.log(`  influxd direct (peer) ${fmt(f.directPointsPerSec)} points/s`);
  console.log(`  ratio hub / direct    ${fmt(f.ratio, 2)}`);
  console.log(`  latency collection → acknowledged (= queryable): p50 ${fmt(f.latencyP50Ms, 1)} ms, p99 ${fmt(f.latencyP99Ms, 1)} ms`);
  console.log(`  hub RSS peak          ${fmt(f.hubRssPeakMiB, 1)} MiB`);
  console.log(`  CPU during the flood (cores): hub ${fmt(f.cpu.hub, 2)}, influxd ${fmt(f.cpu.influxd, 2)}, generator (this process) ${fmt(f.cpu.generator, 2)}`);
  if (f.steady === undefined) return;
  console.log(`  steady load (${f.steady.agents} agents reporting every second, ${fmt(f.steady.pointsPerSec)} points/s):`);
  console.log(`    latency collection → acknowledged: p50 ${fmt(f.steady.latencyP50Ms, 1)} ms, p99 ${fmt(f.steady.latencyP99Ms, 1)} ms`);
}
