// Replayed readings (a batch's `late`, after an outage) are evaluated on their own time as history: an episode is
// recorded with its original window, marked late, and never goes to the outputs that page (MQTT, Node-RED).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';

const NOW = Date.parse('2025-06-02T02:00:00Z'); // Monday 09:00 in Hanoi
const H = 3_600_000;

const RULES = {
  rules: [
    { name: 'ups-on-battery', type: 'threshold', severity: 'critical', measurement: 'equipment', field: 'on_battery', above: 0.5, select: { tags: { kind: 'ups' } } },
    { name: 'queue-runaway', type: 'change', mode: 'rate', measurement: 'queue', field: 'issued_total', window: '2m', maxPerMin: 10 },
  ],
};

interface Out {
  active: AlertRecord[];
  resolved: AlertRecord[];
  history: AlertRecord[];
}

function setup(): { engine: AlertEngine; out: Out; clock: { t: number } } {
  const out: Out = { active: [], resolved: [], history: [] };
  const clock = { t: NOW };
  const engine = new AlertEngine({
    rules: parseRulesFile(RULES),
    outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r), history: (r) => out.history.push(r) },
    now: () => clock.t,
    evaluateIntervalMs: 0,
    sliceBudgetMs: 60_000,
  });
  return { engine, out, clock };
}

function ups(onBattery: number, t: number, late?: true): HubPoint {
  return { measurement: 'equipment', tags: { site: 'xa-a', agent: 'pi-1', province: 'vinh-phuc', kind: 'ups', device: 'ups-1' }, fields: { on_battery: onBattery }, timestamp: t, ...(late === undefined ? {} : { late }) };
}

describe('replayed readings', () => {
  it('one late on_battery=1 stamped two hours ago raises no current alert', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    engine.onPoints([ups(1, NOW - 2 * H, true)]);
    await engine.idle();
    expect(out.active).toEqual([]);
    expect(engine.list()).toEqual([]);
    // The session ends once the replay is idle: the episode is history, at the reading's time, marked late.
    clock.t += 61_000;
    engine.tick();
    await engine.idle();
    expect(out.history.map((r) => [r.rule, r.severity, r.since, r.endsAt, r.late])).toEqual([['ups-on-battery', 'critical', NOW - 2 * H, NOW - 2 * H, true]]);
    expect(out.active).toEqual([]);
    expect(out.resolved).toEqual([]);
    await engine.stop();
  });

  it('a replayed outage is one history row with its original window, never announced, and live state wins', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    // Live now: mains are back (on_battery=0).
    engine.onPoints([ups(0, NOW)]);
    const start = NOW - 2 * H;
    const backlog: HubPoint[] = [];
    for (let t = start; t < start + H; t += 60_000) backlog.push(ups(1, t, true));
    backlog.push(ups(0, start + H, true));
    // The backlog in seq order, in batches of 20; within a batch out of order (the job orders by reading time).
    for (let i = 0; i < backlog.length; i += 20) engine.onPoints(backlog.slice(i, i + 20).reverse());
    await engine.idle();
    expect(out.active).toEqual([]);
    expect(engine.list()).toEqual([]);
    expect(out.history.map((r) => [r.since, r.endsAt, r.state, r.late])).toEqual([[start, start + H, 'resolved', true]]);
    const [row] = engine.list({ includeResolved: true });
    expect(row).toMatchObject({ rule: 'ups-on-battery', since: start, endsAt: start + H, late: true, announced: false });
    // A late reading older than the live one never changes the current state; a live one behaves as always.
    engine.onPoints([ups(1, NOW - 60_000, true)]);
    await engine.idle();
    expect(engine.list()).toEqual([]);
    clock.t += 1000;
    engine.onPoints([ups(1, clock.t)]);
    await engine.idle();
    expect(out.active.map((r) => [r.rule, r.state, r.since, r.late])).toEqual([['ups-on-battery', 'firing', clock.t, undefined]]);
    await engine.stop();
  });

  it('the replay of a rate rule orders samples by reading time, apart from the live ones', async () => {
    const { engine, out } = setup();
    await engine.start();
    const q = (v: number, t: number, late?: true): HubPoint => ({ measurement: 'queue', tags: { site: 'xa-b', agent: 'pi-1', counter: 'c1' }, fields: { issued_total: v }, timestamp: t, ...(late === undefined ? {} : { late }) });
    // Live: a calm counter. Replayed: a runaway two hours ago (30/min over 2 min), then calm again.
    engine.onPoints([q(100, NOW - 120_000), q(101, NOW - 60_000), q(102, NOW)]);
    const t0 = NOW - 2 * H;
    engine.onPoints([q(60, t0 + 120_000, true), q(30, t0 + 60_000, true), q(0, t0, true), q(60, t0 + 600_000, true), q(61, t0 + 660_000, true), q(62, t0 + 720_000, true)]);
    await engine.idle();
    expect(out.active).toEqual([]);
    expect(out.history.map((r) => [r.rule, r.since, r.endsAt, r.late])).toEqual([['queue-runaway', t0 + 60_000, t0 + 600_000, true]]);
    await engine.stop();
  });

  it('keeps the late history rows over a restart, window and mark included', async () => {
    const statePath = join(mkdtempSync(join(tmpdir(), 'ioc-replay-')), 'alerts-state.json');
    const make = (): AlertEngine => new AlertEngine({ rules: parseRulesFile(RULES), outputs: { active: () => undefined, resolved: () => undefined }, now: () => NOW, evaluateIntervalMs: 0, sliceBudgetMs: 60_000, statePath });
    const first = make();
    await first.start();
    first.onPoints([ups(1, NOW - 2 * H, true), ups(0, NOW - H, true)]);
    await first.idle();
    await first.stop();
    const again = make();
    await again.start();
    expect(again.list({ includeResolved: true }).map((r) => [r.since, r.endsAt, r.late, r.announced])).toEqual([[NOW - 2 * H, NOW - H, true, false]]);
    await again.stop();
  });
});
