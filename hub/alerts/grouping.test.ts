// Grouping by labels through the engine on a fake clock: an ISP outage of one area is one incident, other areas and
// lone alerts are untouched, registries without districts group by province, groups across rules by cause, the
// group's minimum, resolution with the last member, and the record published again (group interval).
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');
const AREAS = ['tam-dao', 'lap-thach', 'song-lo', 'binh-xuyen'];

function setup(rules: unknown): { engine: AlertEngine; out: { active: AlertRecord[]; resolved: AlertRecord[] }; at: (ms: number) => void } {
  let t = T0;
  const out = { active: [] as AlertRecord[], resolved: [] as AlertRecord[] };
  const engine = new AlertEngine({
    rules: parseRulesFile(rules),
    outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r) },
    now: () => t,
    evaluateIntervalMs: 0,
    startupGraceMs: 0,
    sliceBudgetMs: 60_000,
  });
  return {
    engine,
    out,
    at: (ms) => {
      t = T0 + ms;
      engine.tick();
    },
  };
}

/** Site `xa-i` of area AREAS[i % 4] (none for `noArea`), province vinh-phuc. */
function status(i: number, online: boolean, noArea = false): HubPoint {
  const area = AREAS[i % AREAS.length] ?? '';
  return { measurement: 'agent', tags: { site: `xa-${i}`, agent: 'pi-1', province: 'vinh-phuc', ...(noArea ? {} : { area }) }, fields: { online }, timestamp: T0 };
}

const OFFLINE_BY_AREA = {
  rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m', clearFor: '1m', groupBy: ['area|province'] }],
  storm: { groupWait: '30s', groupInterval: '1m' },
};

const SITES = Array.from({ length: 40 }, (_, i) => i);
const inArea = (area: string): number[] => SITES.filter((i) => AREAS[i % AREAS.length] === area);

describe('grouping by labels', () => {
  it('an ISP outage of one area is one incident listing its sites; other areas and the members stay quiet', async () => {
    const { engine, out, at } = setup(OFFLINE_BY_AREA);
    await engine.start();
    engine.onPoints(SITES.map((i) => status(i, true)));
    const tamDao = inArea('tam-dao');
    engine.onPoints(tamDao.map((i) => status(i, false)));
    at(119_000);
    expect(out.active).toEqual([]);
    at(120_000); // members fire; the group forms at once, before any member's group wait is over
    expect(out.active.map((r) => [r.rule, r.site, r.value, r.labels.area, r.labels.scope])).toEqual([['incident-site-offline', 'tam-dao', 10, 'tam-dao', 'area']]);
    const incident = out.active[0];
    expect(incident?.labels.province).toBe('vinh-phuc'); // shared by every member
    expect(incident?.parts?.map((p) => p.site).sort()).toEqual(tamDao.map((i) => `xa-${i}`).sort());
    expect(incident?.parts?.every((p) => p.rule === 'site-offline' && p.id !== undefined)).toBe(true);
    expect(incident?.summary.vi).toContain('10 xã');
    at(300_000);
    expect(out.active).toHaveLength(1);
    expect(engine.list().filter((a) => a.rule === 'site-offline').map((a) => a.suppressedBy)).toEqual(tamDao.map(() => 'grouped'));
    // back: the members resolve after their clearFor, the incident with the last of them
    engine.onPoints(tamDao.map((i) => status(i, true)));
    at(359_000);
    expect(out.resolved).toEqual([]);
    at(360_000);
    expect(out.resolved.map((r) => [r.rule, r.id])).toEqual([['incident-site-offline', incident?.id]]);
    expect(engine.list()).toEqual([]);
  });

  it('a lone site offline is announced alone after its group wait, not before', async () => {
    const { engine, out, at } = setup(OFFLINE_BY_AREA);
    await engine.start();
    engine.onPoints(SITES.map((i) => status(i, true)));
    engine.onPoints([status(5, false)]);
    at(120_000);
    expect(out.active).toEqual([]);
    expect(engine.list()[0]?.suppressedBy).toBe('group-wait');
    at(149_999);
    expect(out.active).toEqual([]);
    at(150_000);
    expect(out.active.map((r) => [r.rule, r.site])).toEqual([['site-offline', 'xa-5']]);
  });

  it('two areas down are two incidents; communes without districts group by province', async () => {
    // 23 of 43 agents: a hub self-check incident otherwise (self-check.test.ts)
    const { engine, out, at } = setup({ ...OFFLINE_BY_AREA, selfCheck: { enabled: false } });
    await engine.start();
    const noArea = [100, 101, 102].map((i) => ({ ...status(i, true, true), tags: { site: `xa-${i}`, agent: 'pi-1', province: 'phu-tho' } }));
    engine.onPoints([...SITES.map((i) => status(i, true)), ...noArea]);
    engine.onPoints([...inArea('song-lo').map((i) => status(i, false)), ...inArea('lap-thach').map((i) => status(i, false)), ...noArea.map((p) => ({ ...p, fields: { online: false } }))]);
    at(120_000);
    expect(out.active.map((r) => [r.site, r.value, r.labels.scope]).sort()).toEqual([
      ['lap-thach', 10, 'area'],
      ['phu-tho', 3, 'province'],
      ['song-lo', 10, 'area'],
    ]);
  });

  it('a group forms only at its minimum; below it each alert goes alone after the wait', async () => {
    const { engine, out, at } = setup({ rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m', groupBy: ['area'], groupMin: 3, groupWait: '10s' }] });
    await engine.start();
    engine.onPoints(SITES.map((i) => status(i, true)));
    engine.onPoints([status(0, false), status(4, false)]); // both tam-dao
    at(120_000);
    expect(out.active).toEqual([]);
    at(130_000);
    expect(out.active.map((r) => r.rule)).toEqual(['site-offline', 'site-offline']);
    // a third member forms the group; the two already announced are listed in it
    engine.onPoints([status(8, false)]);
    at(250_000);
    expect(out.active.map((r) => [r.rule, r.value])).toEqual([
      ['site-offline', undefined],
      ['site-offline', undefined],
      ['incident-site-offline', 3],
    ]);
  });

  it('a group across rules by cause (labels of the rules) is one incident for both rules', async () => {
    const { engine, out, at } = setup({
      rules: [
        { name: 'portal-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, select: { tags: { target: 'portal' } }, labels: { cause: 'isp' } },
        { name: 'dns-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, select: { tags: { target: 'dns' } }, labels: { cause: 'isp' } },
        { name: 'disk-full', type: 'threshold', measurement: 'host', field: 'disk_pct', above: 90 },
      ],
      storm: { groupWait: '20s', groups: [{ name: 'isp-outage', rules: ['portal-down', 'dns-down'], by: ['cause', 'area'], summary: { vi: 'Mất mạng ISP tại {area}: {count} xã', en: 'ISP outage in {area}: {count} sites' } }] },
    });
    await engine.start();
    const probe = (i: number, target: string): HubPoint => ({ measurement: 'net_probe', tags: { site: `xa-${i}`, agent: 'pi-1', area: 'tam-dao', province: 'vinh-phuc', target, method: 'tcp' }, fields: { up: 0 }, timestamp: T0 });
    engine.onPoints([probe(0, 'portal'), probe(4, 'dns'), { measurement: 'host', tags: { site: 'xa-0', agent: 'pi-1' }, fields: { disk_pct: 95 }, timestamp: T0 }]);
    at(0);
    // disk-full is in no group: announced at once; the two probes wait, and are one incident meanwhile
    expect(out.active.map((r) => [r.rule, r.site, r.labels.cause, r.summary.en])).toEqual([
      ['disk-full', 'xa-0', undefined, 'disk-full: host.disk_pct = 95 (> 90) at xa-0'],
      ['isp-outage', 'tam-dao', 'isp', 'ISP outage in tam-dao: 2 sites'],
    ]);
    expect(out.active[1]?.parts?.map((p) => p.rule).sort()).toEqual(['dns-down', 'portal-down']);
    at(20_000);
    expect(out.active).toHaveLength(2);
    expect(engine.list().filter((a) => a.rule.endsWith('-down')).map((a) => a.suppressedBy)).toEqual(['grouped', 'grouped']);
  });

  it('publishes a standing incident again when members join, at most every group interval, with no new state', async () => {
    const { engine, out, at } = setup(OFFLINE_BY_AREA);
    await engine.start();
    engine.onPoints(SITES.map((i) => status(i, true)));
    const tamDao = inArea('tam-dao');
    engine.onPoints(tamDao.slice(0, 4).map((i) => status(i, false)));
    at(120_000);
    expect(out.active.map((r) => r.value)).toEqual([4]);
    engine.onPoints(tamDao.slice(4).map((i) => status(i, false)));
    at(250_000); // the others fired and joined, 130 s after the incident went out (interval: 1 min)
    expect(out.active.map((r) => [r.value, r.state, r.parts?.length, r.labels.sites])).toEqual([
      [4, 'firing', 4, '4'],
      [10, 'firing', 10, '10'], // its labels follow its members, as its value and summary do
    ]);
    expect(out.active[1]?.summary.en).toContain('10 sites');
    expect(new Set(out.active.map((r) => r.id)).size).toBe(1);
    expect(engine.stats().grouping).toMatchObject({ republished: 1, standing: 1 });
    expect(engine.stats().grouping.formed.get('incident-site-offline')).toBe(1);
  });

  it('groups by `rule` and `site` too (they are fields of an alert, not labels)', async () => {
    const { engine, out, at } = setup({
      rules: [
        { name: 'disk-full', type: 'threshold', measurement: 'host', field: 'disk_pct', above: 90 },
        { name: 'too-hot', type: 'threshold', measurement: 'host', field: 'temp_c', above: 80 },
      ],
      storm: { groups: [{ name: 'host-trouble', rules: ['disk-full', 'too-hot'], by: ['rule'], min: 2 }] },
    });
    await engine.start();
    engine.onPoints([0, 1].map((i): HubPoint => ({ measurement: 'host', tags: { site: `xa-${i}`, agent: 'pi-1', province: 'vinh-phuc' }, fields: { disk_pct: 95, temp_c: 20 }, timestamp: T0 })));
    at(0);
    expect(out.active.map((r) => [r.rule, r.site, r.labels.rule, r.value])).toEqual([['host-trouble', 'disk-full', 'disk-full', 2]]);
  });

  it('keeps group: province as groupBy: [province] with storm.groupMinSites', () => {
    const rules = parseRulesFile({ rules: [{ name: 'portal-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, group: 'province' }], storm: { groupMinSites: 12 } });
    expect(rules.rules[0]).toMatchObject({ group: 'province' });
  });

  it('refuses a rule in two groups, group with groupBy, unknown rules and names that collide', () => {
    const bad = () =>
      parseRulesFile({
        rules: [
          { name: 'a', type: 'agent-offline', groupBy: ['area'] },
          { name: 'b', type: 'agent-offline', group: 'province', groupBy: ['area'] },
          { name: 'c', type: 'agent-offline', groupMin: 3 },
        ],
        storm: { groups: [{ name: 'a', rules: ['a', 'zz'], by: ['cause'] }] },
      });
    expect(bad).toThrow(/storm\.groups\.0\.name: a is also a rule/);
    expect(bad).toThrow(/storm\.groups\.0\.rules: unknown rule zz/);
    expect(bad).toThrow(/storm\.groups\.0\.rules: a is already grouped/);
    expect(bad).toThrow(/rules\.b: group and groupBy are exclusive/);
    expect(bad).toThrow(/rules\.c: groupMin and groupWait need groupBy/);
    expect(() => parseRulesFile({ rules: [{ name: 'x', type: 'agent-offline', groupBy: ['area|'] }] })).toThrow(/groupBy\.0/);
  });
});
