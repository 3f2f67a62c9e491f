// Each muter alone (silence, maintenance, site-offline inhibition, grouped, composite, group-wait), and their order.
import { describe, expect, it } from 'vitest';
import { alertKey, type Alert } from '../alert.ts';
import { AlertTable } from '../alert-table.ts';
import { Grouping } from '../grouping.ts';
import { parseRulesFile } from '../rules-file.ts';
import { Silences } from '../silences.ts';
import { compositeMuter, groupedMuter, groupWaitMuter } from './grouping-muters.ts';
import { InhibitRule, SITE_OFFLINE } from './inhibit-rule.ts';
import { maintenanceMuter } from './maintenance-muter.ts';
import { mutedBy, type Muter } from './muter.ts';
import { silenceMuter } from './silence-muter.ts';

const T0 = Date.parse('2025-06-02T02:00:00Z');

function alert(over: Partial<Alert> & Pick<Alert, 'rule' | 'site'>): Alert {
  const instance = over.instance ?? '';
  return {
    key: alertKey(over.rule, over.site, instance),
    id: `${over.rule}-${over.site}-${instance}`,
    instance,
    severity: 'warning',
    state: 'firing',
    since: T0,
    firingAt: T0,
    updatedAt: T0,
    summary: { vi: 'x', en: 'x' },
    labels: { agent: 'pi-1', area: 'tam-dao', province: 'vinh-phuc' },
    active: true,
    announced: false,
    forMs: 0,
    clearForMs: 0,
    holdMs: 0,
    marksSiteDown: false,
    derived: false,
    ...over,
  };
}

describe('silence muter', () => {
  it('mutes what a silence matches while it lasts, naming the silence kind', () => {
    const silences = new Silences({ maxSilences: 10, maxSilenceMs: 86_400_000 });
    const m = silenceMuter(silences);
    const a = alert({ rule: 'probe-down', site: 'xa-a' });
    expect(m.mutes(a, T0)).toBeUndefined();
    silences.add({ sites: ['xa-a'], startsAt: T0 + 1000, endsAt: T0 + 60_000 }, 'ops', T0);
    expect(m.mutes(a, T0)).toBeUndefined(); // not started yet
    expect(m.mutes(a, T0 + 1000)).toBe('silence');
    expect(m.mutes(alert({ rule: 'probe-down', site: 'xa-b' }), T0 + 1000)).toBeUndefined();
    expect(m.mutes(a, T0 + 60_000)).toBeUndefined(); // ended
    silences.add({ areas: ['tam-dao'], rules: ['probe-down'], kind: 'maintenance', endsAt: T0 + 120_000 }, 'ops', T0 + 60_000);
    expect(m.mutes(alert({ rule: 'probe-down', site: 'xa-b' }), T0 + 60_000)).toBe('maintenance');
    expect(m.mutes(alert({ rule: 'queue-long', site: 'xa-b' }), T0 + 60_000)).toBeUndefined();
    // derived alerts too (a province incident is silenced like any alert)
    expect(m.mutes(alert({ rule: 'probe-down', site: 'xa-b', derived: true }), T0 + 60_000)).toBe('maintenance');
  });
});

describe('maintenance muter (rules file)', () => {
  it('mutes the sites, areas and rules of an open window, from its start up to (not at) its end', () => {
    const m = maintenanceMuter(
      parseRulesFile({ maintenance: [{ sites: ['xa-a', 'xa-b'], rules: ['probe-down'], startsAt: '2025-06-02T02:00:00Z', endsAt: '2025-06-02T03:00:00Z' }, { areas: ['song-lo'], startsAt: '2025-06-02T02:30:00+07:00', endsAt: '2025-06-02T04:00:00+07:00' }] })
        .maintenance,
    );
    const a = alert({ rule: 'probe-down', site: 'xa-a' });
    expect(m.mutes(a, T0 - 1)).toBeUndefined();
    expect(m.mutes(a, T0)).toBe('maintenance');
    expect(m.mutes(a, T0 + 3_600_000 - 1)).toBe('maintenance');
    expect(m.mutes(a, T0 + 3_600_000)).toBeUndefined();
    expect(m.mutes(alert({ rule: 'queue-long', site: 'xa-a' }), T0)).toBeUndefined();
    expect(m.mutes(alert({ rule: 'probe-down', site: 'xa-c' }), T0)).toBeUndefined();
    const songLo = alert({ rule: 'queue-long', site: 'xa-z', labels: { area: 'song-lo' } });
    expect(m.mutes(songLo, Date.parse('2025-06-01T19:30:00Z'))).toBe('maintenance');
    expect(m.mutes(songLo, Date.parse('2025-06-01T21:00:00Z'))).toBeUndefined();
  });
});

describe('site-offline inhibit rule (source marksSiteDown → target the site’s other alerts, equal: site)', () => {
  it('mutes the other alerts of the site while its down alert is active and in the table, and only that site', () => {
    const table = new AlertTable();
    const rule = new InhibitRule(SITE_OFFLINE, table);
    const down = alert({ rule: 'site-offline', site: 'xa-a', marksSiteDown: true });
    const probe = alert({ rule: 'probe-down', site: 'xa-a' });
    const elsewhere = alert({ rule: 'probe-down', site: 'xa-b' });
    expect(rule.mutes(probe)).toBeUndefined();
    table.put(down);
    expect(rule.sourceActive({ site: 'xa-a' })).toBe(true);
    expect(rule.mutes(probe)).toBe('site-offline');
    expect(rule.mutes(elsewhere)).toBeUndefined();
    expect(rule.mutes(down)).toBeUndefined(); // the source itself is announced
    expect(rule.mutes(alert({ rule: 'incident-probe-down', site: 'xa-a', derived: true }))).toBeUndefined();
    expect(rule.mutes(alert({ rule: 'too-many-series', site: 'xa-a', overflowOf: 'probe-down' }))).toBe('site-offline');
    table.setActive(down, false); // agent back, down alert still damping its resolution
    expect(rule.mutes(probe)).toBeUndefined();
    table.setActive(down, true);
    expect(rule.mutes(probe)).toBe('site-offline');
    table.drop(down);
    expect(rule.sourceActive({ site: 'xa-a' })).toBe(false);
  });

  it('counts several sources: the site stays down until the last one goes', () => {
    const table = new AlertTable();
    const rule = new InhibitRule(SITE_OFFLINE, table);
    const pi1 = alert({ rule: 'site-offline', site: 'xa-a', instance: 'agent=pi-1', marksSiteDown: true });
    const pi2 = alert({ rule: 'site-offline', site: 'xa-a', instance: 'agent=pi-2', marksSiteDown: true });
    table.put(pi1);
    table.put(pi2);
    table.drop(pi1);
    expect(rule.sourceActive({ site: 'xa-a' })).toBe(true);
    table.setActive(pi2, false);
    expect(rule.sourceActive({ site: 'xa-a' })).toBe(false);
    // an inactive alert that is dropped or turned active while outside the table changes nothing
    table.drop(pi2);
    table.setActive(pi2, true);
    expect(rule.sourceActive({ site: 'xa-a' })).toBe(false);
  });

  it('an inhibit rule over several equal labels mutes only targets that share all of them', () => {
    const table = new AlertTable();
    const rule = new InhibitRule({ reason: 'site-offline', source: (a) => a.rule === 'uplink-down', target: (a) => a.rule === 'probe-down', equal: ['site', 'agent'] }, table);
    table.put(alert({ rule: 'uplink-down', site: 'xa-a', labels: { agent: 'pi-1' } }));
    expect(rule.mutes(alert({ rule: 'probe-down', site: 'xa-a', labels: { agent: 'pi-1' } }))).toBe('site-offline');
    expect(rule.mutes(alert({ rule: 'probe-down', site: 'xa-a', labels: { agent: 'pi-2' } }))).toBeUndefined();
    expect(rule.mutes(alert({ rule: 'queue-long', site: 'xa-a', labels: { agent: 'pi-1' } }))).toBeUndefined();
  });
});

const STORM = parseRulesFile({
  rules: [
    { name: 'portal-down', type: 'threshold', measurement: 'net_probe', field: 'up', below: 0.5, group: 'province' },
    { name: 'mains-lost', type: 'threshold', measurement: 'gpio', field: 'state', below: 0.5 },
    { name: 'ups-on-battery', type: 'threshold', measurement: 'equipment', field: 'on_battery', above: 0.5 },
    { name: 'queue-long', type: 'threshold', measurement: 'queue', field: 'waiting', above: 30 },
  ],
  storm: { groupWait: '20s', composites: [{ name: 'power-cut', rules: ['mains-lost', 'ups-on-battery'], summary: { vi: 'Mất điện', en: 'Power cut' } }] },
});

describe('grouped muter', () => {
  it('mutes a member of an active province incident of its rule, province and series (any agent)', () => {
    const table = new AlertTable();
    const m = groupedMuter(new Grouping(STORM, table), table);
    const member = alert({ rule: 'portal-down', site: 'xa-a', instance: 'agent=pi-1,method=http,target=portal' });
    expect(m.mutes(member, T0)).toBeUndefined();
    const incident = alert({ rule: 'incident-portal-down', site: 'vinh-phuc', instance: 'method=http,target=portal', derived: true });
    table.put(incident);
    expect(m.mutes(member, T0)).toBe('grouped');
    expect(m.mutes({ ...member, labels: { province: 'phu-tho' } }, T0)).toBeUndefined();
    expect(m.mutes({ ...member, instance: 'agent=pi-1,method=http,target=tax' }, T0)).toBeUndefined();
    expect(m.mutes(alert({ rule: 'queue-long', site: 'xa-a' }), T0)).toBeUndefined(); // not a grouped rule
    table.setActive(incident, false);
    expect(m.mutes(member, T0)).toBeUndefined();
  });
});

describe('composite muter', () => {
  it('mutes the members of an active composite at their site', () => {
    const table = new AlertTable();
    const m = compositeMuter(new Grouping(STORM, table), table);
    const mains = alert({ rule: 'mains-lost', site: 'xa-a' });
    expect(m.mutes(mains, T0)).toBeUndefined();
    table.put(alert({ rule: 'power-cut', site: 'xa-a', derived: true }));
    expect(m.mutes(mains, T0)).toBe('composite');
    expect(m.mutes(alert({ rule: 'ups-on-battery', site: 'xa-a' }), T0)).toBe('composite');
    expect(m.mutes(alert({ rule: 'mains-lost', site: 'xa-b' }), T0)).toBeUndefined();
    expect(m.mutes(alert({ rule: 'queue-long', site: 'xa-a' }), T0)).toBeUndefined();
  });
});

describe('group-wait muter', () => {
  it('holds a groupable alert for holdMs after it started firing', () => {
    const a = alert({ rule: 'portal-down', site: 'xa-a', firingAt: T0, holdMs: 20_000 });
    expect(groupWaitMuter.mutes(a, T0)).toBe('group-wait');
    expect(groupWaitMuter.mutes(a, T0 + 19_999)).toBe('group-wait');
    expect(groupWaitMuter.mutes(a, T0 + 20_000)).toBeUndefined();
    expect(groupWaitMuter.mutes({ ...a, holdMs: 0 }, T0)).toBeUndefined();
    expect(groupWaitMuter.mutes({ ...a, derived: true }, T0)).toBeUndefined();
  });
});

describe('mutedBy', () => {
  it('names the first muter that mutes, in order', () => {
    const never: Muter = { mutes: () => undefined };
    const site: Muter = { mutes: () => 'site-offline' };
    const silence: Muter = { mutes: () => 'silence' };
    const a = alert({ rule: 'probe-down', site: 'xa-a' });
    expect(mutedBy([never, site, silence], a, T0)).toBe('site-offline');
    expect(mutedBy([silence, site], a, T0)).toBe('silence');
    expect(mutedBy([never], a, T0)).toBeUndefined();
  });
});
