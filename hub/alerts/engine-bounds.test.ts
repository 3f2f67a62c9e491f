// The engine's bounds: the indexed site-down lookup, time-sliced evaluation (fake clocks), alerts per rule and
// site capped with one too-many-series alert, series memory per rule, pagination, silences that are bounded.
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine, TOO_MANY_SERIES, type AlertEngineOptions, type AlertView } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');

const RULES = {
  rules: [
    { name: 'site-offline', type: 'agent-offline', for: '2m', clearFor: '1m' },
    { name: 'probe-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, severity: 'critical' },
  ],
};

function setup(over: Partial<AlertEngineOptions> = {}, rules: unknown = RULES) {
  const clock = { t: T0 };
  const out = { active: [] as AlertRecord[], resolved: [] as AlertRecord[] };
  const engine = new AlertEngine({
    rules: parseRulesFile(rules),
    outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r) },
    now: () => clock.t,
    evaluateIntervalMs: 0,
    startupGraceMs: 0,
    sliceBudgetMs: 60_000,
    ...over,
  });
  return { engine, out, clock };
}

const tags = { agent: 'pi-1', area: 'tam-dao', province: 'vinh-phuc' };
const probe = (site: string, target: string, up: boolean): HubPoint => ({ measurement: 'net_probe', tags: { ...tags, site, target, method: 'tcp' }, fields: { up }, timestamp: T0 });
const status = (site: string, online: boolean): HubPoint => ({ measurement: 'agent', tags: { ...tags, site }, fields: { online }, timestamp: T0 });
const probes = (site: string, n: number, up: boolean): HubPoint[] => Array.from({ length: n }, (_, i) => probe(site, `t-${i}`, up));

describe('site-down index', () => {
  it('suppresses the site whose agent went down after its series fired, and only that site', async () => {
    const { engine, out } = setup({ maxAlertsPerRuleSite: 100_000 });
    await engine.start();
    engine.onPoints([...probes('xa-a', 50, false), status('xa-b', true)]);
    expect(out.active).toHaveLength(50); // announced before the agent went down
    engine.onPoints([...probes('xa-a', 10, true), probe('xa-b', 'x', false)]);
    engine.onPoints([status('xa-a', false), ...probes('xa-a', 10, false)]);
    expect(engine.siteDown('xa-a')).toBe(true);
    expect(engine.siteDown('xa-b')).toBe(false);
    const suppressed = engine.list().filter((a) => a.site === 'xa-a' && a.rule === 'probe-down' && !a.announced);
    expect(suppressed).toHaveLength(10);
    expect(suppressed.every((a) => a.suppressedBy === 'site-offline')).toBe(true);
    expect(out.active.filter((a) => a.site === 'xa-b')).toHaveLength(1);
    engine.onPoints([status('xa-a', true)]);
    expect(engine.siteDown('xa-a')).toBe(false);
    expect(engine.list().filter((a) => !a.announced && a.state === 'firing')).toEqual([]); // announced once the site is back
  });

  it('evaluates 10,000 suppressed alerts of a downed site in linear time', async () => {
    const { engine } = setup({ maxAlertsPerRuleSite: 100_000 }, {
      rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m' }, { name: 'probe-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, for: '1s', maxSeriesPerSite: 20_000 }],
    });
    await engine.start();
    engine.onPoints(probes('xa-a', 10_000, false));
    engine.onPoints([status('xa-a', false)]); // the down alert is the last one in the map: the old scan went through all
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) engine.tick();
    const ms = performance.now() - t0;
    expect(engine.list().filter((a) => a.suppressedBy === 'site-offline')).toHaveLength(0); // pending still (for: 1s)
    // 5 × 10^4 checks, well under a second on an idle machine; the old scan made 5 × 10^8 (tens of seconds)
    expect(ms).toBeLessThan(5000);
  });
});

describe('time-sliced evaluation', () => {
  it('never runs longer than the budget before yielding, and finishes the work later', async () => {
    let fake = 0;
    const { engine, out } = setup({ sliceBudgetMs: 5, sliceClock: () => (fake += 0.5), maxAlertsPerRuleSite: 100_000 });
    await engine.start();
    engine.onPoints(probes('xa-a', 200, false));
    expect(out.active.length).toBeLessThan(200); // most of it still queued
    expect(engine.stats().queued).toBeGreaterThan(0);
    await engine.idle();
    expect(out.active).toHaveLength(200);
    expect(engine.stats().maxSliceMs).toBeLessThanOrEqual(5.5); // one unit past the budget at most
    expect(engine.stats().slices).toBeGreaterThan(10);
  });

  it('stop() drops queued work and ends at once', async () => {
    let fake = 0;
    const { engine } = setup({ sliceBudgetMs: 5, sliceClock: () => (fake += 1) });
    await engine.start();
    engine.onPoints(probes('xa-a', 10_000, false));
    await engine.stop();
    expect(engine.stats().queued).toBe(0);
  });
});

describe('alerts per rule and site', () => {
  it('4,000 would-be critical alerts of one batch: the cap plus one too-many-series alert, cleared when back under', async () => {
    const { engine, out, clock } = setup({ maxAlertsPerRuleSite: 20, tooManySeriesClearMs: 60_000 }, { rules: [{ name: 'probe-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, severity: 'critical', maxSeriesPerSite: 5000 }] });
    await engine.start();
    engine.onPoints(probes('xa-a', 4000, false));
    const open = engine.list();
    expect(open).toHaveLength(21);
    const tooMany = open.find((a) => a.rule === TOO_MANY_SERIES);
    expect(tooMany).toMatchObject({ site: 'xa-a', severity: 'critical', labels: { rule: 'probe-down', limit: '20' } });
    expect(out.active).toHaveLength(21);
    expect(engine.stats().capped.get('probe-down')).toBe(3980);
    expect(engine.stats().overCap).toBe(1);
    // another site is not touched by it
    engine.onPoints(probes('xa-b', 3, false));
    expect(engine.list({ site: 'xa-b' })).toHaveLength(3);
    // all clear: the 20 resolve; the too-many alert once quiet for the window
    engine.onPoints(probes('xa-a', 4000, true));
    expect(engine.list({ site: 'xa-a' }).map((a) => a.rule)).toEqual([TOO_MANY_SERIES]);
    clock.t += 61_000;
    engine.tick();
    expect(engine.list({ site: 'xa-a' })).toEqual([]);
    expect(out.resolved.map((r) => r.rule).filter((r) => r === TOO_MANY_SERIES)).toHaveLength(1);
    expect(engine.stats().overCap).toBe(0);
  });
});

describe('series memory per rule', () => {
  it('remembers at most maxSeriesPerSite series of a site, counts the rest, leaves other sites room', async () => {
    const { engine } = setup({ maxAlertsPerRuleSite: 100_000 }, { rules: [{ name: 'probe-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, maxSeriesPerSite: 100, maxSeries: 150 }] });
    await engine.start();
    engine.onPoints(probes('xa-a', 500, false));
    expect(engine.list({ site: 'xa-a' })).toHaveLength(100);
    expect(engine.stats().seriesRefused.get('probe-down')).toBe(400);
    engine.onPoints(probes('xa-b', 80, false));
    expect(engine.list({ site: 'xa-b' })).toHaveLength(50); // the rule's total bound
  });
});

describe('pagination', () => {
  const walk = (engine: AlertEngine, limit: number, between?: (page: number) => void): string[] => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = engine.page({ limit, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.alerts.length).toBeLessThanOrEqual(limit);
      seen.push(...page.alerts.map((a: AlertView) => a.id));
      cursor = page.nextCursor;
      between?.(++n);
    } while (cursor !== undefined);
    return seen;
  };

  it('returns every alert exactly once across pages', async () => {
    const { engine, clock } = setup({ maxAlertsPerRuleSite: 100_000 });
    await engine.start();
    for (let i = 0; i < 5; i++) {
      engine.onPoints(probes(`xa-${i}`, 50, false));
      clock.t += 1000;
    }
    const all = engine.list().map((a) => a.id);
    expect(all).toHaveLength(250);
    const seen = walk(engine, 33);
    expect(seen).toHaveLength(250);
    expect([...seen].sort()).toEqual([...all].sort());
    expect(engine.page({ limit: 500 }).nextCursor).toBeUndefined();
  });

  it('alerts present throughout a walk appear exactly once, whatever comes and goes meanwhile', async () => {
    const { engine, clock } = setup({ maxAlertsPerRuleSite: 100_000 });
    await engine.start();
    for (let i = 0; i < 5; i++) {
      engine.onPoints(probes(`xa-${i}`, 50, false));
      clock.t += 1000;
    }
    const before = new Set(engine.list().map((a) => a.id));
    const seen = walk(engine, 33, (page) => {
      if (page !== 2) return;
      engine.onPoints(probes('xa-new', 5, false)); // newer than the cursor
      engine.onPoints(probes('xa-0', 10, true)); // resolved meanwhile
    });
    const after = new Set(engine.list().map((a) => a.id));
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) if (after.has(id)) expect(seen).toContain(id);
    expect(() => engine.page({ limit: 10, cursor: 'bm90IGEgY3Vyc29y' })).toThrow(expect.objectContaining({ code: 'E_ALERT_INPUT' }));
  });
});

describe('silences', () => {
  it('take their author from the login, need a matcher or allSites, and have a bounded end', async () => {
    const { engine, clock } = setup({ maxSilenceMs: 7 * 86_400_000 });
    await engine.start();
    const s = engine.addSilence({ sites: ['xa-a'], endsAt: clock.t + 3_600_000, createdBy: 'someone-else' }, 'ops');
    expect(s.createdBy).toBe('ops');
    expect(() => engine.addSilence({ endsAt: clock.t + 3_600_000 }, 'ops')).toThrow(/needs sites, areas or rules to match \(or allSites: true/);
    expect(() => engine.addSilence({ severities: ['critical'], endsAt: clock.t + 3_600_000 }, 'ops')).toThrow(/needs sites, areas or rules/);
    expect(engine.addSilence({ allSites: true, endsAt: clock.t + 3_600_000 }, 'ops').allSites).toBe(true);
    expect(() => engine.addSilence({ sites: ['xa-a'], endsAt: Date.parse('2286-01-01T00:00:00Z') }, 'ops')).toThrow(/at most 168 h \(alerts\.maxSilence\)/);
    expect(() => engine.addSilence({ sites: ['xa-a'], endsAt: clock.t + 8 * 86_400_000 }, 'ops')).toThrow(/at most 168 h/);
    expect(() => engine.addSilence({ allSites: true, sites: ['xa-a'], endsAt: clock.t + 1000 }, 'ops')).toThrow(/cannot be combined/);
  });
});
