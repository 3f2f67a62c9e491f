import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandResult, Status } from '../../protocol/index.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import { AgentStateTable } from './agent-state.ts';
import { CommandError } from './commands.ts';
import { ConfigDelivery } from './config-delivery.ts';
import { ConfigStore, parseScope } from './config-store.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-config-delivery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AGENTS = ['xa-a', 'xa-b', 'xa-c', 'xa-d', 'xa-e'];

async function store(name: string): Promise<ConfigStore> {
  const path = join(dir, `${name}.db`);
  const reg = SqliteRegistryStore.open(path);
  await reg.updateSites(() => AGENTS.map((slug) => ({ slug, name: slug, code: slug, province: '25', provinceName: 'P', area: '', areaName: '' })));
  await reg.putAgents(AGENTS.map((site) => ({ site, agent: 'pi-1', tokenHash: 'h', createdAt: 'now' })));
  await reg.close();
  return ConfigStore.open(path);
}

const status = (configRev: number | string, extra: Partial<Status> = {}): Status => ({ online: true, ts: Date.now(), version: '1', bootId: 'b', configRev, clockSynced: true, ...extra });

/** Commands answered by the test: each send waits until `answer` settles it. */
class FakeCommands {
  readonly waiting: { site: string; resolve: (r: CommandResult) => void; reject: (e: CommandError) => void }[] = [];
  maxSeen = 0;
  send(site: string): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ site, resolve, reject });
      this.maxSeen = Math.max(this.maxSeen, this.waiting.length);
    });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ConfigDelivery', () => {
  it('sends to online agents at most maxInflight at a time, counts refusals and timeouts, and ends at the status', async () => {
    const s = await store('bound');
    const agentState = new AgentStateTable();
    for (const site of AGENTS) {
      agentState.setConnected(site, 'pi-1', true, Date.now());
      agentState.applyStatus(site, 'pi-1', status('old'), Date.now());
    }
    const commands = new FakeCommands();
    const metrics = new HubMetrics();
    const d = new ConfigDelivery({ store: s, commands, agentState, metrics, logger: silentLogger(), pollMs: 10, maxInflight: 2, timeoutMs: 1000, retryMs: 100_000 });
    d.start();
    const { rev } = s.set({ scope: parseScope('all'), template: 'logLevel: warn\n', who: 'test' });
    d.reload();
    await tick();
    expect(commands.waiting).toHaveLength(2); // the bound
    const [a, b] = commands.waiting.splice(0, 2);
    a?.resolve({ id: 'x', ok: true, at: Date.now(), result: { rev, restarting: true } });
    b?.resolve({ id: 'y', ok: false, at: Date.now(), error: 'collectors.0.port: required' });
    await tick();
    expect(commands.waiting).toHaveLength(2);
    const [c, e] = commands.waiting.splice(0, 2);
    c?.reject(new CommandError('E_COMMAND_TIMEOUT', 'no result'));
    e?.reject(new CommandError('E_AGENT_OFFLINE', 'gone'));
    await tick();
    commands.waiting.splice(0).forEach((w) => w.resolve({ id: 'z', ok: true, at: Date.now() }));
    await tick();
    expect(commands.maxSeen).toBe(2);
    // The first agent comes back with the revision: applied; the refusing one is not sent it again.
    agentState.applyStatus('xa-a', 'pi-1', status(rev), Date.now());
    agentState.applyStatus('xa-b', 'pi-1', status('old'), Date.now());
    await tick();
    expect(commands.waiting.map((w) => w.site)).toEqual([]);
    const byAgent = new Map(s.states().map((x) => [x.site, x.last?.kind]));
    expect(Object.fromEntries(byAgent)).toEqual({ 'xa-a': 'applied', 'xa-b': 'refused', 'xa-c': 'timeout', 'xa-d': undefined, 'xa-e': 'delivered' });
    const text = metrics.render();
    for (const [outcome, n] of [['applied', 1], ['refused', 1], ['timeout', 1], ['offline', 1], ['delivered', 2]] as const) expect(text).toContain(`ioc_hub_config_deliveries_total{outcome="${outcome}"} ${n}`);
    // The timed-out one is sent again when it comes online again; a rollback it reports ends its delivery.
    agentState.applyStatus('xa-c', 'pi-1', status('old'), Date.now());
    await tick();
    expect(commands.waiting.map((w) => w.site)).toEqual(['xa-c']);
    commands.waiting.splice(0).forEach((w) => w.resolve({ id: 'c2', ok: true, at: Date.now() }));
    await tick();
    agentState.applyStatus('xa-c', 'pi-1', status('old', { configResult: { rev, state: 'rolled-back', at: Date.now(), error: 'no hub' } }), Date.now());
    await tick();
    expect(s.states().find((x) => x.site === 'xa-c')?.last).toMatchObject({ kind: 'rolled-back', detail: 'no hub' });
    expect(metrics.render()).toContain('ioc_hub_config_deliveries_inflight 0');
    d.stop();
    s.close();
  });
});
