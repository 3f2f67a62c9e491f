// The side-by-side bench (bench/side-by-side.ts) in its quick mode — seconds per shape, a few agents, every
// peer once — so that it cannot rot silently: its figures must exist and add up (stored = acknowledged through
// the hub and the mini hub, the Node-RED pipeline stored what it got and no more than was sent, every process's
// CPU read, Mosquitto and Node-RED really ran) and every target is printed with PASS or MISS. Speed is not
// asserted: the machine is shared.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTsEntry } from '../testkit/child-process.ts';
import type { Flow, SideBySideFigures } from '../bench/side-by-side.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-smoke-'));
let figures: SideBySideFigures;
let output = '';

beforeAll(async () => {
  const json = join(dir, 'figures.json');
  const log = join(dir, 'bench.log');
  const bench = startTsEntry('bench --quick', 'bench/side-by-side.ts', ['--quick', '--json', json], log);
  const timer = setTimeout(() => void bench.kill(), 540_000);
  const exit = await bench.exited;
  clearTimeout(timer);
  output = readFileSync(log, 'utf8');
  expect(exit.code, output.slice(-4000)).toBe(0);
  figures = JSON.parse(readFileSync(json, 'utf8')) as SideBySideFigures;
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cpuOf(f: { cpu: { processes: { name: string; cores: number; cpuSeconds: number; rssPeakMiB: number }[] } }, name: string): { cores: number; cpuSeconds: number; rssPeakMiB: number } {
  const p = f.cpu.processes.find((x) => x.name === name);
  expect(p, `${name} in ${f.cpu.processes.map((x) => x.name).join(', ')}`).toBeDefined();
  return p ?? { cores: Number.NaN, cpuSeconds: Number.NaN, rssPeakMiB: Number.NaN };
}

function expectCpuRead(f: Flow | SideBySideFigures['connect']['hub'], names: string[]): void {
  for (const n of names) {
    const p = cpuOf(f, n);
    expect(Number.isFinite(p.cores), `${n} CPU`).toBe(true);
    expect(p.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(p.rssPeakMiB, `${n} RSS`).toBeGreaterThan(0);
  }
  expect(f.cpu.limit.length).toBeGreaterThan(0);
}

/** Acknowledged through a broker that acks after the write: all of it stored, nothing more. */
function expectExact(f: Flow): void {
  expect(f.ackedPoints, f.peer).toBeGreaterThan(0);
  expect(f.storedPoints, f.peer).toBe(f.ackedPoints);
  expect(f.lostPoints).toBe(0);
  expect(f.pointsPerSec).toBeGreaterThan(0);
  expect(Number.isFinite(f.latencyP99Ms)).toBe(true);
  expect(f.generatorCores.length).toBeGreaterThan(0);
  for (const c of f.generatorCores) expect(c).toBeGreaterThan(0);
}

describe('npm run bench, quick mode', () => {
  it('batched and one-point-per-message shapes: the hub and the mini hub stored exactly what they acknowledged; direct writes counted', () => {
    for (const f of [figures.batched.hub, figures.single.hub, figures.latency]) {
      expectExact(f);
      expectCpuRead(f, ['hub', 'influxd', 'gen1', 'gen2']);
    }
    for (const f of [figures.batched.miniHub, figures.single.miniHub]) {
      expectExact(f);
      expectCpuRead(f, ['mini-hub', 'influxd', 'gen1']);
    }
    expectExact(figures.batched.direct);
    expectCpuRead(figures.batched.direct, ['influxd', 'gen1']);
  });

  it('the Mosquitto → Node-RED → influxdb pipeline really ran: it stored points, never more than were sent', () => {
    expect(figures.single.nodeRed.length).toBe(figures.options.nodeRedRates.length);
    for (const f of figures.single.nodeRed) {
      expect(f.sentPoints).toBeGreaterThan(0);
      // only Node-RED writes to its database
      expect(f.storedPoints).toBeGreaterThan(0);
      expect(f.storedPoints).toBeLessThanOrEqual(f.sentPoints);
      expect(f.lostPoints).toBe(f.sentPoints - f.storedPoints);
      expectCpuRead(f, ['node-red', 'mosquitto', 'influxd', 'gen1']);
      expect(cpuOf(f, 'node-red').cpuSeconds).toBeGreaterThan(0);
    }
  });

  it('every agent connected after the hub restart, and to Mosquitto with the same credentials', () => {
    for (const c of [figures.connect.hub, figures.connect.mosquitto]) {
      expect(c.connected, c.broker).toBe(figures.options.connectAgents);
      expect(Number.isFinite(c.allConnectedS)).toBe(true);
      expect(c.brokerRssPeakMiB).toBeGreaterThan(0);
      expect(Number.isFinite(c.brokerCpuS)).toBe(true);
      expectCpuRead(c, [c.broker, 'gen1']);
    }
  });

  it('prints every target with PASS or MISS beside its figure', () => {
    for (const target of ['≥ 150,000', '≥ 0.4', '≥ 60,000 with zero loss', '≥ 10×', '< 20 ms', '< 30 s', '< 600', 'zero loss (stored = acknowledged)']) {
      expect(output, target).toMatch(new RegExp(`${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*(PASS|MISS)`));
    }
    expect(output).toMatch(/limit: /);
  });
});
