import { describe, expect, it } from 'vitest';
import { changeRule } from './change.ts';

const q = (field: string, v: number, t: number) => ({ measurement: 'queue', tags: { site: 'xa-a', agent: 'pi-1', counter: 'c1' }, fields: { [field]: v }, timestamp: t });

describe('change rule', () => {
  it('stuck: active when the value has not changed for the window', () => {
    const r = changeRule.create(changeRule.configSchema.parse({ name: 'frozen', type: 'change', mode: 'stuck', measurement: 'queue', field: 'current_number', window: '10m' }));
    r.onPoint(q('current_number', 5, 0), 0);
    expect(r.tick(599_999).map((s) => s.active)).toEqual([false]);
    expect(r.onPoint(q('current_number', 5, 600_000), 600_000).map((s) => s.active)).toEqual([true]);
    expect(r.onPoint(q('current_number', 6, 601_000), 601_000).map((s) => s.active)).toEqual([false]);
  });

  it('rate: active when the counter climbs faster than maxPerMin', () => {
    const r = changeRule.create(changeRule.configSchema.parse({ name: 'runaway', type: 'change', mode: 'rate', measurement: 'queue', field: 'issued_total', window: '2m', maxPerMin: 10 }));
    r.onPoint(q('issued_total', 0, 0), 0);
    expect(r.onPoint(q('issued_total', 5, 60_000), 60_000).map((s) => s.active)).toEqual([false]);
    expect(r.onPoint(q('issued_total', 60, 120_000), 120_000).map((s) => [s.active, s.value])).toEqual([[true, 30]]);
  });
});
