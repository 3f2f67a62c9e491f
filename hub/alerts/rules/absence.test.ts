import { describe, expect, it } from 'vitest';
import { absenceRule } from './absence.ts';

describe('absence rule', () => {
  it('is active once a series has been silent for longer than `after`, and restarts its clock at hub start', () => {
    const r = absenceRule.create(absenceRule.configSchema.parse({ name: 'silent', type: 'absence', measurement: 'display', after: '5m' }));
    r.onPoint({ measurement: 'display', tags: { site: 'xa-a', agent: 'pi-1', display: 'd1' }, fields: { alive: true }, timestamp: 0 }, 1000);
    expect(r.tick(1000 + 300_000).map((s) => s.active)).toEqual([false]);
    expect(r.tick(1000 + 300_001).map((s) => s.active)).toEqual([true]);
    const again = absenceRule.create(absenceRule.configSchema.parse({ name: 'silent', type: 'absence', measurement: 'display', after: '5m' }));
    again.restore(r.snapshot(), 10_000_000);
    expect(again.tick(10_000_000 + 1000).map((s) => s.active)).toEqual([false]);
  });

  it('restores only remembered series of the right shape from the state file', () => {
    const r = absenceRule.create(absenceRule.configSchema.parse({ name: 'silent', type: 'absence', measurement: 'display', after: '5m' }));
    r.restore([{ site: 'xa-a', instance: 'display=d1', lastSeen: 0 }, { site: 'xa-b', instance: 'display=d1', lastSeen: 'yesterday' }, { site: 'xa-c', instance: 'display=d1', lastSeen: 0, labels: [1] }, null, 7], 1000);
    expect(r.tick(1000 + 300_001).map((s) => [s.site, s.active])).toEqual([['xa-a', true]]);
  });
  it('counts arrival, on the hub clock: a live reading stamped before the hub\'s now is still a sign of life now', () => {
    const r = absenceRule.create(absenceRule.configSchema.parse({ name: 'silent', type: 'absence', measurement: 'display', after: '5m' }));
    r.onPoint({ measurement: 'display', tags: { site: 'xa-a', agent: 'pi-1', display: 'd1' }, fields: { alive: true }, timestamp: 0 }, 3_600_000);
    expect(r.tick(3_600_000 + 300_000).map((s) => s.active)).toEqual([false]);
  });
});
