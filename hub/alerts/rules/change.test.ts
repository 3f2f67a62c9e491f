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
  it('rate: orders samples by reading time, not arrival order', () => {
    const r = changeRule.create(changeRule.configSchema.parse({ name: 'runaway', type: 'change', mode: 'rate', measurement: 'queue', field: 'issued_total', window: '2m', maxPerMin: 5 }));
    // Arrive newest first: in arrival order there is no rate at all; by time it is 10/min.
    expect(r.onPoint(q('issued_total', 20, 120_000), 120_000)).toEqual([]);
    expect(r.onPoint(q('issued_total', 0, 0), 120_000).map((s) => [s.active, s.value])).toEqual([[true, 10]]);
    // An old reading inside the window does not become the window's end: still 10/min over 0..120 s.
    expect(r.onPoint(q('issued_total', 10, 60_000), 120_000).map((s) => [s.active, s.value])).toEqual([[true, 10]]);
  });
  it('stuck: frozen for the readings\' span plus the hub time since the newest came; an older reading that differs moves the change', () => {
    const r = changeRule.create(changeRule.configSchema.parse({ name: 'frozen', type: 'change', mode: 'stuck', measurement: 'queue', field: 'current_number', window: '10m' }));
    // Readings stamped an hour before they arrive (agent clock or delay): what counts is their own span.
    const late = 3_600_000;
    r.onPoint(q('current_number', 5, 0), late);
    expect(r.onPoint(q('current_number', 5, 300_000), late).map((s) => s.active)).toEqual([false]);
    expect(r.tick(late + 299_999).map((s) => s.active)).toEqual([false]);
    expect(r.tick(late + 300_000).map((s) => s.active)).toEqual([true]);
    // A reading of 200 s (arriving now) with another value: it moved then, so frozen only from 200 s on.
    expect(r.onPoint(q('current_number', 4, 200_000), late + 300_000).map((s) => s.active)).toEqual([false]);
    expect(r.tick(late + 500_000).map((s) => s.active)).toEqual([true]);
  });
});
