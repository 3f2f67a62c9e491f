// The hub measured side by side with its peers in one run, every figure with the CPU of every process (hub,
// influxd, each load generator, each peer; from /proc) and what limited it:
//   - batches of 100 points, and one point per message: the hub, a minimal batched Aedes → line-protocol hub
//     (bench/peers/mini-hub.ts), the same line protocol written straight to influxd, and — one point per
//     message — Mosquitto → Node-RED 4 → node-red-contrib-influxdb (stored vs sent at offered rates);
//   - PUBACK latency at a province's realistic load (3,000 agents, a batch every 30 s each);
//   - 10,000 enrolled agents connecting at once after a hub restart, beside Mosquitto with the same clients;
//   - the real edge agent's RSS and CPU with the default collectors (bench/agent-rss.ts).
// Load comes from separate generator processes (bench/generator.ts: mqtt.js clients of enrolled agents,
// batches in the protocol envelope). Figures are printed beside the issue's targets, never asserted.
// `npx tsx bench/side-by-side.ts [--quick] [--seconds N] [--connect-agents N] [--latency-agents N]
//  [--latency-seconds N] [--nr-rates 2000,5000] [--json FILE]`; part of `npm run bench`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startProgram, startTsEntry, type ManagedProcess } from '../scripts/lib/child-process.ts';
import { parseFlags } from '../scripts/lib/cli-args.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { COMMUNES_CSV, writeHubConfig } from '../scripts/lib/hub-setup.ts';
import { InfluxdProcess } from '../scripts/lib/influxd-process.ts';
import { runProgram } from '../scripts/lib/child-process.ts';
import type { GenAgent, GeneratorJob, GeneratorResult } from './generator-job.ts';
import { startMosquitto, type MosquittoPeer } from './peers/mosquitto.ts';
import { startNodeRed } from './peers/node-red.ts';
import { CpuSampler, cpuSecondsOf, formatCpu, rssMiBOf, type CpuReport } from './proc-cpu.ts';
import { fmt, percentile } from './stats.ts';

export interface SideBySideOptions {
  /** Seconds of each throughput window. */
  seconds: number;
  /** Generator processes for the throughput shapes. */
  generators: number;
  /** Agents flooding (split over the generators), and publishes each keeps in flight. */
  floodAgents: number;
  maxInflight: number;
  latencyAgents: number;
  latencySeconds: number;
  latencyIntervalMs: number;
  latencyBatchPoints: number;
  connectAgents: number;
  /** Agents per generator process for the connection storm. */
  connectPerGenerator: number;
  /** Offered rates (messages/s, one point each) for the Node-RED pipeline. */
  nodeRedRates: number[];
  nodeRedSeconds: number;
  /** After each step: at most this long for Node-RED to write what it holds. */
  nodeRedDrainS: number;
}

export const FULL: SideBySideOptions = {
  seconds: 15,
  generators: 2,
  floodAgents: 100,
  maxInflight: 8,
  latencyAgents: 3000,
  latencySeconds: 60,
  latencyIntervalMs: 30_000,
  latencyBatchPoints: 30,
  connectAgents: 10_000,
  connectPerGenerator: 2500,
  nodeRedRates: [500, 2000, 5000, 10_000],
  nodeRedSeconds: 8,
  nodeRedDrainS: 30,
};

export const QUICK: SideBySideOptions = {
  seconds: 2,
  generators: 2,
  floodAgents: 10,
  maxInflight: 4,
  latencyAgents: 30,
  latencySeconds: 4,
  latencyIntervalMs: 2000,
  latencyBatchPoints: 30,
  connectAgents: 60,
  connectPerGenerator: 30,
  nodeRedRates: [300],
  nodeRedSeconds: 2,
  nodeRedDrainS: 30,
};

export interface Flow {
  /** Who took the load: hub, mini-hub, influxd-direct, node-red. */
  peer: string;
  pointsPerSec: number;
  sentPoints: number;
  ackedPoints: number;
  storedPoints: number;
  /** sent − stored for the Node-RED pipeline (its PUBACK is Mosquitto's, before storage); acked − stored elsewhere. */
  lostPoints: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Generators' own CPU seconds (process.cpuUsage) per wall second. */
  generatorCores: number[];
  cpu: CpuReport;
  /** The `target` tag of the phase's points. */
  target: string;
  offeredPerSec?: number;
  /** Node-RED: `[error]` lines its log gained during the step (failed writes among them). */
  errorsLogged?: number;
  /** Node-RED: its commonest error messages of the step, with their counts. */
  errorsText?: string;
  /** Node-RED: still writing when the bench stopped waiting for it (what it had not stored counts as lost). */
  stillBusy?: boolean;
}

export interface ConnectFigures {
  broker: string;
  agents: number;
  connected: number;
  allConnectedS: number;
  brokerCpuS: number;
  /** Errors the clients saw on the way (refused, reset, timed out…), by message. */
  clientErrors: Record<string, number>;
  brokerRssBeforeMiB: number;
  brokerRssPeakMiB: number;
  brokerRssAfterMiB: number;
  cpu: CpuReport;
}

export interface SideBySideFigures {
  options: SideBySideOptions;
  fdLimit: string;
  batched: { hub: Flow; miniHub: Flow; direct: Flow };
  single: { hub: Flow; miniHub: Flow; nodeRed: Flow[]; nodeRedLosslessPerSec: number };
  latency: Flow & { agents: number };
  connect: { hub: ConnectFigures; mosquitto: ConnectFigures };
  seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function accepts(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function hubCli(args: string[]): Promise<void> {
  const r = await runProgram('ioc-hub', args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`ioc-hub ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
}

/** The national commune list (3,321 communes) imported, pi-1 … pi-K enrolled at every commune: at least `n` agents. */
async function enrollNational(dir: string, hubConfig: string, n: number): Promise<GenAgent[]> {
  await hubCli(['sites', 'import', '--csv', COMMUNES_CSV, '--all-provinces', '--config', hubConfig]);
  const agents: GenAgent[] = [];
  for (let k = 1; agents.length < n; k++) {
    const out = join(dir, `creds-pi-${k}.json`);
    await hubCli(['enroll', '--all-sites', '--agent', `pi-${k}`, ...(n - agents.length < 3321 ? ['--limit', String(n - agents.length)] : []), '--out', out, '--config', hubConfig]);
    agents.push(...(JSON.parse(readFileSync(out, 'utf8')) as { agents: GenAgent[] }).agents);
  }
  return agents.slice(0, n);
}

class Bench {
  private genNo = 0;
  readonly hubDb = 'ioc';
  hub: ManagedProcess;

  constructor(
    readonly dir: string,
    readonly influx: InfluxdProcess,
    readonly hubConfig: string,
    readonly hubMqttPort: number,
    readonly hubHttpPort: number,
  ) {
    this.hub = this.launch();
  }

  private launch(): ManagedProcess {
    return startProgram('ioc-hub', ['start', '--config', this.hubConfig], join(this.dir, 'hub.log'));
  }

  async restartHub(): Promise<void> {
    await this.hub.stop();
    this.hub = this.launch();
    await this.waitHub();
  }

  async waitHub(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${this.hubHttpPort}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) return;
      if (!this.hub.running) break;
      await sleep(200);
    }
    throw new Error(`hub did not start:\n${readFileSync(join(this.dir, 'hub.log'), 'utf8').slice(-3000)}`);
  }

  /** Runs the jobs in their own generator processes; CPU of `watch` and of the generators over [startAt, startAt + window]. */
  async run(jobs: GeneratorJob[], watch: { name: string; pid: number | undefined }[]): Promise<{ results: GeneratorResult[]; cpu: CpuReport }> {
    const procs = jobs.map((job) => {
      const n = ++this.genNo;
      const jobFile = join(this.dir, `gen-${n}.job.json`);
      writeFileSync(jobFile, JSON.stringify(job));
      return { n, out: join(this.dir, `gen-${n}.result.json`), proc: startTsEntry(`generator ${n}`, 'bench/generator.ts', [jobFile, join(this.dir, `gen-${n}.result.json`)], join(this.dir, `gen-${n}.log`)) };
    });
    const first = jobs[0];
    if (first === undefined) throw new Error('no jobs');
    await sleep(first.startAt - Date.now());
    const sampler = new CpuSampler([...watch, ...procs.map((p, i) => ({ name: `gen${i + 1}`, pid: p.proc.pid }))]);
    const windowMs = first.kind === 'connect' ? 0 : first.durationMs;
    await sleep(first.startAt + windowMs - Date.now());
    let cpu: CpuReport | undefined;
    if (first.kind !== 'connect') cpu = sampler.stop();
    const exits = await Promise.all(procs.map((p) => p.proc.exited));
    cpu ??= sampler.stop();
    const results = procs.map((p, i) => {
      if (exits[i]?.code !== 0) throw new Error(`generator ${p.n} failed (${JSON.stringify(exits[i])}):\n${readFileSync(p.proc.logFile, 'utf8').slice(-3000)}`);
      return JSON.parse(readFileSync(p.out, 'utf8')) as GeneratorResult;
    });
    return { results, cpu };
  }

  async count(db: string, target: string): Promise<number> {
    const r = await this.influx.query(`SELECT count("rtt_ms") FROM "net_probe" WHERE "target"='${target}'`, db);
    return Number(r.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
  }

  /**
   * The count once the writer is done: `busyPid` (Node-RED, which writes after Mosquitto's PUBACK, from what it
   * holds in memory) used under 5% of a core over the last second and the count has not moved for `quietMs`;
   * at most `maxMs`.
   */
  async settledCount(db: string, target: string, busyPid: number | undefined, quietMs = 2000, maxMs = 60_000): Promise<{ count: number; settled: boolean }> {
    const until = Date.now() + maxMs;
    let last = await this.count(db, target);
    let since = Date.now();
    const cpu = (): number => (busyPid === undefined ? 0 : cpuSecondsOf(busyPid));
    let cpuMark = { t: Date.now(), s: cpu() };
    let idle = false;
    while (Date.now() < until) {
      await sleep(250);
      const c = await this.count(db, target);
      if (Date.now() - cpuMark.t >= 1000) {
        const s = cpu();
        idle = !(s - cpuMark.s >= 0.05 * ((Date.now() - cpuMark.t) / 1000)); // NaN (gone) is idle
        cpuMark = { t: Date.now(), s };
      }
      if (c !== last) {
        last = c;
        since = Date.now();
      } else if (idle && Date.now() - since >= quietMs) return { count: last, settled: true };
    }
    return { count: last, settled: false };
  }
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: Math.max(1, parts) }, () => []);
  items.forEach((x, i) => out[i % out.length]?.push(x));
  return out.filter((p) => p.length > 0);
}

/** Node-RED's `[error]` lines so far, each as its message (the node and the error, without the time). */
function nodeRedErrors(logFile: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('[error]'))
    .map((l) => l.slice(l.indexOf('[error]') + 8).trim());
}

/** `N (message ×n, …)` of the error lines logged since `before` of them. */
function errorSummary(all: readonly string[], before: number): { count: number; text: string } {
  const fresh = all.slice(before);
  const by = new Map<string, number>();
  for (const m of fresh) by.set(m, (by.get(m) ?? 0) + 1);
  const top = [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return { count: fresh.length, text: top.map(([m, n]) => `${m.slice(0, 80)} ×${fmt(n)}`).join('; ') };
}

function flowOf(peer: string, results: GeneratorResult[], cpu: CpuReport, stored: number, windowMs: number, lossFromSent: boolean, target: string): Flow {
  const lat = results.flatMap((r) => r.latencyMs).sort((a, b) => a - b);
  const sent = results.reduce((n, r) => n + r.sentPoints, 0);
  const acked = results.reduce((n, r) => n + r.ackedPoints, 0);
  return {
    peer,
    pointsPerSec: (results.reduce((n, r) => n + r.windowAckedPoints, 0) * 1000) / windowMs,
    sentPoints: sent,
    ackedPoints: acked,
    storedPoints: stored,
    lostPoints: lossFromSent ? sent - stored : Math.max(0, acked - stored),
    latencyP50Ms: percentile(lat, 50),
    latencyP99Ms: percentile(lat, 99),
    generatorCores: results.map((r) => r.cpuSeconds / r.wallSeconds),
    cpu,
    target,
  };
}

export async function runSideBySide(o: SideBySideOptions, log: (line: string) => void = console.log): Promise<SideBySideFigures> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-sbs-'));
  const influx = await InfluxdProcess.start({ dir: join(dir, 'influxdb') });
  const stops: (() => Promise<unknown>)[] = [() => influx.stop()];
  try {
    for (const db of ['direct', 'minihub', 'nodered']) await influx.query(`CREATE DATABASE ${db}`);
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const hubConfig = join(dir, 'hub.yaml');
    const cap = o.connectAgents + 1000;
    writeHubConfig(hubConfig, {
      writtenBy: 'a benchmark',
      mqttPort,
      httpPort,
      influxUrl: influx.url,
      registryPath: join(dir, 'registry.json'),
      logLevel: 'warn',
      // every agent of the bench comes from 127.0.0.1
      mqttLines: [`maxConnections: ${cap}`, `maxConnectionsPerAddress: ${cap}`],
    });
    const need = Math.max(o.connectAgents, o.latencyAgents, o.floodAgents);
    const t = performance.now();
    const agents = await enrollNational(dir, hubConfig, need);
    log(`setup: ${fmt(agents.length)} agents enrolled at the country's 3,321 communes in ${fmt((performance.now() - t) / 1000, 1)} s; file descriptors per process: ${fdLimit()}; ${cpus().length} cores`);
    const b = new Bench(dir, influx, hubConfig, mqttPort, httpPort);
    stops.unshift(() => b.hub.stop());
    await b.waitHub();
    const miniPort = await freePort();
    const mini = startTsEntry('mini-hub', 'bench/peers/mini-hub.ts', [String(miniPort), influx.url, 'minihub'], join(dir, 'mini-hub.log'));
    stops.unshift(() => mini.stop());
    const nrDir = join(dir, 'nr');
    mkdirSync(nrDir);
    const mosq = await startMosquitto(nrDir);
    stops.unshift(() => mosq.proc.stop());
    const nodeRed = await startNodeRed(nrDir, mosq.port, influx.port, 'nodered');
    stops.unshift(() => nodeRed.proc.stop());
    while (!(await accepts(miniPort))) {
      if (!mini.running) throw new Error(`mini hub exited:\n${readFileSync(mini.logFile, 'utf8')}`);
      await sleep(100);
    }
    const hubUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const miniUrl = `mqtt://127.0.0.1:${miniPort}`;
    const flood = agents.slice(0, o.floodAgents);
    const t0 = Date.now() - 2 * 3_600_000;
    const base = (over: Partial<GeneratorJob>): GeneratorJob => ({
      kind: 'mqtt', url: hubUrl, agents: [], auth: true, topic: 'hub', batchPoints: 100, pace: 'flood', maxInflight: o.maxInflight, intervalMs: 0, ratePerS: 0,
      startAt: Date.now() + 4000, durationMs: o.seconds * 1000, drainMs: 30_000, target: 'x', t0, database: '', holdMs: 0, ...over,
    });
    const jobsFor = (n: number, over: Partial<GeneratorJob>, who: readonly GenAgent[] = flood): GeneratorJob[] => {
      const startAt = Date.now() + 4000 + who.length * 2;
      return split(who, n).map((part) => base({ ...over, agents: part, startAt }));
    };
    const hubWatch = (): { name: string; pid: number | undefined }[] => [{ name: 'hub', pid: b.hub.pid }, { name: 'influxd', pid: influx.pid }];
    const miniWatch = [{ name: 'mini-hub', pid: mini.pid }, { name: 'influxd', pid: influx.pid }];

    // --- batches of 100 points
    log(`\nbatches of 100 points: ${o.floodAgents} agents in ${o.generators} generator processes, ${o.maxInflight} publishes in flight each, ${o.seconds} s per peer`);
    let r = await b.run(jobsFor(o.generators, { target: 'batched' }), hubWatch());
    const bHub = flowOf('hub', r.results, r.cpu, await b.count(b.hubDb, 'batched'), o.seconds * 1000, false, 'batched');
    log(flowLine(bHub));
    r = await b.run(jobsFor(o.generators, { url: miniUrl, auth: false, topic: 'plain', target: 'batched' }), miniWatch);
    const bMini = flowOf('mini-hub', r.results, r.cpu, await b.count('minihub', 'batched'), o.seconds * 1000, false, 'batched');
    log(flowLine(bMini));
    r = await b.run(jobsFor(o.generators, { kind: 'influx', url: influx.url, database: 'direct', batchPoints: 5000, maxInflight: 1, target: 'batched' }), [{ name: 'influxd', pid: influx.pid }]);
    const bDirect = flowOf('influxd-direct', r.results, r.cpu, await b.count('direct', 'batched'), o.seconds * 1000, false, 'batched');
    log(flowLine(bDirect));

    // --- one point per message
    log(`\none point per message: ${o.floodAgents} agents in ${o.generators} generator processes, ${o.maxInflight} publishes in flight each, ${o.seconds} s per peer`);
    r = await b.run(jobsFor(o.generators, { batchPoints: 1, target: 'single' }), hubWatch());
    const sHub = flowOf('hub', r.results, r.cpu, await b.count(b.hubDb, 'single'), o.seconds * 1000, false, 'single');
    log(flowLine(sHub));
    r = await b.run(jobsFor(o.generators, { url: miniUrl, auth: false, topic: 'plain', batchPoints: 1, target: 'single' }), miniWatch);
    const sMini = flowOf('mini-hub', r.results, r.cpu, await b.count('minihub', 'single'), o.seconds * 1000, false, 'single');
    log(flowLine(sMini));
    const nodeRedFlows: Flow[] = [];
    let lossless = 0;
    for (const rate of o.nodeRedRates) {
      const target = `nr-${rate}`;
      const jobs = jobsFor(o.generators, { url: mosq.url, auth: false, topic: 'plain', batchPoints: 1, pace: 'rate', ratePerS: rate / o.generators, maxInflight: 64, durationMs: o.nodeRedSeconds * 1000, target }, flood.slice(0, Math.max(o.generators, 20)));
      const errorsBefore = nodeRedErrors(nodeRed.proc.logFile).length;
      r = await b.run(jobs, [{ name: 'node-red', pid: nodeRed.proc.pid }, { name: 'mosquitto', pid: mosq.proc.pid }, { name: 'influxd', pid: influx.pid }]);
      const settled = await b.settledCount('nodered', target, nodeRed.proc.pid, 2000, o.nodeRedDrainS * 1000);
      const f = flowOf('node-red', r.results, r.cpu, settled.count, o.nodeRedSeconds * 1000, true, target);
      // Mosquitto's PUBACK says nothing of storage: the rate that counts is what reached influxd
      f.offeredPerSec = r.results.reduce((n, x) => n + x.sentPoints, 0) / o.nodeRedSeconds;
      f.pointsPerSec = f.storedPoints / o.nodeRedSeconds;
      const errors = errorSummary(nodeRedErrors(nodeRed.proc.logFile), errorsBefore);
      f.errorsLogged = errors.count;
      f.errorsText = errors.text;
      nodeRedFlows.push(f);
      log(flowLine(f));
      if (!nodeRed.proc.running) {
        log('      Node-RED exited under this load');
        break;
      }
      if (!settled.settled) {
        f.stillBusy = true;
        log(`      Node-RED still busy ${o.nodeRedDrainS} s after the step (a backlog in its memory): higher rates would only add to it`);
        break;
      }
    }
    // Whatever Node-RED wrote of an earlier step while a later one ran (it had become idle after each step)
    for (const f of nodeRedFlows) {
      const late = (await b.count('nodered', f.target)) - f.storedPoints;
      if (late > 0) log(`  node-red ${f.target}: ${fmt(late)} more points stored after its step`);
      f.storedPoints += late;
      f.lostPoints = f.sentPoints - f.storedPoints;
      if (f.lostPoints === 0) lossless = Math.max(lossless, f.offeredPerSec ?? 0);
    }

    // --- realistic load: PUBACK latency
    const latAgents = agents.slice(0, o.latencyAgents);
    log(`\nrealistic load: ${fmt(o.latencyAgents)} agents, a batch of ${o.latencyBatchPoints} points every ${o.latencyIntervalMs / 1000} s each, ${o.latencySeconds} s`);
    r = await b.run(jobsFor(o.generators, { batchPoints: o.latencyBatchPoints, pace: 'interval', intervalMs: o.latencyIntervalMs, maxInflight: 1, durationMs: o.latencySeconds * 1000, target: 'latency' }, latAgents), hubWatch());
    const latency = { ...flowOf('hub', r.results, r.cpu, await b.count(b.hubDb, 'latency'), o.latencySeconds * 1000, false, 'latency'), agents: o.latencyAgents };
    log(flowLine(latency));

    // --- connections after a hub restart, then the same clients against Mosquitto
    const connAgents = agents.slice(0, o.connectAgents);
    const gens = Math.ceil(connAgents.length / o.connectPerGenerator);
    log(`\nconnections: ${fmt(connAgents.length)} enrolled agents connecting at once (${gens} generator processes), after a hub restart; then Mosquitto with the same clients (password file)`);
    await b.restartHub();
    const connectJobs = (url: string): GeneratorJob[] => {
      const startAt = Date.now() + 5000;
      return split(connAgents, gens).map((part) => base({ kind: 'connect', url, agents: part, startAt, holdMs: 2000 }));
    };
    const connect = async (name: string, proc: { pid: number | undefined }, url: string): Promise<ConnectFigures> => {
      const before = proc.pid === undefined ? Number.NaN : rssMiBOf(proc.pid);
      const res = await b.run(connectJobs(url), [{ name, pid: proc.pid }]);
      const self = res.cpu.processes.find((p) => p.name === name);
      const all = res.results.every((x) => Number.isFinite(x.allConnectedMs));
      return {
        broker: name,
        agents: connAgents.length,
        connected: res.results.reduce((n, x) => n + x.connected, 0),
        clientErrors: mergeKinds(res.results.map((x) => x.errorKinds ?? {})),
        allConnectedS: all ? Math.max(...res.results.map((x) => x.allConnectedMs)) / 1000 : Number.NaN,
        brokerCpuS: self?.cpuSeconds ?? Number.NaN,
        brokerRssBeforeMiB: before,
        brokerRssPeakMiB: self?.rssPeakMiB ?? Number.NaN,
        brokerRssAfterMiB: proc.pid === undefined ? Number.NaN : rssMiBOf(proc.pid),
        cpu: res.cpu,
      };
    };
    const cHub = await connect('hub', b.hub, hubUrl);
    log(connectLine(cHub));
    const mdir = join(dir, 'mosquitto-auth');
    mkdirSync(mdir);
    const mosqAuth: MosquittoPeer = await startMosquitto(mdir, connAgents);
    stops.unshift(() => mosqAuth.proc.stop());
    const cMosq = await connect('mosquitto', mosqAuth.proc, mosqAuth.url);
    log(connectLine(cMosq));

    return {
      options: o,
      fdLimit: fdLimit(),
      batched: { hub: bHub, miniHub: bMini, direct: bDirect },
      single: { hub: sHub, miniHub: sMini, nodeRed: nodeRedFlows, nodeRedLosslessPerSec: lossless },
      latency,
      connect: { hub: cHub, mosquitto: cMosq },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    if (process.env.IOC_KEEP_BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
    else log(`bench folder kept: ${dir}`);
  }
}

function fdLimit(): string {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? 'n/a' : `${m[1]} (hard ${m[2]})`;
  } catch {
    return 'n/a';
  }
}

function flowLine(f: Flow): string {
  const offered = f.offeredPerSec === undefined ? '' : `offered ${fmt(f.offeredPerSec)}/s → `;
  const errors = (f.errorsLogged === undefined ? '' : ` · ${fmt(f.errorsLogged)} errors in its log${f.errorsText === undefined || f.errorsText === '' ? '' : ` (${f.errorsText})`}`) + (f.stillBusy === true ? ' · still writing when the bench stopped waiting' : '');
  const gen = f.generatorCores.map((c) => c.toFixed(2)).join(', ');
  return [
    `  ${f.peer.padEnd(15)} ${offered}${fmt(f.pointsPerSec).padStart(9)} points/s · sent ${fmt(f.sentPoints)}, acknowledged ${fmt(f.ackedPoints)}, stored ${fmt(f.storedPoints)}, lost ${fmt(f.lostPoints)} · ack p50 ${fmt(f.latencyP50Ms, 1)} ms, p99 ${fmt(f.latencyP99Ms, 1)} ms${errors}`,
    `      ${formatCpu(f.cpu)}`,
    `      CPU per stored point: ${costPerPoint(f)} · generators' own CPU (process.cpuUsage, cores): ${gen}`,
  ].join('\n');
}

/** CPU µs per stored point of each process but the generators: on a shared machine, steadier than points/s. */
function costPerPoint(f: Flow): string {
  return f.cpu.processes
    .filter((p) => !p.name.startsWith('gen'))
    .map((p) => `${p.name} ${fmt((p.cpuSeconds * 1e6) / Math.max(1, f.pointsPerSec * f.cpu.seconds), 1)} µs`)
    .join(', ');
}

function mergeKinds(all: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of all) for (const [m, n] of Object.entries(k)) out[m] = (out[m] ?? 0) + n;
  return out;
}

function connectLine(c: ConnectFigures): string {
  const errors = Object.entries(c.clientErrors).sort((a, b) => b[1] - a[1]);
  const total = errors.reduce((n, [, k]) => n + k, 0);
  return [
    `  ${c.broker.padEnd(10)} ${fmt(c.connected)}/${fmt(c.agents)} connected, all in ${fmt(c.allConnectedS, 1)} s · ${c.broker} CPU ${fmt(c.brokerCpuS, 1)} s, RSS ${fmt(c.brokerRssBeforeMiB)} MiB before, peak ${fmt(c.brokerRssPeakMiB)} MiB, ${fmt(((c.brokerRssPeakMiB - c.brokerRssBeforeMiB) * 1024) / Math.max(1, c.connected), 1)} KiB per connection`,
    `      client errors on the way (each client retries, jittered 1–2 s): ${total === 0 ? 'none' : `${fmt(total)}: ${errors.slice(0, 3).map(([m, n]) => `${m} ×${fmt(n)}`).join('; ')}`}`,
    `      ${formatCpu(c.cpu)}`,
  ].join('\n');
}

const mark = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

/**
 * Points/s the peer's main thread would carry with a core to itself (its rate / the share of a core its main
 * thread used): a projection from the CPU each point cost, for a machine whose cores other work held. Not a
 * measurement: influxd and the generators would need the other core.
 */
function ceiling(f: Flow): string {
  const p = f.cpu.processes.find((x) => x.name === f.peer);
  if (p === undefined || !(p.mainThread > 0)) return 'n/a';
  return `${fmt(f.pointsPerSec / p.mainThread)}/s (main thread ${fmt((p.mainThread * 1e6) / Math.max(1e-9, f.pointsPerSec), 1)} µs per point)`;
}

/** The issue's targets beside the figures. */
export function targetLines(f: SideBySideFigures): string[] {
  const ratio = f.batched.hub.pointsPerSec / f.batched.direct.pointsPerSec;
  const nrTen = 10 * f.single.nodeRedLosslessPerSec;
  const hubFlows = [f.batched.hub, f.single.hub, f.latency];
  const lossless = hubFlows.every((x) => x.lostPoints === 0 && x.storedPoints === x.ackedPoints);
  const nrTop = f.single.nodeRed[f.single.nodeRed.length - 1];
  return [
    `batched through the hub        ${fmt(f.batched.hub.pointsPerSec)} points/s  target ≥ 150,000: ${mark(f.batched.hub.pointsPerSec >= 150_000)} · limit: ${f.batched.hub.cpu.limit}`,
    `  ratio hub / influxd direct   ${fmt(ratio, 2)} (direct ${fmt(f.batched.direct.pointsPerSec)}/s)  target ≥ 0.4: ${mark(ratio >= 0.4)}`,
    `  ratio hub / mini hub         ${fmt(f.batched.hub.pointsPerSec / f.batched.miniHub.pointsPerSec, 2)} (mini hub ${fmt(f.batched.miniHub.pointsPerSec)}/s)`,
    `  projection, a core to itself: hub ${ceiling(f.batched.hub)}, mini hub ${ceiling(f.batched.miniHub)}`,
    `one point per message (hub)    ${fmt(f.single.hub.pointsPerSec)} points/s, lost ${fmt(f.single.hub.lostPoints)}  target ≥ 60,000 with zero loss: ${mark(f.single.hub.pointsPerSec >= 60_000 && f.single.hub.lostPoints === 0)} · limit: ${f.single.hub.cpu.limit}`,
    `  Node-RED pipeline lossless   ${f.single.nodeRedLosslessPerSec > 0 ? `${fmt(f.single.nodeRedLosslessPerSec)} points/s` : 'none'} of the offered ${f.single.nodeRed.map((x) => `${fmt(x.offeredPerSec ?? Number.NaN)}/s`).join(', ')}${nrTop === undefined ? '' : `; at ${fmt(nrTop.offeredPerSec ?? Number.NaN)}/s offered it stored ${fmt((100 * nrTop.storedPoints) / Math.max(1, nrTop.sentPoints), 1)}%`}`,
    `  ratio hub / Node-RED lossless ${fmt(f.single.hub.pointsPerSec / f.single.nodeRedLosslessPerSec, 1)}×  target ≥ 10×: ${mark(f.single.hub.pointsPerSec >= nrTen && f.single.nodeRedLosslessPerSec > 0)}`,
    `  ratio hub / mini hub         ${fmt(f.single.hub.pointsPerSec / f.single.miniHub.pointsPerSec, 2)} (mini hub ${fmt(f.single.miniHub.pointsPerSec)}/s)`,
    `  projection, a core to itself: hub ${ceiling(f.single.hub)}, mini hub ${ceiling(f.single.miniHub)}${f.single.nodeRed[0] === undefined ? '' : `, Node-RED (stored points) ${ceiling(f.single.nodeRed[0])}`}`,
    `PUBACK p99 at ${fmt(f.latency.agents)} agents' load  ${fmt(f.latency.latencyP99Ms, 1)} ms (p50 ${fmt(f.latency.latencyP50Ms, 1)})  target < 20 ms: ${mark(f.latency.latencyP99Ms < 20)} · limit: ${f.latency.cpu.limit}`,
    `${fmt(f.connect.hub.agents)} agents connected after a restart  ${fmt(f.connect.hub.allConnectedS, 1)} s  target < 30 s: ${mark(f.connect.hub.allConnectedS < 30)} · hub RSS peak ${fmt(f.connect.hub.brokerRssPeakMiB)} MiB  target < 600: ${mark(f.connect.hub.brokerRssPeakMiB < 600)} · limit: ${f.connect.hub.cpu.limit}`,
    `  ratio hub / Mosquitto        time ${fmt(f.connect.hub.allConnectedS / f.connect.mosquitto.allConnectedS, 1)}×, CPU ${fmt(f.connect.hub.brokerCpuS / f.connect.mosquitto.brokerCpuS, 1)}×, RSS ${fmt(f.connect.hub.brokerRssPeakMiB / f.connect.mosquitto.brokerRssPeakMiB, 1)}× (Mosquitto: ${fmt(f.connect.mosquitto.allConnectedS, 1)} s, ${fmt(f.connect.mosquitto.brokerCpuS, 1)} CPU s, ${fmt(f.connect.mosquitto.brokerRssPeakMiB)} MiB)`,
    `zero loss (stored = acknowledged) in every hub phase: ${mark(lossless)} (${hubFlows.map((x) => `${fmt(x.storedPoints)}/${fmt(x.ackedPoints)}`).join(', ')})`,
  ];
}

export function parseSideBySideArgs(argv: readonly string[]): { options: SideBySideOptions; quick: boolean; json?: string } {
  const flags = parseFlags(argv, { quick: 'boolean', seconds: 'number', 'connect-agents': 'number', 'latency-agents': 'number', 'latency-seconds': 'number', 'nr-rates': 'string', json: 'string' });
  const env = process.env;
  const quick = flags.quick === true || env.IOC_BENCH_QUICK === '1';
  const o: SideBySideOptions = { ...(quick ? QUICK : FULL) };
  const num = (flag: string, envName: string): number | undefined => {
    const v = flags[flag] ?? env[envName];
    return v === undefined ? undefined : Number(v);
  };
  o.seconds = num('seconds', 'IOC_BENCH_SECONDS') ?? o.seconds;
  o.connectAgents = num('connect-agents', 'IOC_BENCH_CONNECT_AGENTS') ?? o.connectAgents;
  o.latencyAgents = num('latency-agents', 'IOC_BENCH_LATENCY_AGENTS') ?? o.latencyAgents;
  o.latencySeconds = num('latency-seconds', 'IOC_BENCH_LATENCY_SECONDS') ?? o.latencySeconds;
  const rates = flags['nr-rates'] ?? env.IOC_BENCH_NR_RATES;
  if (typeof rates === 'string') o.nodeRedRates = rates.split(',').map(Number).filter((x) => x > 0);
  const json = typeof flags.json === 'string' ? flags.json : undefined;
  return json === undefined ? { options: o, quick } : { options: o, quick, json };
}

export function printTargets(f: SideBySideFigures): void {
  console.log(`\ntargets (issue 13; printed, not asserted; ${fmt(f.seconds)} s for the side-by-side part)`);
  for (const l of targetLines(f)) console.log(`  ${l}`);
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const { options, json } = parseSideBySideArgs(process.argv.slice(2));
  const f = await runSideBySide(options);
  printTargets(f);
  if (json !== undefined) writeFileSync(json, JSON.stringify(f, null, 2));
}
