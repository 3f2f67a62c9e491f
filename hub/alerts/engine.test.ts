import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import { hubTags } from '../accept/enrich.ts';
import type { Site } from '../agents/registry.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine } from './engine.ts';
import { alertPoint } from './outputs.ts';
import { parseRulesFile } from './rules-file.ts';

const MON_9AM = Date.parse('2025-06-02T02:00:00Z'); // Monday 09:00 in Hanoi

class Clock {
  constructor(public t = MON_9AM) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Out {
  active: AlertRecord[];
  resolved: AlertRecord[];
}

const RULES = {
  rules: [
    { name: 'site-offline', type: 'agent-offline', for: '2m', clearFor: '1m' },
    { name: 'ups-on-battery', type: 'threshold', measurement: 'equipment', field: 'on_battery', above: 0.5, select: { tags: { kind: 'ups' } } },
    { name: 'mains-lost', type: 'threshold', measurement: 'gpio', field: 'state', below: 0.5, select: { tags: { name: 'mains' } } },
    { name: 'portal-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, for: '1m', group: 'province', select: { tags: { target: 'portal' } } },
    { name: 'queue-long', type: 'threshold', measurement: 'queue', field: 'waiting', above: 30, clear: 20, officeHoursOnly: true },
  ],
  storm: { groupMinSites: 10, groupWait: '20s', composites: [{ name: 'power-cut', rules: ['mains-lost', 'ups-on-battery'], summary: { vi: 'Mất điện', en: 'Power cut' } }] },
};

function setup(rules: unknown = RULES, statePath?: string, clock = new Clock(), startupGraceMs = 0): { engine: AlertEngine; out: Out; clock: Clock } {
  const out: Out = { active: [], resolved: [] };
  const engine = new AlertEngine({
    rules: parseRulesFile(rules),
    outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r) },
    now: clock.now,
    evaluateIntervalMs: 0,
    startupGraceMs,
    // These tests check the lifecycle synchronously; slicing has its own tests (slicer.test.ts, engine-bounds.test.ts).
    sliceBudgetMs: 60_000,
    ...(statePath === undefined ? {} : { statePath }),
  });
  return { engine, out, clock };
}

function pt(site: string, measurement: string, fields: HubPoint['fields'], tags: Record<string, string> = {}, t = MON_9AM): HubPoint {
  return { measurement, tags: { ...tags, site, agent: 'pi-1', area: 'tam-dao', province: 'vinh-phuc' }, fields, timestamp: t };
}
const online = (site: string, on: boolean): HubPoint => pt(site, 'agent', { online: on });

describe('alert engine lifecycle', () => {
  it('goes pending → firing after `for`, acknowledged, then resolved after the clear damping', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    engine.onPoints([online('xa-a', true), online('xa-a', false)]);
    expect(engine.list()[0]?.state).toBe('pending');
    clock.advance(119_000);
    engine.tick();
    expect(out.active).toHaveLength(0);
    clock.advance(1000);
    engine.tick();
    expect(out.active.map((r) => r.state)).toEqual(['firing']);
    const id = out.active[0]?.id ?? '';
    expect(out.active[0]?.summary.vi).toContain('xa-a');
    engine.ack(id, 'tech-1');
    expect(out.active.map((r) => [r.state, r.ackedBy])).toEqual([['firing', undefined], ['acknowledged', 'tech-1']]);
    engine.onPoints([online('xa-a', true)]);
    clock.advance(59_000);
    engine.tick();
    expect(out.resolved).toHaveLength(0);
    clock.advance(1000);
    engine.tick();
    expect(out.resolved.map((r) => r.state)).toEqual(['resolved']);
    expect(engine.list()).toHaveLength(0);
    expect(engine.list({ state: 'resolved' })).toHaveLength(1);
    await engine.stop();
  });

  it('damps flapping: offline/online within `for` never fires, within clearFor never resolves', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    for (let i = 0; i < 5; i++) {
      engine.onPoints([online('xa-a', false)]);
      clock.advance(60_000);
      engine.tick();
      engine.onPoints([online('xa-a', true)]);
      clock.advance(30_000);
      engine.tick();
    }
    expect(out.active).toHaveLength(0);
    engine.onPoints([online('xa-a', false)]);
    clock.advance(121_000);
    engine.tick();
    expect(out.active).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      engine.onPoints([online('xa-a', true)]);
      clock.advance(30_000);
      engine.tick();
      engine.onPoints([online('xa-a', false)]);
      clock.advance(30_000);
      engine.tick();
    }
    expect(out.active).toHaveLength(1);
    expect(out.resolved).toHaveLength(0);
  });

  it('applies hysteresis: fires above 30, clears only at 20 or less', async () => {
    const { engine, out } = setup();
    await engine.start();
    engine.onPoints([pt('xa-a', 'queue', { waiting: 31 }, { counter: 'c1' })]);
    expect(out.active).toHaveLength(1);
    engine.onPoints([pt('xa-a', 'queue', { waiting: 25 }, { counter: 'c1' })]);
    expect(out.resolved).toHaveLength(0);
    engine.onPoints([pt('xa-a', 'queue', { waiting: 20 }, { counter: 'c1' })]);
    expect(out.resolved).toHaveLength(1);
  });

  it('evaluates office-hours rules only while the office is open', async () => {
    const { engine, out, clock } = setup(RULES, undefined, new Clock(Date.parse('2025-06-08T02:00:00Z'))); // Sunday
    await engine.start();
    engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    expect(out.active).toHaveLength(0);
    clock.t = Date.parse('2025-06-09T02:00:00Z'); // next Monday 09:00
    engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    expect(out.active).toHaveLength(1);
  });

  it('does not fire anything during the startup grace', async () => {
    const { engine, out, clock } = setup(RULES, undefined, new Clock(), 60_000);
    await engine.start();
    engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    expect(out.active).toHaveLength(0);
    clock.advance(60_000);
    engine.tick();
    expect(out.active).toHaveLength(1);
  });
});

describe('storm control', () => {
  it('inhibits the other alerts of a site whose agent is offline', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    engine.onPoints([online('xa-a', false), pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    clock.advance(121_000);
    engine.tick();
    expect(out.active.map((r) => r.rule)).toEqual(['site-offline']);
    expect(engine.list().find((a) => a.rule === 'queue-long')?.suppressedBy).toBe('site-offline');
  });

  it('raises one province incident when the portal probe fails at many sites at once', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    const sites = Array.from({ length: 50 }, (_, i) => `xa-${i}`);
    engine.onPoints(sites.map((s) => pt(s, 'net_probe', { up: false }, { target: 'portal', method: 'http' })));
    clock.advance(60_000);
    engine.tick();
    clock.advance(20_000);
    engine.tick();
    expect(out.active.map((r) => [r.rule, r.site, r.value])).toEqual([['incident-portal-down', 'vinh-phuc', 50]]);
    engine.onPoints(sites.map((s) => pt(s, 'net_probe', { up: true }, { target: 'portal', method: 'http' })));
    expect(out.resolved.map((r) => r.rule)).toEqual(['incident-portal-down']);
  });

  it('groups the province incident of communes without districts (2025 list: no area tag) by province', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    const sites: Site[] = Array.from({ length: 30 }, (_, i) => ({ slug: `xa-${i}`, name: `Xã ${i}`, code: `${20000 + i}`, province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' }));
    // tags exactly as the hub adds them to an agent's points
    engine.onPoints(sites.map((s) => ({ measurement: 'net_probe', tags: { target: 'portal', method: 'http', ...hubTags(s, 'pi-1') }, fields: { up: false }, timestamp: MON_9AM })));
    clock.advance(60_000);
    engine.tick();
    clock.advance(20_000);
    engine.tick();
    expect(out.active.map((r) => [r.rule, r.site, r.value, r.labels.area, r.labels.province])).toEqual([['incident-portal-down', 'phu-tho', 30, undefined, 'phu-tho']]);
    expect(engine.list().filter((a) => a.rule === 'portal-down').every((a) => a.labels.area === undefined && a.suppressedBy !== undefined)).toBe(true);
  });

  it('announces a lone probe failure on its own after the group wait', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    engine.onPoints([pt('xa-1', 'net_probe', { up: false }, { target: 'portal', method: 'http' })]);
    clock.advance(60_000);
    engine.tick();
    expect(out.active).toHaveLength(0);
    clock.advance(20_000);
    engine.tick();
    expect(out.active.map((r) => r.rule)).toEqual(['portal-down']);
  });

  it('makes mains lost + UPS on battery one power-cut incident', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    engine.onPoints([pt('xa-a', 'gpio', { state: 0 }, { name: 'mains', pin: '17' }), pt('xa-a', 'equipment', { on_battery: true }, { kind: 'ups', device: 'ups-1' })]);
    clock.advance(20_000);
    engine.tick();
    expect(out.active.map((r) => r.rule)).toEqual(['power-cut']);
    engine.onPoints([pt('xa-a', 'gpio', { state: 1 }, { name: 'mains', pin: '17' }), pt('xa-a', 'equipment', { on_battery: false }, { kind: 'ups', device: 'ups-1' })]);
    expect(out.resolved.map((r) => r.rule)).toEqual(['power-cut']);
  });
});

describe('silences and persistence', () => {
  it('suppresses while silenced and announces once the silence is deleted', async () => {
    const { engine, out, clock } = setup();
    await engine.start();
    const s = engine.addSilence({ sites: ['xa-a'], endsAt: clock.t + 3_600_000 }, 'tech-1');
    engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    expect(out.active).toHaveLength(0);
    expect(engine.list()[0]?.suppressedBy).toBe('silence');
    engine.deleteSilence(s.id);
    expect(out.active).toHaveLength(1);
    expect(() => engine.deleteSilence(s.id)).toThrow(expect.objectContaining({ code: 'E_SILENCE_NOT_FOUND' }));
  });

  it('neither loses nor re-announces alerts over a restart', async () => {
    const statePath = join(mkdtempSync(join(tmpdir(), 'ioc-alerts-')), 'alerts.json');
    const clock = new Clock();
    const first = setup(RULES, statePath, clock);
    await first.engine.start();
    first.engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' }), online('xa-b', false)]);
    const id = first.out.active[0]?.id;
    await first.engine.stop();
    clock.advance(10 * 60_000);
    const second = setup(RULES, statePath, clock, 60_000);
    await second.engine.start();
    // re-published as retained state (the broker lost it), same id: not a new alert
    expect(second.out.active.map((r) => r.id)).toEqual([id]);
    expect(second.engine.list().map((a) => a.rule)).toEqual(['queue-long']); // the pending offline was dropped
    second.engine.onPoints([pt('xa-a', 'queue', { waiting: 10 }, { counter: 'c1' })]);
    expect(second.out.resolved.map((r) => r.id)).toEqual([id]);
  });
});

describe('its own output', () => {
  it('alert points that come back from storage queue no work: the transitions are announced once, directly', async () => {
    const out: Out = { active: [], resolved: [] };
    const clock = new Clock();
    // As in the hub: every record is also written as an `alert` point, and ingest's onWritten feeds it back.
    const feedBack = (r: AlertRecord): void => engine.onPoints([alertPoint(r)]);
    const engine: AlertEngine = new AlertEngine({
      rules: parseRulesFile(RULES),
      outputs: { active: (r) => (out.active.push(r), feedBack(r)), resolved: (r) => (out.resolved.push(r), feedBack(r)) },
      now: clock.now,
      evaluateIntervalMs: 0,
      startupGraceMs: 0,
      sliceBudgetMs: 60_000,
    });
    await engine.start();
    engine.onPoints([pt('xa-a', 'queue', { waiting: 50 }, { counter: 'c1' })]);
    const perBatch = engine.stats().slices;
    engine.onPoints([alertPoint(out.active[0] ?? expect.fail('not announced'))]);
    expect(engine.stats()).toMatchObject({ slices: perBatch, queued: 0 });
    engine.onPoints([pt('xa-a', 'queue', { waiting: 10 }, { counter: 'c1' })]);
    expect(out.active.map((r) => r.state)).toEqual(['firing']);
    expect(out.resolved.map((r) => r.state)).toEqual(['resolved']);
    expect(engine.stats().slices).toBe(2 * perBatch); // the resolution fed back added nothing either
    await engine.stop();
  });
});
