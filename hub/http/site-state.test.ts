import { describe, expect, it } from 'vitest';
import { siteState, type AgentStateInput, type SiteStatePolicy } from './site-state.ts';

const NOW = 1_800_000_000_000;
const policy: SiteStatePolicy = { freshForMs: 60_000, downForMs: 180_000 };
const live = (over: Partial<AgentStateInput> = {}): AgentStateInput => ({ online: true, connected: true, lastSeen: NOW - 5_000, lastLiveAt: NOW - 5_000, lastLateAt: null, backlog: 0, clockProblem: false, ...over });
const none = { siteDown: false, warnings: 0, maintenance: false };
const at = (agents: AgentStateInput[], alerts = none, now = NOW) => siteState(agents, alerts, policy, now);

describe('siteState', () => {
  it('is up only from live data younger than its bound', () => {
    expect(at([live()])).toEqual({ state: 'up', reason: 'fresh' });
    expect(at([live({ lastLiveAt: NOW - 60_000 })]).state).toBe('up');
    expect(at([live({ lastLiveAt: NOW - 60_001 })])).toEqual({ state: 'blind', reason: 'stale' });
    // a status alone (connected, online, no batch yet) is no data
    expect(at([live({ lastLiveAt: null })])).toEqual({ state: 'blind', reason: 'stale' });
  });

  it('is blind for a site never seen, or without agents — never green', () => {
    expect(at([])).toEqual({ state: 'blind', reason: 'never-seen' });
    expect(at([live({ online: false, connected: false, lastSeen: null, lastLiveAt: null })])).toEqual({ state: 'blind', reason: 'never-seen' });
  });

  it('is down while the agent is offline, then blind once its last contact is older than downFor', () => {
    const gone = live({ online: true, connected: false, lastSeen: NOW - 10_000, lastLiveAt: NOW - 20_000 });
    expect(at([gone])).toEqual({ state: 'down', reason: 'agent-offline' });
    expect(at([live({ online: false, lastSeen: NOW - 180_000 })]).state).toBe('down');
    expect(at([gone], none, NOW + 171_000)).toEqual({ state: 'blind', reason: 'stale' });
  });

  it('is down on an alert that marks the site down, even while the agent is connected', () => {
    expect(at([live()], { ...none, siteDown: true })).toEqual({ state: 'down', reason: 'site-down-alert' });
  });

  it('is backfilling while an online agent reports a backlog or sent late data recently', () => {
    expect(at([live({ backlog: 12 })])).toEqual({ state: 'backfilling', reason: 'backlog' });
    // replaying with no live data (yet) is backfilling, not blind
    expect(at([live({ backlog: 3, lastLiveAt: null })]).state).toBe('backfilling');
    expect(at([live({ lastLateAt: NOW - 30_000 })])).toEqual({ state: 'backfilling', reason: 'late-data' });
    expect(at([live({ lastLateAt: NOW - 61_000 })]).state).toBe('up');
    // the few batches queued while an agent connected: with the default 5 min freshness, up a minute after the last
    expect(siteState([live({ lastLateAt: NOW - 61_000 })], none, { ...policy, freshForMs: 300_000 }, NOW).state).toBe('up');
    expect(siteState([live({ lastLateAt: NOW - 59_000 })], none, { ...policy, freshForMs: 300_000 }, NOW).state).toBe('backfilling');
    // an offline agent's stale backlog report does not hide that it is down
    expect(at([live({ connected: false, backlog: 5 })]).state).toBe('down');
  });

  it('is degraded on a warning alert, one of two agents offline, or a clock problem', () => {
    expect(at([live()], { ...none, warnings: 1 })).toEqual({ state: 'degraded', reason: 'alert' });
    expect(at([live(), live({ connected: false })])).toEqual({ state: 'degraded', reason: 'agent-partly-offline' });
    expect(at([live({ clockProblem: true })])).toEqual({ state: 'degraded', reason: 'clock' });
    // a stale site is blind whatever its alerts say
    expect(at([live({ lastLiveAt: NOW - 120_000 })], { ...none, warnings: 2 }).state).toBe('blind');
  });

  it('shows maintenance above everything else', () => {
    expect(at([live({ connected: false })], { ...none, maintenance: true, siteDown: true })).toEqual({ state: 'maintenance', reason: 'maintenance' });
    expect(at([], { ...none, maintenance: true }).state).toBe('maintenance');
  });
});
