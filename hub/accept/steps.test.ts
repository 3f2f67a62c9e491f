// The accept path's pure steps, each with its refusal code, on an injected clock: no broker, no network.
import { describe, expect, it } from 'vitest';
import { applyContract, type Point } from '../../protocol/index.ts';
import { mutatedBatchText, Rng } from '../../testkit/batch-mutations.ts';
import { SeriesBudget, seriesKey, TokenBucket } from './budgets.ts';
import { admitPoints, checkCmdResult, checkSpoolShare, checkTopic, decodeAgentBatch, decodeAgentStatus, isOwnCommandFilter, requireSite, retainAllowed, takeRate, timeWindow, type StepResult } from './steps.ts';

const NOW = 1_800_000_000_000;
const ME = { site: 'xa-a', agent: 'pi-1' };
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const codeOf = (r: StepResult<unknown>): string | undefined => (r.ok ? undefined : `${r.refusal.action}:${r.refusal.code}`);
const host = (t: number): Point => ({ m: 'host', t, fields: { cpu_pct: 1 } });
const iface = (t: number, name: string): Point => ({ m: 'net_iface', t, tags: { iface: name }, fields: { rx_bps: 1 } });

describe('step topic', () => {
  it('passes an agent on its own channels and names each refusal', () => {
    for (const channel of ['telemetry', 'event', 'status']) expect(codeOf(checkTopic(ME, `ioc/v1/xa-a/pi-1/${channel}`, 6))).toBeUndefined();
    const ok = checkTopic(ME, 'ioc/v1/xa-a/pi-1/cmd-result/c-1', 6);
    expect(ok.ok && ok.value.topic).toEqual({ kind: 'cmd-result', site: 'xa-a', agent: 'pi-1', id: 'c-1' });
    expect(codeOf(checkTopic(undefined, 'ioc/v1/xa-a/pi-1/telemetry', 6))).toBe('deny:unauthenticated');
    expect(codeOf(checkTopic(ME, 'ioc/v1/xa-a/pi-1/telemetry/x/y', 6))).toBe('deny:topic_too_deep');
    for (const foreign of ['ioc/v1/xa-b/pi-1/telemetry', 'ioc/v1/xa-a/pi-2/status', 'ioc/v1/alerts/xa-a/a1', 'ioc/v1/xa-a/pi-1/cmd/probe', 'other/topic']) {
      expect(codeOf(checkTopic(ME, foreign, 6)), foreign).toBe('deny:foreign_topic');
    }
  });

  it('keeps retain on the status only, and subscriptions on the agent’s own commands', () => {
    expect(retainAllowed({ kind: 'status', ...ME })).toBe(true);
    expect(retainAllowed({ kind: 'telemetry', ...ME })).toBe(false);
    expect(retainAllowed({ kind: 'cmd-result', ...ME, id: 'c' })).toBe(false);
    expect(['ioc/v1/xa-a/pi-1/cmd/#', 'ioc/v1/xa-a/pi-1/cmd/+', 'ioc/v1/xa-a/pi-1/cmd/probe'].map((f) => isOwnCommandFilter(f, ME))).toEqual([true, true, true]);
    expect(['ioc/v1/xa-a/pi-2/cmd/#', 'ioc/v1/#', 'ioc/v1/xa-a/pi-1/telemetry', 'ioc/v1/xa-a/pi-1/cmd/a/b'].map((f) => isOwnCommandFilter(f, ME))).toEqual([false, false, false, false]);
  });
});

describe('step decode', () => {
  it('decodes a batch once, and refuses a malformed one with the decoder’s code', () => {
    const good = decodeAgentBatch(json({ seq: 1, sentAt: NOW, points: [host(NOW)] }), 1024);
    expect(good.ok && good.value.points).toHaveLength(1);
    expect(codeOf(decodeAgentBatch(Buffer.from('{not json'), 1024))).toMatch(/^malformed:E_/);
    expect(codeOf(decodeAgentBatch(json({ seq: 1, sentAt: NOW, points: Array.from({ length: 40 }, (_, i) => host(NOW + i)) }), 1024))).toBe('malformed:E_PAYLOAD_TOO_LARGE');
  });

  it('decodes a status, and refuses a malformed one', () => {
    const status = { online: true, ts: NOW, version: '1', bootId: 'b', configRev: 1, clockSynced: true };
    const good = decodeAgentStatus(json(status));
    expect(good.ok && good.value).toEqual(status);
    expect(codeOf(decodeAgentStatus(json({ ...status, online: 'yes' })))).toMatch(/^malformed:E_/);
  });

  it('needs the site in the registry, and bounds a cmd-result taken once', () => {
    expect(codeOf(requireSite(undefined))).toBe('deny:unknown_site');
    expect(codeOf(requireSite({ slug: 'xa-a' }))).toBeUndefined();
    expect(codeOf(checkCmdResult(2048, 1024, () => true))).toBe('malformed:E_PAYLOAD_TOO_LARGE');
    expect(codeOf(checkCmdResult(10, 1024, () => false))).toBe('drop:cmd_result_unknown');
    expect(codeOf(checkCmdResult(10, 1024, () => true))).toBeUndefined();
  });
});

describe('step contract + time window', () => {
  it('accepts readings from maxPastMs behind to maxFutureMs ahead of the hub clock', () => {
    expect(timeWindow(NOW, { maxPastMs: 3_600_000, maxFutureMs: 60_000 })).toEqual({ min: NOW - 3_600_000, max: NOW + 60_000 });
    expect(timeWindow(NOW, {})).toEqual({ min: 0, max: NOW + 600_000 });
    const window = timeWindow(NOW, { maxPastMs: 3_600_000, maxFutureMs: 60_000 });
    const points = [host(NOW), host(NOW + 60_000), host(NOW + 60_001), host(NOW - 3_600_000), host(NOW - 3_600_001), host(NOW + 86_400_000)];
    const out = admitPoints(points, window, new SeriesBudget(100), 'xa-a/pi-1', NOW);
    expect(out.accepted.map((p) => p.t)).toEqual([NOW, NOW + 60_000, NOW - 3_600_000]);
    expect(Object.fromEntries(out.refused)).toEqual({ clock_future: 2, clock_past: 1 });
    expect(out.clockRefused).toEqual({ future: 2, past: 1, minT: NOW - 3_600_001, maxT: NOW + 86_400_000 });
  });

  it('refuses by the contract’s reason: hub measurements, unknown ones, wrong field types', () => {
    const points: Point[] = [host(NOW), { m: 'alert', t: NOW, tags: { rule: 'r', severity: 'critical' }, fields: { state: 'firing' } }, { m: 'nope', t: NOW, fields: { v: 1 } }, { m: 'host', t: NOW, fields: { cpu_pct: 'x' } }];
    const out = admitPoints(points, timeWindow(NOW, {}), new SeriesBudget(100), 'xa-a/pi-1', NOW);
    expect(out.accepted).toHaveLength(1);
    expect(Object.fromEntries(out.refused)).toEqual({ hub_measurement: 1, unknown_measurement: 1, field_type: 1 });
    expect(out.clockRefused).toBeUndefined();
  });

  it('admits exactly what the contract (applyContract) and then the series budget admit, on generated batches', () => {
    const r = new Rng(42_013);
    const window = timeWindow(NOW, { maxPastMs: 90 * 86_400_000 });
    const fastSeries = new SeriesBudget(400);
    const refSeries = new SeriesBudget(400);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const decoded = decodeAgentBatch(Buffer.from(mutatedBatchText(r, NOW, i)), 512 * 1024);
      if (!decoded.ok) continue;
      const points = decoded.value.points;
      const key = `xa-${i % 7}/pi-1`;
      const got = admitPoints(points, window, fastSeries, key, NOW);
      // The reference: the contract as written (protocol/contract.ts), then the series budget over what it accepted.
      const ref = applyContract(points, window);
      let over = 0;
      const accepted = ref.accepted.filter((p) => refSeries.admit(key, seriesKey(p.m, p.tags), NOW) || (over++, false));
      const refused = new Map<string, number>(ref.refused);
      if (over > 0) refused.set('series_budget', over);
      expect(got.accepted).toEqual(accepted);
      expect(got.accepted.every((p, j) => p === accepted[j])).toBe(true); // the decoded points themselves, not copies
      expect([...got.refused]).toEqual([...refused]);
      expect(got.overSeries).toBe(over);
      expect(got.clockRefused).toEqual(ref.clockRefused);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
    expect(fastSeries.count('xa-0/pi-1')).toBe(400); // the budget was hit
  });
});

describe('step budgets', () => {
  it('series: past the day’s distinct series a new one is refused, a known one still passes; a new day starts over', () => {
    const series = new SeriesBudget(2);
    const batch = [iface(NOW, 'eth0'), iface(NOW, 'eth1'), iface(NOW, 'wlan0'), iface(NOW, 'eth0')];
    const out = admitPoints(batch, timeWindow(NOW, {}), series, 'xa-a/pi-1', NOW);
    expect(out.accepted.map((p) => p.tags?.iface)).toEqual(['eth0', 'eth1', 'eth0']);
    expect(out.overSeries).toBe(1);
    expect(out.refused.get('series_budget')).toBe(1);
    expect(admitPoints([iface(NOW, 'wlan0')], timeWindow(NOW, {}), series, 'xa-b/pi-1', NOW).overSeries).toBe(0); // another agent's own budget
    const tomorrow = NOW + 86_400_000;
    expect(admitPoints([iface(tomorrow, 'wlan0')], timeWindow(tomorrow, {}), series, 'xa-a/pi-1', tomorrow).overSeries).toBe(0);
  });

  it('rate: a hold while in debt, a refusal past the longest hold, refilled by the clock', () => {
    const bucket = new TokenBucket({ perS: 100, burst: 100 }, NOW);
    expect(takeRate(bucket, 'points', 100, NOW, 200)).toEqual({ ok: true, value: { holdMs: 0 } });
    expect(takeRate(bucket, 'points', 10, NOW, 200)).toEqual({ ok: true, value: { holdMs: 100 } });
    expect(codeOf(takeRate(bucket, 'points', 50, NOW, 200))).toBe('deny:rate_refused'); // 600 ms behind
    expect(takeRate(bucket, 'bytes', 10, NOW + 1000, 200)).toEqual({ ok: true, value: { holdMs: 0 } }); // a second later: refilled
  });

  it('spool share: refused only while the agent has spooled bytes and this batch would pass its share', () => {
    expect(codeOf(checkSpoolShare(0, 5000, 1000))).toBeUndefined();
    expect(codeOf(checkSpoolShare(900, 100, 1000))).toBeUndefined();
    expect(codeOf(checkSpoolShare(900, 101, 1000))).toBe('deny:spool_refused');
  });
});
