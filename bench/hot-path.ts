// The hub's hot path, old against new, on the same generated batches in the same process: decode → contract +
// series budget → enrich → the /write body. "old" is the path as it was (contract.ts applyContract with an array per
// tag and field, a copied point per enrich, an IPoint copy per point and node-influx's writePoints serialiser);
// "new" is what the hub runs (checkAgentPointFast in one pass, BatchPoint, line-protocol.ts). No network: the
// write body is built and dropped. Also: what a decode worker would cost the main thread (see printHotPath).
//   npx tsx bench/hot-path.ts
import { InfluxDB, type IPoint } from 'influx';
import { deserialize, serialize } from 'node:v8';
import { SimOffice } from '../edge/sim-office.ts';
import { hubTags, enrichPoints } from '../hub/accept/enrich.ts';
import { SeriesBudget, seriesKey } from '../hub/accept/budgets.ts';
import { admitPoints, decodeAgentBatch, timeWindow } from '../hub/accept/steps.ts';
import type { Site } from '../hub/agents/registry.ts';
import { lineProtocol } from '../hub/write/line-protocol.ts';
import type { HubPoint } from '../hub/write/sink.ts';
import { applyContract, storedMeasurement, type Batch, type Point, type TimeWindow } from '../protocol/index.ts';
import { fmt } from './stats.ts';

const WRITE_BATCH = 5000;

export interface HotPathShape {
  name: string;
  points: number;
  /** points per CPU second of each path, the whole path and its stages (best of the rounds). */
  old: StageRates;
  new: StageRates;
}

interface StageRates {
  total: number;
  decode: number;
  admit: number;
  enrich: number;
  serialise: number;
}

export interface HotPathFigures {
  shapes: HotPathShape[];
  /** CPU µs per batch on the main thread: JSON.parse of the payload vs v8.deserialize of the decoded batch (what a worker hands back). */
  worker: { batchPoints: number; parseUs: number; cloneUs: number };
}

function site(i: number): Site {
  return { slug: `xa-${i}`, name: `Xã ${i}`, code: String(i), province: 'phu-tho', provinceName: 'Phú Thọ', area: i % 2 === 0 ? '' : 'tam-dao', areaName: '' };
}

/** The flood shape of the former bench/ingest.ts (now bench/side-by-side.ts): 100 net_probe points per batch, each its own target. */
function floodBatches(now: number, batches: number, size: number): Buffer[] {
  return Array.from({ length: batches }, (_, b) =>
    Buffer.from(JSON.stringify({ seq: b, sentAt: now, points: Array.from({ length: size }, (_, i) => ({ m: 'net_probe', t: now - 1000 + b, tags: { target: `flood-${i}`, method: 'tcp' }, fields: { up: 1, rtt_ms: (i % 97) + 0.5 } })) })),
  );
}

/** Realistic offices: every measurement of the simulator (tags, equipment maps, strings), one tick per batch. */
function officeBatches(now: number, batches: number): Buffer[] {
  const offices = Array.from({ length: 50 }, (_, i) => new SimOffice(`xa-${i}`, 7));
  return Array.from({ length: batches }, (_, b) => {
    const office = offices[b % offices.length] ?? new SimOffice('x');
    const t = now - (batches - b) * 1000; // within the hub's time window
    const points: Point[] = [...office.tick(t, 10_000, { uptime_s: b, outbox_depth: 0, dropped_total: 0 }), ...office.takeEvents()];
    return Buffer.from(JSON.stringify({ seq: b, sentAt: t, points }));
  });
}

// ---- the old path, as the hub ran it before ----

function oldAdmit(points: readonly Point[], window: TimeWindow, series: SeriesBudget, key: string, now: number): Point[] {
  const outcome = applyContract(points, window);
  return outcome.accepted.filter((p) => series.admit(key, seriesKey(p.m, p.tags), now));
}

function oldEnrich(batch: Batch, accepted: readonly Point[], s: Site, agent: string): HubPoint[] {
  const b = { ...batch, points: [...accepted] };
  const tags = hubTags(s, agent);
  return b.points.map((p) => ({ measurement: storedMeasurement(p.m), tags: { ...p.tags, ...tags }, fields: p.fields, timestamp: p.t }));
}

function nodeInfluxSerialiser(): (points: readonly HubPoint[]) => string {
  const influx = new InfluxDB({ host: '127.0.0.1', port: 1, database: 'ioc' });
  let body = '';
  const pool = (influx as unknown as { _pool: { discard: (o: { body: string }) => Promise<void> } })._pool;
  pool.discard = (o) => {
    body = o.body;
    return Promise.resolve();
  };
  return (points) => {
    const lines: IPoint[] = points.map((p) => ({ measurement: p.measurement, tags: { ...p.tags }, fields: { ...p.fields }, timestamp: p.timestamp }));
    void influx.writePoints(lines, { precision: 'ms', database: 'ioc' });
    return body;
  };
}

// ---- one run of a path over all payloads ----

interface Run {
  points: number;
  /** CPU ms of each stage (the machine is shared: CPU time, not wall time, is what a path costs). */
  ms: StageTimes;
  bodyBytes: number;
}
type StageTimes = { decode: number; admit: number; enrich: number; serialise: number };

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Each stage over every payload in turn (one CPU reading per stage, not per batch). */
function runPath(kind: 'old' | 'new', payloads: readonly Buffer[], now: number, serialiseOld: (p: readonly HubPoint[]) => string): Run {
  const window = timeWindow(now, { maxPastMs: 90 * 86_400_000 });
  const series = new SeriesBudget(1_000_000);
  const ms: StageTimes = { decode: 0, admit: 0, enrich: 0, serialise: 0 };
  let c = process.cpuUsage();
  const batches: Batch[] = [];
  for (const payload of payloads) {
    const decoded = decodeAgentBatch(payload, 512 * 1024);
    if (!decoded.ok) throw new Error(`bench batch refused: ${decoded.refusal.reason}`);
    batches.push(decoded.value);
  }
  ms.decode = cpuMs(c);
  c = process.cpuUsage();
  const accepted: (readonly Point[])[] = batches.map((b, i) =>
    kind === 'old' ? oldAdmit(b.points, window, series, `xa-${i % 50}/pi-1`, now) : admitPoints(b.points, window, series, `xa-${i % 50}/pi-1`, now).accepted,
  );
  ms.admit = cpuMs(c);
  c = process.cpuUsage();
  const sites = Array.from({ length: 50 }, (_, i) => site(i));
  const writes: HubPoint[][] = [];
  let pending: HubPoint[] = [];
  let points = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i];
    const a = accepted[i];
    const s = sites[i % 50];
    if (b === undefined || a === undefined || s === undefined) continue;
    const enriched = kind === 'old' ? oldEnrich(b, a, s, 'pi-1') : enrichPoints(a, s, 'pi-1');
    points += enriched.length;
    // ingest cuts writes of up to 5000 points out of the agents' batches
    for (const p of enriched) pending.push(p);
    if (pending.length >= WRITE_BATCH) {
      writes.push(pending);
      pending = [];
    }
  }
  if (pending.length > 0) writes.push(pending);
  ms.enrich = cpuMs(c);
  c = process.cpuUsage();
  let bodyBytes = 0;
  for (const w of writes) bodyBytes += (kind === 'old' ? serialiseOld(w) : lineProtocol(w)).length;
  ms.serialise = cpuMs(c);
  return { points, ms, bodyBytes };
}

/** The path as the hub runs it, batch after batch (a write every 5000 points): one CPU reading for the whole. */
function runInterleaved(kind: 'old' | 'new', payloads: readonly Buffer[], now: number, serialiseOld: (p: readonly HubPoint[]) => string): { points: number; ms: number } {
  const window = timeWindow(now, { maxPastMs: 90 * 86_400_000 });
  const series = new SeriesBudget(1_000_000);
  const sites = Array.from({ length: 50 }, (_, i) => site(i));
  let pending: HubPoint[] = [];
  let points = 0;
  const c = process.cpuUsage();
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i];
    const s = sites[i % 50];
    if (payload === undefined || s === undefined) continue;
    const decoded = decodeAgentBatch(payload, 512 * 1024);
    if (!decoded.ok) throw new Error(`bench batch refused: ${decoded.refusal.reason}`);
    const key = `xa-${i % 50}/pi-1`;
    const enriched =
      kind === 'old'
        ? oldEnrich(decoded.value, oldAdmit(decoded.value.points, window, series, key, now), s, 'pi-1')
        : enrichPoints(admitPoints(decoded.value.points, window, series, key, now).accepted, s, 'pi-1');
    points += enriched.length;
    for (const p of enriched) pending.push(p);
    if (pending.length >= WRITE_BATCH) {
      if (kind === 'old') serialiseOld(pending);
      else lineProtocol(pending);
      pending = [];
    }
  }
  if (pending.length > 0) {
    if (kind === 'old') serialiseOld(pending);
    else lineProtocol(pending);
  }
  return { points, ms: cpuMs(c) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function measure(name: string, payloads: readonly Buffer[], now: number, rounds: number): Promise<HotPathShape> {
  const serialiseOld = nodeInfluxSerialiser();
  const best: Record<'old' | 'new', StageRates> = { old: zeroRates(), new: zeroRates() };
  let points = 0;
  // Warm both up, then alternate so that load on the machine falls on both alike.
  runPath('old', payloads.slice(0, 200), now, serialiseOld);
  runPath('new', payloads.slice(0, 200), now, serialiseOld);
  let bodies = { old: 0, new: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      await tick();
      const whole = runInterleaved(kind, payloads, now, serialiseOld);
      const run = runPath(kind, payloads, now, serialiseOld);
      points = run.points;
      bodies = { ...bodies, [kind]: run.bodyBytes };
      const rate = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
      const b = best[kind];
      b.total = Math.max(b.total, rate(whole.points, whole.ms));
      b.decode = Math.max(b.decode, rate(run.points, run.ms.decode));
      b.admit = Math.max(b.admit, rate(run.points, run.ms.admit));
      b.enrich = Math.max(b.enrich, rate(run.points, run.ms.enrich));
      b.serialise = Math.max(b.serialise, rate(run.points, run.ms.serialise));
    }
  }
  // Same points, same bytes on the wire (the line-protocol test proves them equal line by line).
  if (bodies.old !== bodies.new) throw new Error(`old and new /write bodies differ in size: ${bodies.old} vs ${bodies.new}`);
  return { name, points, old: best.old, new: best.new };
}

function zeroRates(): StageRates {
  return { total: 0, decode: 0, admit: 0, enrich: 0, serialise: 0 };
}

/**
 * What a decode worker would save the main thread: JSON.parse of the payload there, against receiving the decoded
 * batch from the worker (the structured clone's deserialisation, v8.deserialize, runs on the receiving thread).
 */
function workerCost(payloads: readonly Buffer[]): HotPathFigures['worker'] {
  const decoded = payloads.map((p) => JSON.parse(p.toString('utf8')) as Batch);
  const cloned = decoded.map((d) => serialize(d));
  const rounds = 5;
  let c = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const p of payloads) JSON.parse(p.toString('utf8'));
  const parseUs = (cpuMs(c) * 1000) / (rounds * payloads.length);
  c = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const b of cloned) deserialize(b);
  const cloneUs = (cpuMs(c) * 1000) / (rounds * payloads.length);
  return { batchPoints: decoded[0]?.points.length ?? 0, parseUs, cloneUs };
}

export async function runHotPathBench(opts: { batches?: number; rounds?: number } = {}): Promise<HotPathFigures> {
  const now = Date.now();
  const batches = opts.batches ?? 1000;
  const rounds = opts.rounds ?? 4;
  const flood = floodBatches(now, batches, 100);
  const office = officeBatches(now, batches * 4);
  return {
    shapes: [await measure('batches of 100 net_probe points (the ingest bench)', flood, now, rounds), await measure('office ticks (every measurement of the simulator, ~18 points)', office, now, rounds)],
    worker: workerCost(flood.slice(0, 500)),
  };
}

export function printHotPath(f: HotPathFigures): void {
  console.log('\nhot path, old vs new, same batches, same process, CPU time (decode → contract + series budget → enrich → /write body; no network)');
  for (const s of f.shapes) {
    console.log(`  ${s.name}: ${fmt(s.points)} points a round, best of the rounds`);
    const row = (label: string, o: number, n: number): void => console.log(`    ${label.padEnd(22)} old ${fmt(o).padStart(10)}  new ${fmt(n).padStart(10)} points/s   ×${fmt(n / Math.max(1, o), 2)}`);
    row('whole path', s.old.total, s.new.total);
    console.log('    stage by stage (each over every batch in turn):');
    row('decode (unchanged)', s.old.decode, s.new.decode);
    row('contract + series', s.old.admit, s.new.admit);
    row('enrich', s.old.enrich, s.new.enrich);
    row('line protocol', s.old.serialise, s.new.serialise);
  }
  const w = f.worker;
  console.log(`  a decode worker: JSON.parse of a ${w.batchPoints}-point batch costs the main thread ${fmt(w.parseUs, 1)} µs CPU; receiving it decoded from a worker (structured-clone deserialisation) ${fmt(w.cloneUs, 1)} µs`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) printHotPath(await runHotPathBench());
