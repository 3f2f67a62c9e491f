import { describe, expect, it } from 'vitest';
import { thresholdRule } from './threshold.ts';

const p = (v: number | boolean, tags: Record<string, string> = {}) => ({ measurement: 'equipment', tags: { site: 'xa-a', agent: 'pi-1', area: 'a', province: 'p', kind: 'ups', ...tags }, fields: { battery_pct: v }, timestamp: 0 });

describe('threshold rule', () => {
  const rule = () => thresholdRule.create(thresholdRule.configSchema.parse({ name: 'low', type: 'threshold', measurement: 'equipment', field: 'battery_pct', below: 30, clear: 40, select: { tags: { kind: 'ups' } } }));

  it('fires below the level and clears only past the clear level', () => {
    const r = rule();
    expect(r.onPoint(p(29), 0).map((s) => s.active)).toEqual([true]);
    expect(r.onPoint(p(35), 0).map((s) => s.active)).toEqual([true]);
    expect(r.onPoint(p(41), 0).map((s) => s.active)).toEqual([false]);
    expect(r.onPoint(p(35), 0).map((s) => s.active)).toEqual([false]);
  });

  it('keeps instances apart by tags and ignores what the selector excludes', () => {
    const r = rule();
    const [a] = r.onPoint(p(10, { device: 'ups-1' }), 0);
    const [b] = r.onPoint(p(10, { device: 'ups-2' }), 0);
    expect(a?.instance).not.toBe(b?.instance);
    expect(r.onPoint(p(10, { kind: 'meter' }), 0)).toEqual([]);
  });
  it('evaluates on reading time: a reading older than the series already said changes nothing', () => {
    const r = rule();
    const at = (v: number, t: number) => ({ ...p(v), timestamp: t });
    expect(r.onPoint(at(10, 2000), 0).map((s) => s.active)).toEqual([true]);
    expect(r.onPoint(at(90, 1000), 0)).toEqual([]);
    expect(r.onPoint(at(90, 3000), 0).map((s) => s.active)).toEqual([false]);
  });
  it('restores its memory with reading times, and files written before them', () => {
    const r = rule();
    r.onPoint({ ...p(10), timestamp: 5000 }, 0);
    const again = rule();
    again.restore(r.snapshot(), 0);
    expect(again.onPoint({ ...p(90), timestamp: 4000 }, 0)).toEqual([]);
    const old = rule();
    old.restore([['xa-a|agent=pi-1,kind=ups', true]], 0);
    expect(old.onPoint({ ...p(35), timestamp: 1 }, 0).map((s) => s.active)).toEqual([true]);
  });
});
