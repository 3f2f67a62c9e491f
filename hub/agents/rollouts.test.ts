import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manifestBytes, type CommandResult } from '../../protocol/index.ts';
import { AuditLog } from '../auth/audit-log.ts';
import { silentLogger } from '../logger.ts';
import { AgentStateTable } from './agent-state.ts';
import { CommandError } from './commands.ts';
import { planWaves, ReleaseStore, type RolloutStatus } from './release-store.ts';
import { RolloutRunner } from './rollouts.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';

const SITES = ['s-a', 's-b', 's-c', 's-d', 's-e'];
let dir: string;
let store: ReleaseStore;
let state: AgentStateTable;
let audit: AuditLog;

/** What each fake agent does with `update`: accept (then commit), refuse, or roll back. */
type Behaviour = 'commit' | 'refuse' | 'roll-back';

function fakeCommands(behaviour: (site: string) => Behaviour) {
  const sent: string[] = [];
  const installed = new Map<string, 'committed' | 'rolled-back'>();
  return {
    sent,
    send(site: string, agent: string, name: string, args: Record<string, unknown> = {}): Promise<CommandResult> {
      if (state.get(site, agent)?.connected !== true) return Promise.reject(new CommandError('E_AGENT_OFFLINE', 'offline'));
      const at = Date.now();
      if (name === 'update') {
        sent.push(site);
        const b = behaviour(site);
        if (b === 'refuse') return Promise.resolve({ id: 'x', ok: false, at, error: 'update refused: bad signature' });
        installed.set(site, b === 'commit' ? 'committed' : 'rolled-back');
        return Promise.resolve({ id: 'x', ok: true, at, result: { version: args.version, slot: 'a', downloadMs: 10, unpackMs: 20 } });
      }
      const s = installed.get(site);
      return Promise.resolve({ id: 'x', ok: true, at, result: { running: '1.0.0', slot: 'a', state: s === undefined ? null : { state: s, version: '1.1.0', previousVersion: '1.0.0', attempts: 1, at, reason: 'did not stay up' } } });
    },
  };
}

async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!fn()) throw new Error(`not reached: ${what}`);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ioc-rollouts-'));
  const registry = SqliteRegistryStore.open(join(dir, 'registry.db'));
  await registry.updateSites(() => SITES.map((slug) => ({ slug, name: slug, code: slug, province: 'p', provinceName: 'P', area: '', areaName: '' })));
  await registry.putAgents(SITES.map((site) => ({ site, agent: 'pi-1', tokenHash: 'hmac-sha256:00', createdAt: new Date().toISOString() })));
  await registry.close();
  store = ReleaseStore.open({ registry: { path: join(dir, 'registry.json'), busyTimeoutMs: 1000 } as never, releases: { dir: join(dir, 'releases') } as never });
  const archive = join(dir, 'ioc-edge-agent-1.1.0.tar.gz');
  writeFileSync(archive, 'not really gzip');
  const manifest = { name: 'ioc-edge-agent' as const, version: '1.1.0', archive: 'ioc-edge-agent-1.1.0.tar.gz', sha256: createHash('sha256').update('not really gzip').digest('hex'), size: 15, createdAt: new Date().toISOString() };
  writeFileSync(join(dir, 'ioc-edge-agent-1.1.0.manifest.json'), manifestBytes(manifest));
  writeFileSync(join(dir, 'ioc-edge-agent-1.1.0.manifest.json.sig'), `${'A'.repeat(86)}==\n`);
  store.addRelease(archive, 'test');
  state = new AgentStateTable();
  audit = new AuditLog(join(dir, 'audit.jsonl'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function runner(commands: ReturnType<typeof fakeCommands>): RolloutRunner {
  return new RolloutRunner({ store, commands, agentState: state, audit, logger: silentLogger(), baseUrl: () => 'http://127.0.0.1:8080', tickMs: 60_000, agentTimeoutMs: 60_000, parallel: 10 });
}

const current = (): RolloutStatus => {
  const s = store.status();
  if (s === undefined) throw new Error('no rollout');
  return s;
};

describe('waves', () => {
  it('puts the canary sites first, then the percentage of the others, then the rest', () => {
    const agents = SITES.map((site) => ({ site, agent: 'pi-1' }));
    const plan = planWaves(agents, new Set(['s-c']), 50, 'seed');
    expect(plan.filter((a) => a.wave === 0).map((a) => a.site)).toEqual(['s-c']);
    expect(plan.filter((a) => a.wave === 1)).toHaveLength(2);
    expect(plan.filter((a) => a.wave === 2)).toHaveLength(2);
    expect(planWaves(agents, new Set(['s-c']), 50, 'seed')).toEqual(plan); // fixed per rollout
    expect(new Set(planWaves(agents, new Set(), 100, 'x').map((a) => a.wave))).toEqual(new Set([0]));
  });

  it('refuses a second running rollout, an unknown version and unknown canary sites', () => {
    store.startRollout({ version: '1.1.0', canary: [], percent: 100, maxFailures: 0, by: 'test' });
    expect(() => store.startRollout({ version: '1.1.0', canary: [], percent: 100, maxFailures: 0, by: 'test' })).toThrow(/is running/);
    store.stopRollout('test');
    expect(() => store.startRollout({ version: '9.9.9', canary: [], percent: 100, maxFailures: 0, by: 'test' })).toThrow(/unknown release/);
    expect(() => store.startRollout({ version: '1.1.0', canary: ['nowhere'], percent: 100, maxFailures: 0, by: 'test' })).toThrow(/unknown canary/);
  });
});

describe('the rollout runner', () => {
  it('updates the canary, then the rest; an offline agent gets the update when it connects', async () => {
    for (const s of SITES.slice(0, 4)) state.setConnected(s, 'pi-1', true, Date.now());
    const commands = fakeCommands(() => 'commit');
    const r = runner(commands);
    store.startRollout({ version: '1.1.0', canary: ['s-a'], percent: 100, maxFailures: 0, by: 'test' });
    r.kick();
    await until('the online agents done', () => current().agents.filter((a) => a.state === 'done').length === 4);
    expect(commands.sent[0]).toBe('s-a'); // the canary alone first
    expect(current().rollout).toMatchObject({ state: 'running', wave: 1 });
    expect(current().agents.find((a) => a.site === 's-e')?.state).toBe('pending');
    state.setConnected('s-e', 'pi-1', true, Date.now()); // a connect kicks the runner
    await until('the rollout done', () => current().rollout.state === 'done');
    expect(commands.sent.sort()).toEqual(SITES);
    expect(current().agents.every((a) => a.detail?.startsWith('running 1.1.0 (1 starts; download 0.0 s, unpack 0.0 s') === true)).toBe(true);
    r.stop();
  });

  it('stops at the canary when it refuses or rolls back, and sends the others nothing', async () => {
    for (const s of SITES) state.setConnected(s, 'pi-1', true, Date.now());
    for (const bad of ['refuse', 'roll-back'] as const) {
      const commands = fakeCommands((site) => (site === 's-b' ? bad : 'commit'));
      const r = runner(commands);
      store.startRollout({ version: '1.1.0', canary: ['s-a', 's-b'], percent: 100, maxFailures: 0, by: 'test' });
      r.kick();
      await until(`stopped (${bad})`, () => current().rollout.state === 'stopped' && current().agents.filter((a) => a.wave === 0).every((a) => a.state === 'done' || a.state === 'failed'));
      expect(current().rollout.reason).toBe('wave 0: 1 of 2 agents failed (more than 0)');
      expect(current().agents.find((a) => a.site === 's-b')?.detail).toMatch(bad === 'refuse' ? /^refused: update refused: bad signature$/ : /^rolled back to 1\.0\.0: did not stay up$/);
      expect(commands.sent.sort()).toEqual(['s-a', 's-b']);
      expect(current().agents.filter((a) => a.wave === 1).every((a) => a.state === 'pending')).toBe(true);
      r.stop();
    }
    const entries = await audit.tail(100);
    expect(entries.filter((e) => e.action === 'release.rollout.stopped')).toHaveLength(2);
    expect(entries.filter((e) => e.action === 'release.update' && e.target === 's-b/pi-1')).toHaveLength(2);
  });
});
