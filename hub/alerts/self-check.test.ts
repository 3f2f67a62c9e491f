// The hub self-check on a fake clock: a mass drop (share of the online agents within the window) or the uplink down
// is one hub-link incident whose parts are the agents that dropped; their site-offline alerts are muted as its parts;
// it resolves once most are back (or the uplink answers). Also the uplink probe's rounds with a fake connect.
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../protocol/index.ts';
import type { HubPoint } from '../write/sink.ts';
import { AlertEngine } from './engine.ts';
import { parseRulesFile } from './rules-file.ts';
import { HUB_LINK_RULE, HUB_SITE, MAX_TRACKED_AGENTS, SelfCheck, selfCheckSchema } from './self-check.ts';
import { UplinkProbe } from './uplink-probe.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');
const config = (over: Record<string, unknown> = {}) => selfCheckSchema.parse(over);
/** Sites in 4 areas, as a province has them. */
const areaOf = (site: string): string => `area-${Number(site.slice(3)) % 4}`;
const siteOffline = (i: number) => ({ site: `xa-${i}`, labels: { agent: 'pi-1' }, marksSiteDown: true, derived: false });

function withOnline(n: number, c = config()): SelfCheck {
  const s = new SelfCheck(c);
  for (let i = 0; i < n; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', true, T0, areaOf(`xa-${i}`));
  return s;
}

describe('self-check: mass drop', () => {
  it('30% of the online agents dropping within the window is one incident whose parts are those agents', () => {
    const s = withOnline(20);
    for (let i = 0; i < 5; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', false, T0 + i * 1000, areaOf(`xa-${i}`));
    expect(s.evaluate(T0 + 5000)?.signal.active).toBeUndefined(); // 5 of 20 = 25%
    s.onAgentStatus('xa-5', 'pi-1', false, T0 + 6000, areaOf('xa-5'));
    const r = s.evaluate(T0 + 6000);
    expect(r?.signal).toMatchObject({ rule: HUB_LINK_RULE, site: HUB_SITE, active: true, value: 6, derived: true, forMs: 30_000, labels: { cause: 'agents-dropped', scope: 'hub', agents: '6' } });
    expect(r?.signal.summary.vi).toContain('Sự cố kết nối IOC / hub: 6/20 thiết bị mất kết nối cùng lúc');
    expect(r?.signal.summary.en).toContain('IOC link / hub incident: 6 of 20 agents dropped at once');
    expect(r?.parts.map((p) => p.site)).toEqual(['xa-0', 'xa-1', 'xa-2', 'xa-3', 'xa-4', 'xa-5']);
    expect(s.claims(siteOffline(3))).toBe(true);
    expect(s.claims(siteOffline(10))).toBe(false);
    expect(s.claims({ ...siteOffline(3), marksSiteDown: false })).toBe(false); // only the site-offline alert
    // a straggler that drops while it stands joins it
    s.onAgentStatus('xa-15', 'pi-1', false, T0 + 60_000, areaOf('xa-15'));
    expect(s.evaluate(T0 + 60_000)?.parts).toHaveLength(7);
    expect(s.claims(siteOffline(15))).toBe(true);
    expect(s.stats()).toMatchObject({ massDrops: 1, agentsOnline: 13 });
  });

  it('drops spread over more than the window, or fewer than minAgents, are no incident', () => {
    const s = withOnline(20);
    for (let i = 0; i < 10; i++) {
      s.onAgentStatus(`xa-${i}`, 'pi-1', false, T0 + i * 8_000, areaOf(`xa-${i}`));
      expect(s.evaluate(T0 + i * 8_000)?.signal.active).toBeUndefined(); // at most 4 in any 30 s (< minAgents 5)
    }
    const small = withOnline(4);
    for (let i = 0; i < 4; i++) small.onAgentStatus(`xa-${i}`, 'pi-1', false, T0, areaOf(`xa-${i}`));
    expect(small.evaluate(T0)?.signal.active).toBeUndefined(); // 100% but 4 < minAgents 5
    // agents that reconnected at once did not drop
    const blip = withOnline(10);
    for (let i = 0; i < 6; i++) blip.onAgentStatus(`xa-${i}`, 'pi-1', false, T0, areaOf(`xa-${i}`));
    for (let i = 0; i < 6; i++) blip.onAgentStatus(`xa-${i}`, 'pi-1', true, T0 + 500, areaOf(`xa-${i}`));
    expect(blip.evaluate(T0 + 1000)?.signal.active).toBeUndefined();
  });

  it('resolves once the recovered share of its parts has been back for clearFor; those still down are then their own alerts', () => {
    const s = withOnline(10);
    for (let i = 0; i < 10; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', false, T0, areaOf(`xa-${i}`));
    expect(s.evaluate(T0)?.signal.active).toBe(true);
    for (let i = 0; i < 7; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', true, T0 + 60_000, areaOf(`xa-${i}`));
    expect(s.evaluate(T0 + 60_000)?.parts.map((p) => p.site)).toEqual(['xa-7', 'xa-8', 'xa-9']); // 70% < 80%
    s.onAgentStatus('xa-7', 'pi-1', true, T0 + 61_000, areaOf('xa-7'));
    expect(s.evaluate(T0 + 61_000)?.signal.active).toBe(true); // 80%, not yet for clearFor (1m)
    expect(s.evaluate(T0 + 120_999)?.signal.active).toBe(true);
    expect(s.claims(siteOffline(9))).toBe(true);
    expect(s.evaluate(T0 + 121_000)?.signal.active).toBeUndefined();
    expect(s.claims(siteOffline(9))).toBe(false);
    // those that came back stay its parts while their alerts damp their resolution, until they drop again
    expect(s.claims(siteOffline(0))).toBe(true);
    s.onAgentStatus('xa-0', 'pi-1', false, T0 + 62_000, areaOf('xa-0'));
    expect(s.claims(siteOffline(0))).toBe(false);
    expect(s.claims(siteOffline(1))).toBe(true);
    s.evaluate(T0 + 61_000 + 3_600_000);
    expect(s.claims(siteOffline(1))).toBe(false);
  });

  it('tracks at most MAX_TRACKED_AGENTS agents, counting those it did not', () => {
    const s = withOnline(MAX_TRACKED_AGENTS + 3);
    expect(s.stats()).toMatchObject({ agentsOnline: MAX_TRACKED_AGENTS, agentsUntracked: 3 });
    s.onAgentStatus(`xa-${MAX_TRACKED_AGENTS + 1}`, 'pi-1', false, T0, areaOf(`xa-${MAX_TRACKED_AGENTS + 1}`)); // not tracked: no drop
    s.onAgentStatus('xa-0', 'pi-1', true, T0, areaOf('xa-0')); // tracked already: not counted again
    expect(s.stats()).toMatchObject({ agentsOnline: MAX_TRACKED_AGENTS, agentsUntracked: 3 });
  });

  it("a drop within one area is not the hub, however large its share: it is that area's incident", () => {
    const s = new SelfCheck(config());
    for (let i = 0; i < 20; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', true, T0, i < 10 ? 'song-lo' : 'tam-dao');
    for (let i = 0; i < 10; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', false, T0, 'song-lo');
    expect(s.evaluate(T0)).toBeUndefined(); // 50%, one area
    s.onAgentStatus('xa-10', 'pi-1', false, T0 + 1000, 'tam-dao');
    expect(s.evaluate(T0 + 1000)?.signal).toMatchObject({ active: true, value: 11 }); // two areas
  });

  it('an agent never seen online (a hub that just started) does not count as a drop', () => {
    const s = new SelfCheck(config());
    for (let i = 0; i < 10; i++) s.onAgentStatus(`xa-${i}`, 'pi-1', false, T0, areaOf(`xa-${i}`));
    expect(s.evaluate(T0)?.signal.active).toBeUndefined();
    expect(new SelfCheck(config({ enabled: false })).evaluate(T0)).toBeUndefined();
  });
});

describe('self-check: uplink', () => {
  it('is down after `failures` rounds in which every target failed, and up at the first answer', () => {
    const s = withOnline(10, config({ uplink: { targets: [{ name: 'portal', host: '127.0.0.1', port: 9 }], failures: 2 } }));
    expect(s.stats().uplinkUp).toBe(-1);
    s.onUplinkRound(false, ['portal']);
    expect(s.evaluate(T0)?.signal.active).toBeUndefined();
    s.onUplinkRound(false, ['portal']);
    const r = s.evaluate(T0);
    expect(r?.signal).toMatchObject({ active: true, value: 0, labels: { cause: 'uplink', unreachable: 'portal' } });
    expect(r?.signal.summary.en).toBe("IOC link / hub incident: the hub's uplink is down (unreachable: portal)");
    expect(r?.signal.summary.vi).toBe('Sự cố kết nối IOC / hub: hub mất đường truyền (không kết nối được: portal)');
    // agents that drop while the uplink is down are its parts, whatever their share
    s.onAgentStatus('xa-1', 'pi-1', false, T0 + 1000, areaOf('xa-1'));
    expect(s.evaluate(T0 + 1000)?.parts).toEqual([{ site: 'xa-1', agent: 'pi-1' }]);
    expect(s.stats()).toMatchObject({ uplinkUp: 0, uplinkDowns: 1 });
    s.onUplinkRound(true, []);
    expect(s.stats().uplinkUp).toBe(1);
    expect(s.evaluate(T0 + 2000)?.signal).toMatchObject({ active: true, labels: { cause: 'uplink' } }); // its agent is not back
    s.onAgentStatus('xa-1', 'pi-1', true, T0 + 3000, areaOf('xa-1'));
    expect(s.evaluate(T0 + 3000)?.signal.active).toBe(true);
    expect(s.evaluate(T0 + 63_000)?.signal.active).toBeUndefined();
    // a flap of the uplink alone (no agent lost) is damped the same way
    s.onUplinkRound(false, ['portal']);
    s.onUplinkRound(false, ['portal']);
    expect(s.evaluate(T0 + 70_000)?.signal.active).toBe(true);
    s.onUplinkRound(true, []);
    expect(s.evaluate(T0 + 71_000)?.signal.active).toBe(true);
    expect(s.evaluate(T0 + 131_000)?.signal.active).toBeUndefined();
  });

  it('the probe runs rounds over its targets: up when any answers, the failed ones named and counted', async () => {
    const rounds: [boolean, readonly string[]][] = [];
    let gatewayUp = true;
    const probe = new UplinkProbe({
      targets: [
        { name: 'portal', host: 'portal.example', port: 443 },
        { name: 'gateway', host: '10.0.0.1', port: 80 },
      ],
      intervalMs: 5,
      timeoutMs: 100,
      onRound: (up, unreachable) => rounds.push([up, unreachable]),
      connect: async (t) => {
        if (t.name === 'portal' || !gatewayUp) throw new Error('ECONNREFUSED');
      },
    });
    probe.start();
    await expect.poll(() => rounds.length).toBeGreaterThanOrEqual(2);
    gatewayUp = false;
    await expect.poll(() => rounds.at(-1)?.[0]).toBe(false);
    await probe.stop();
    const n = rounds.length;
    expect(rounds[0]).toEqual([true, ['portal']]);
    expect(rounds.at(-1)).toEqual([false, ['portal', 'gateway']]);
    expect(probe.failures.get('portal')).toBeGreaterThanOrEqual(n);
    await new Promise((r) => setTimeout(r, 30));
    expect(rounds.length).toBe(n); // stopped
  });
});

describe('self-check in the engine', () => {
  const T = (ms: number) => T0 + ms;
  const status = (i: number, online: boolean): HubPoint => ({ measurement: 'agent', tags: { site: `xa-${i}`, agent: 'pi-1', area: i % 2 === 0 ? 'tam-dao' : 'lap-thach', province: 'vinh-phuc' }, fields: { online }, timestamp: T0 });

  it('60% of the agents dropping at once: one hub-link incident, no site or area notification; resolved when they return', async () => {
    let t = T0;
    const out = { active: [] as AlertRecord[], resolved: [] as AlertRecord[] };
    const engine = new AlertEngine({
      rules: parseRulesFile({ rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m', clearFor: '1m', groupBy: ['area|province'] }], storm: { groupWait: '30s' }, selfCheck: { for: '30s' } }),
      outputs: { active: (r) => out.active.push(r), resolved: (r) => out.resolved.push(r) },
      now: () => t,
      evaluateIntervalMs: 0,
      sliceBudgetMs: 60_000,
    });
    await engine.start();
    engine.onPoints(Array.from({ length: 50 }, (_, i) => status(i, true)));
    const dropped = Array.from({ length: 30 }, (_, i) => i);
    engine.onPoints(dropped.map((i) => status(i, false)));
    for (const ms of [0, 29_000]) {
      t = T(ms);
      engine.tick();
    }
    expect(out.active).toEqual([]);
    expect(engine.list().find((a) => a.rule === HUB_LINK_RULE)?.state).toBe('pending');
    t = T(30_000);
    engine.tick();
    expect(out.active.map((r) => [r.rule, r.site, r.value, r.parts?.length])).toEqual([[HUB_LINK_RULE, HUB_SITE, 30, 30]]);
    for (const ms of [120_000, 150_000, 400_000]) {
      t = T(ms);
      engine.tick();
    }
    expect(out.active.map((r) => r.rule)).toEqual([HUB_LINK_RULE]);
    const offline = engine.list().filter((a) => a.rule === 'site-offline');
    expect(offline).toHaveLength(30);
    expect(offline.every((a) => a.state === 'firing' && a.suppressedBy === 'hub-link')).toBe(true);
    expect(engine.list().filter((a) => a.rule === 'incident-site-offline')).toEqual([]); // no area incidents either
    expect(engine.stats().selfCheck).toMatchObject({ massDrops: 1, agentsOnline: 20 });
    engine.onPoints(dropped.map((i) => status(i, true)));
    t = T(401_000);
    engine.tick();
    expect(out.resolved).toEqual([]); // back, for its clearFor (1m)
    t = T(461_000);
    engine.tick();
    expect(out.resolved.map((r) => r.rule)).toEqual([HUB_LINK_RULE]);
    t = T(470_000);
    engine.tick();
    expect(out.resolved.map((r) => r.rule)).toEqual([HUB_LINK_RULE]); // the muted members resolve unannounced
    expect(engine.list()).toEqual([]);
    await engine.stop();
  });

  it('a drop that is over before `for` pages no one', async () => {
    let t = T0;
    const out: AlertRecord[] = [];
    const engine = new AlertEngine({
      rules: parseRulesFile({ rules: [{ name: 'site-offline', type: 'agent-offline', for: '2m' }] }),
      outputs: { active: (r) => out.push(r), resolved: (r) => out.push(r) },
      now: () => t,
      evaluateIntervalMs: 0,
      sliceBudgetMs: 60_000,
    });
    await engine.start();
    engine.onPoints(Array.from({ length: 20 }, (_, i) => status(i, true)));
    engine.onPoints(Array.from({ length: 20 }, (_, i) => status(i, false)));
    t = T(10_000);
    engine.tick();
    engine.onPoints(Array.from({ length: 20 }, (_, i) => status(i, true)));
    t = T(200_000);
    engine.tick();
    expect(out).toEqual([]);
    expect(engine.list()).toEqual([]);
    await engine.stop();
  });
});
