// One alert's life on its own (no engine): pending → firing after `for` and the startup grace, flap damping on the
// way back, a pending alert that clears is dropped, the per-rule-site cap refuses new series, office hours gate.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import type { AlertSignal } from './alert.ts';
import { AlertTable } from './alert-table.ts';
import { Lifecycle } from './lifecycle.ts';
import { OfficeHours, officeHoursSchema } from './office-hours.ts';
import { SeriesCap, TOO_MANY_SERIES } from './series-cap.ts';

const MON_9AM = Date.parse('2025-06-02T02:00:00Z'); // Monday 09:00 in Hanoi

function setup(cap = 10) {
  const table = new AlertTable();
  const seriesCap = new SeriesCap(table, { cap, clearMs: 60_000, log: silentLogger() });
  const lifecycle = new Lifecycle({ table, cap: seriesCap, officeHours: new OfficeHours(officeHoursSchema.parse({})), holdMsOf: () => 0 });
  return { table, seriesCap, lifecycle };
}

const sig = (active: boolean, over: Partial<AlertSignal> = {}): AlertSignal => ({
  rule: 'probe-down',
  site: 'xa-a',
  instance: 'target=portal',
  severity: 'warning',
  active,
  value: active ? 0 : 1,
  labels: { agent: 'pi-1' },
  summary: { vi: 'x', en: 'x' },
  forMs: 60_000,
  clearForMs: 30_000,
  holdMs: 0,
  marksSiteDown: false,
  derived: false,
  ...over,
});

describe('lifecycle', () => {
  it('pending → firing once the condition held `for`, not before the startup grace ends', () => {
    const { table, lifecycle } = setup();
    const t = MON_9AM;
    lifecycle.signal(sig(true), t);
    const a = table.get('probe-down|xa-a|target=portal');
    expect(a?.state).toBe('pending');
    if (a === undefined) return;
    expect(lifecycle.advance(a, t + 59_999, 0)).toBe(false);
    expect(lifecycle.advance(a, t + 60_000, t + 90_000)).toBe(false); // still in the grace
    expect(lifecycle.advance(a, t + 90_000, t + 90_000)).toBe(true);
    expect(a).toMatchObject({ state: 'firing', firingAt: t + 90_000, updatedAt: t + 90_000 });
  });

  it('resolves only once clear for `clearFor`; the condition coming back resets the damping', () => {
    const { table, lifecycle } = setup();
    const t = MON_9AM;
    lifecycle.signal(sig(true, { forMs: 0 }), t);
    const a = table.get('probe-down|xa-a|target=portal');
    if (a === undefined) return expect.fail('not opened');
    lifecycle.advance(a, t, 0);
    lifecycle.signal(sig(false), t + 1000);
    lifecycle.advance(a, t + 30_999, 0);
    expect(a.state).toBe('firing');
    lifecycle.signal(sig(true), t + 31_000);
    lifecycle.signal(sig(false), t + 32_000);
    lifecycle.advance(a, t + 61_999, 0);
    expect(a.state).toBe('firing');
    lifecycle.advance(a, t + 62_000, 0);
    expect(a).toMatchObject({ state: 'resolved', updatedAt: t + 62_000, value: 1 });
  });

  it('drops a pending alert whose condition cleared, and opens none for a clear signal', () => {
    const { table, lifecycle } = setup();
    lifecycle.signal(sig(false), MON_9AM);
    expect(table.size).toBe(0);
    lifecycle.signal(sig(true), MON_9AM);
    lifecycle.signal(sig(false), MON_9AM + 1000);
    const a = table.get('probe-down|xa-a|target=portal');
    if (a === undefined) return expect.fail('not opened');
    lifecycle.advance(a, MON_9AM + 1000, 0);
    expect(table.size).toBe(0);
  });

  it('past the per-rule-site cap opens one too-many-series alert instead; derived alerts are not capped', () => {
    const { table, seriesCap, lifecycle } = setup(2);
    for (let i = 0; i < 5; i++) lifecycle.signal(sig(true, { instance: `target=t${i}` }), MON_9AM);
    expect([...table.values()].map((a) => a.rule).sort()).toEqual(['probe-down', 'probe-down', TOO_MANY_SERIES]);
    expect(seriesCap.capped.get('probe-down')).toBe(3);
    lifecycle.signal(sig(true, { rule: 'incident-probe-down', site: 'vinh-phuc', derived: true }), MON_9AM);
    lifecycle.signal(sig(true, { rule: 'incident-probe-down', site: 'vinh-phuc', instance: 'x', derived: true }), MON_9AM);
    lifecycle.signal(sig(true, { rule: 'incident-probe-down', site: 'vinh-phuc', instance: 'y', derived: true }), MON_9AM);
    expect([...table.values()].filter((a) => a.derived)).toHaveLength(3);
  });

  it('an office-hours rule is clear while the office is closed (Sunday), active when open', () => {
    const { table, lifecycle } = setup();
    const rule = { name: 'queue-long', type: 'threshold', severity: 'warning', forMs: 0, clearForMs: 0, officeHoursOnly: true, group: undefined, marksSiteDown: false, maxSeriesPerSite: 10, maxSeries: 10, onPoint: () => [], tick: () => [], snapshot: () => [], restore: () => undefined } as const;
    const s = { site: 'xa-a', instance: 'counter=c1', active: true, labels: {}, summary: { vi: 'x', en: 'x' } };
    lifecycle.fromRule(rule, s, Date.parse('2025-06-08T02:00:00Z'));
    expect(table.size).toBe(0);
    lifecycle.fromRule(rule, s, MON_9AM);
    expect(table.get('queue-long|xa-a|counter=c1')?.active).toBe(true);
  });
});
