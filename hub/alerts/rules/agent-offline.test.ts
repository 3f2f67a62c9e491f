import { describe, expect, it } from 'vitest';
import { agentOfflineRule } from './agent-offline.ts';

const status = (online: boolean) => ({ measurement: 'agent', tags: { site: 'xa-a', agent: 'pi-1', area: 'tam-dao' }, fields: { online }, timestamp: 0 });

describe('agent-offline rule', () => {
  it('follows the status points and, with staleAfter, silence', () => {
    const r = agentOfflineRule.create(agentOfflineRule.configSchema.parse({ name: 'off', type: 'agent-offline', staleAfter: '10m' }));
    expect(r).toMatchObject({ forMs: 120_000, severity: 'critical', marksSiteDown: true });
    expect(r.onPoint(status(false), 0).map((s) => [s.active, s.labels.area])).toEqual([[true, 'tam-dao']]);
    expect(r.onPoint(status(true), 1000).map((s) => s.active)).toEqual([false]);
    expect(r.tick(1000 + 600_001).map((s) => s.active)).toEqual([true]);
  });

  it('restores only remembered agents of the right shape from the state file', () => {
    const r = agentOfflineRule.create(agentOfflineRule.configSchema.parse({ name: 'off', type: 'agent-offline', staleAfter: '10m' }));
    r.restore([{ site: 'xa-a', agent: 'pi-1', online: true, lastSeen: 0, labels: { agent: 'pi-1' } }, { site: 'xa-b', agent: 'pi-1', online: 'yes', lastSeen: 0 }, { site: 'xa-c', agent: 'pi-1', online: true }], 1000);
    expect(r.tick(1000 + 600_001).map((s) => [s.site, s.active, s.labels.agent])).toEqual([['xa-a', true, 'pi-1']]);
  });
});
