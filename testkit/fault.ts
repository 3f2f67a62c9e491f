// Fault-test helpers: start the fault agent process, compute what it generated, count what InfluxDB holds.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTsEntry, type ManagedProcess } from '../scripts/lib/child-process.ts';
import type { Stack } from './stack.ts';

export interface FaultAgentOptions {
  dir: string;
  agents: number;
  /** First agent of the enrolled list to use. */
  offset?: number;
  t0: number;
  intervalMs?: number;
  points?: number;
  maxBytes?: number;
  segmentBytes?: number;
}

export function startFaultAgents(stack: Stack, opts: FaultAgentOptions): ManagedProcess {
  const args = [
    '--hub',
    stack.mqttUrl,
    '--creds',
    join(stack.dir, 'credentials.json'),
    '--dir',
    opts.dir,
    '--agents',
    String(opts.agents),
    '--offset',
    String(opts.offset ?? 0),
    '--t0',
    String(opts.t0),
    '--interval-ms',
    String(opts.intervalMs ?? 100),
    '--points',
    String(opts.points ?? 10),
    ...(opts.maxBytes === undefined ? [] : ['--max-bytes', String(opts.maxBytes)]),
    ...(opts.segmentBytes === undefined ? [] : ['--segment-bytes', String(opts.segmentBytes)]),
  ];
  // its own process group, and it dies with this worker (see spawnGuarded)
  return startTsEntry('fault-agent', join('testkit', 'fault-agent.ts'), args, join(opts.dir, 'fault-agent.log'));
}

/** Seqs each agent (by site) durably generated, from its generated.log. */
export function generatedSeqs(dir: string, sites: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const site of sites) {
    const path = join(dir, site, 'generated.log');
    const seqs: number[] = [];
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const [op, n] = line.split(' ');
        if (op === 'a') seqs.push(Number(n));
      }
    }
    out.set(site, seqs);
  }
  return out;
}

export interface StoredCount {
  rows: number;
  distinct: number;
  min: number | undefined;
  max: number | undefined;
}

/** Exact count of the fault agents' rows (`net_probe` of target `fault`, the value in `rtt_ms`) and distinct values per site. */
export async function storedCounts(stack: Stack): Promise<Map<string, StoredCount>> {
  const from = `FROM net_probe WHERE target = 'fault'`;
  const body = await stack.influx.query(`SELECT count(rtt_ms), count(distinct(rtt_ms)) ${from} GROUP BY site; SELECT min(rtt_ms), max(rtt_ms) ${from} GROUP BY site`, 'ioc');
  const out = new Map<string, StoredCount>();
  for (const s of body.results[0]?.series ?? []) {
    const site = s.tags?.site ?? '';
    const row = s.values?.[0] ?? [];
    out.set(site, { rows: Number(row[1]), distinct: Number(row[2]), min: undefined, max: undefined });
  }
  for (const s of body.results[1]?.series ?? []) {
    const c = out.get(s.tags?.site ?? '');
    const row = s.values?.[0] ?? [];
    if (c !== undefined) {
      c.min = Number(row[1]);
      c.max = Number(row[2]);
    }
  }
  return out;
}

/** Asserts per site: stored rows = distinct values = points of the generated seqs (and returns the totals). */
export async function expectExact(stack: Stack, dir: string, sites: readonly string[], points: number): Promise<{ expected: number; stored: number; mismatches: string[] }> {
  const gen = generatedSeqs(dir, sites);
  const stored = await storedCounts(stack);
  let expected = 0;
  let total = 0;
  const mismatches: string[] = [];
  for (const site of sites) {
    const seqs = gen.get(site) ?? [];
    const want = new Set(seqs).size * points;
    const got = stored.get(site) ?? { rows: 0, distinct: 0, min: undefined, max: undefined };
    expected += want;
    total += got.rows;
    if (got.rows !== want || got.distinct !== want) mismatches.push(`${site}: generated ${want}, stored ${got.rows} rows / ${got.distinct} distinct`);
  }
  return { expected, stored: total, mismatches };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
