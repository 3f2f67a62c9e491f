import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '../config.ts';
import { silentLogger } from '../logger.ts';
import { RemoteConfig, prevPath, statePath } from './remote-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-remote-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ORIGINAL = ['site: xa-a', 'agent: pi-1', 'hub:', '  url: mqtt://127.0.0.1:1883', '  token: secret-token', `dataDir: ${dir}/data`, 'configRev: 3', ''].join('\n');

async function setup(name: string): Promise<{ path: string; restarts: string[]; remote: RemoteConfig }> {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, ORIGINAL);
  const restarts: string[] = [];
  const remote = new RemoteConfig({ configPath: path, config: await loadEdgeConfig(path, {}), env: {}, log: silentLogger(), restart: (why) => restarts.push(why), restartDelayMs: 1 });
  return { path, restarts, remote };
}

const cmd = (args: Record<string, unknown>) => ({ id: 'c-1', name: 'config-apply', issuedAt: Date.now(), args });

describe('RemoteConfig', () => {
  it('writes a valid pushed config keeping the token, url and dataDir, the previous file beside it, then restarts', async () => {
    const { path, restarts, remote } = await setup('apply');
    const pushed = 'site: xa-a\nagent: pi-1\nconfigRev: 7\nlogLevel: warn\ncollectors:\n  - { type: host, intervalS: 60 }\n';
    await expect(remote.apply(cmd({ rev: 7, config: pushed }))).resolves.toEqual({ rev: 7, restarting: true });
    const now = await loadEdgeConfig(path, {});
    expect(now).toMatchObject({ configRev: 7, logLevel: 'warn', hub: { url: 'mqtt://127.0.0.1:1883', token: 'secret-token' }, dataDir: `${dir}/data` });
    expect(readFileSync(prevPath(path), 'utf8')).toBe(ORIGINAL);
    await new Promise((r) => setTimeout(r, 20));
    expect(restarts).toEqual(['config revision 7']);
    expect(remote.pending).toBe(true);
  });

  it('refuses a config the agent would not validate (a collector option), leaving the file as it was', async () => {
    const { path, restarts, remote } = await setup('refuse');
    await expect(remote.apply(cmd({ rev: 8, config: 'site: xa-a\nagent: pi-1\nconfigRev: 8\ncollectors:\n  - { type: tcp, host: x }\n' }))).rejects.toThrow(/collectors\.0\.port/);
    expect(readFileSync(path, 'utf8')).toBe(ORIGINAL);
    expect(remote.result()).toMatchObject({ rev: 8, state: 'refused' });
    expect(restarts).toEqual([]);
  });

  it('goes back to the previous file when the hub is not reached within confirmTimeoutS, and reports it', async () => {
    const { path, remote } = await setup('rollback');
    await remote.apply(cmd({ rev: 9, config: 'site: xa-a\nagent: pi-1\nconfigRev: 9\nremoteConfig: { confirmTimeoutS: 1 }\n' }));
    // The rebuilt agent (new RemoteConfig on the new file) never connects.
    const restarts: string[] = [];
    const after = new RemoteConfig({ configPath: path, config: await loadEdgeConfig(path, {}), env: {}, log: silentLogger(), restart: (why) => restarts.push(why) });
    after.watch(() => false);
    await new Promise((r) => setTimeout(r, 1500));
    expect(restarts).toEqual(['rollback of revision 9']);
    expect(readFileSync(path, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(prevPath(path))).toBe(false);
    const back = new RemoteConfig({ configPath: path, config: await loadEdgeConfig(path, {}), env: {}, log: silentLogger(), restart: () => undefined });
    expect(back.result()).toMatchObject({ rev: 9, state: 'rolled-back', error: expect.stringMatching(/within 1 s/) as string });
    expect(back.pending).toBe(false);
    expect(JSON.parse(readFileSync(statePath(path), 'utf8'))).not.toHaveProperty('pending');
  });

  it('confirms a pushed config once connected', async () => {
    const { path, remote } = await setup('confirm');
    await remote.apply(cmd({ rev: 10, config: 'site: xa-a\nagent: pi-1\nconfigRev: 10\n' }));
    const after = new RemoteConfig({ configPath: path, config: await loadEdgeConfig(path, {}), env: {}, log: silentLogger(), restart: () => undefined });
    after.watch(() => true);
    await new Promise((r) => setTimeout(r, 400));
    after.stop();
    expect(after.result()).toMatchObject({ rev: 10, state: 'applied' });
    expect(after.pending).toBe(false);
  });
});
