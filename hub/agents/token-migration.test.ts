// The hub secret, HMAC records, and the migration of scrypt records on connect, with the CLI writing beside.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultHubSecretPath, loadOrCreateHubSecret } from './hub-secret.ts';
import { Registry, type Site } from './registry.ts';
import { generateToken, hashToken } from './token.ts';
import { jsonTokenRecords, siteSlugs, tokenRecords } from '../../testkit/legacy-registry.ts';

const fastScrypt = { N: 1024, r: 8, p: 1 };
const site: Site = { slug: 'xa-a', name: 'Xã A', code: '00001', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' };

function tmpRegistry(): string {
  return join(mkdtempSync(join(tmpdir(), 'ioc-hub-migrate-')), 'registry.json');
}

/** The token records as the registry database holds them. */
const fileAgents = tokenRecords;

/** A registry.json written before HMAC records and the database: `n` agents with scrypt hashes; returns their tokens. */
async function legacyRegistry(path: string, n: number): Promise<string[]> {
  const tokens = Array.from({ length: n }, () => generateToken());
  const agents = await Promise.all(tokens.map(async (t, i) => ({ site: site.slug, agent: `pi-${i + 1}`, tokenHash: await hashToken(t, fastScrypt), createdAt: '2026-01-01T00:00:00.000Z' })));
  writeFileSync(path, JSON.stringify({ version: 1, sites: [site], agents }, null, 2), { mode: 0o600 });
  return tokens;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('hub secret', () => {
  it('is created once with mode 0600 beside the registry and reused by the next open', async () => {
    const path = tmpRegistry();
    const reg = await Registry.open(path);
    const secretPath = defaultHubSecretPath(path);
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(secretPath, 'utf8');
    expect(text).toMatch(/^[0-9a-f]{64}\n$/);
    await reg.upsertSite(site);
    const { token } = await reg.enroll(site.slug, 'pi-1');
    const again = await Registry.open(path); // a restart
    expect(readFileSync(secretPath, 'utf8')).toBe(text);
    expect(await again.verify(site.slug, 'pi-1', token)).toBe(true);
  });

  it('is one secret when two processes create it at once, and a damaged one is refused with a code', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ioc-hub-secret-')), 'state', 'hub-secret');
    const [a, b] = await Promise.all([loadOrCreateHubSecret(path), loadOrCreateHubSecret(path)]);
    expect(a.equals(b)).toBe(true);
    expect(a).toHaveLength(32);
    writeFileSync(path, 'short\n');
    await expect(loadOrCreateHubSecret(path)).rejects.toMatchObject({ code: 'E_HUB_SECRET' });
    await expect(loadOrCreateHubSecret(path)).rejects.not.toThrow(/short/); // never quoted
  });

  it('sits where secretPath says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-secret-'));
    await Registry.open(join(dir, 'registry.json'), { secretPath: join(dir, 'keys', 'hub.key') });
    expect(statSync(join(dir, 'keys', 'hub.key')).mode & 0o777).toBe(0o600);
  });
});

describe('scrypt records', () => {
  it('verify, are migrated to HMAC once, and the old token still works after', async () => {
    const path = tmpRegistry();
    const [token] = await legacyRegistry(path, 1);
    if (token === undefined) throw new Error('no token');
    const reg = await Registry.open(path, { migrationFlushMs: 20 });
    expect(reg.scryptRecordCount).toBe(1);
    expect(await reg.verify(site.slug, 'pi-1', `${token.slice(0, -1)}x`)).toBe(false); // a wrong token migrates nothing
    expect(reg.pendingMigrations).toBe(0);
    expect(await reg.verify(site.slug, 'pi-1', token)).toBe(true);
    expect(reg.scryptRecordCount).toBe(0);
    await until(() => reg.pendingMigrations === 0);
    const migrated = fileAgents(path);
    expect(migrated.get('xa-a/pi-1')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect([...migrated.values()].some((h) => h.startsWith('scrypt$'))).toBe(false);
    expect(reg.writes).toBe(1);
    expect(await reg.verify(site.slug, 'pi-1', token)).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(reg.writes).toBe(1); // once
    expect(fileAgents(path)).toEqual(migrated);
    expect(jsonTokenRecords(path).get('xa-a/pi-1')).toMatch(/^scrypt\$/); // the imported file stays as it was: the backup
    const restarted = await Registry.open(path);
    expect(restarted.scryptRecordCount).toBe(0);
    expect(await restarted.verify(site.slug, 'pi-1', token)).toBe(true);
    expect(await restarted.verify(site.slug, 'pi-1', generateToken())).toBe(false);
  });

  it('are migrated in one write when many agents connect together', async () => {
    const path = tmpRegistry();
    const tokens = await legacyRegistry(path, 40);
    const reg = await Registry.open(path, { migrationFlushMs: 1000 }); // 40 scrypts take over 300 ms on a loaded machine
    const results = await Promise.all(tokens.map((t, i) => reg.verify(site.slug, `pi-${i + 1}`, t)));
    expect(results.every((r) => r)).toBe(true);
    await until(() => reg.pendingMigrations === 0);
    expect(reg.writes).toBe(1);
    expect([...fileAgents(path).values()].every((h) => h.startsWith('hmac-sha256:'))).toBe(true);
  });

  it('are written at close when the window has not passed', async () => {
    const path = tmpRegistry();
    const [token] = await legacyRegistry(path, 1);
    const reg = await Registry.open(path, { migrationFlushMs: 60_000 });
    expect(await reg.verify(site.slug, 'pi-1', token ?? '')).toBe(true);
    expect(reg.writes).toBe(0);
    await reg.close();
    expect(fileAgents(path).get('xa-a/pi-1')).toMatch(/^hmac-sha256:/);
  });
});

describe('the hub migrating while the CLI writes', () => {
  it('keeps an agent the CLI enrolled before the migration is written', async () => {
    const path = tmpRegistry();
    const tokens = await legacyRegistry(path, 3);
    const hub = await Registry.open(path, { migrationFlushMs: 60_000 });
    for (const [i, t] of tokens.entries()) expect(await hub.verify(site.slug, `pi-${i + 1}`, t)).toBe(true);
    const cli = await Registry.open(path); // the CLI, another process's view of the same files
    const added = await cli.enroll(site.slug, 'pi-9');
    await hub.close(); // the hub writes its migrations after the CLI's enrollment
    const agents = fileAgents(path);
    expect([...agents.keys()].sort()).toEqual(['xa-a/pi-1', 'xa-a/pi-2', 'xa-a/pi-3', 'xa-a/pi-9']);
    expect([...agents.values()].every((h) => h.startsWith('hmac-sha256:'))).toBe(true);
    const restarted = await Registry.open(path);
    expect(await restarted.verify(site.slug, 'pi-9', added.token)).toBe(true);
    for (const [i, t] of tokens.entries()) expect(await restarted.verify(site.slug, `pi-${i + 1}`, t)).toBe(true);
  });

  it('keeps the migration when the CLI opened the registry before it and writes after', async () => {
    const path = tmpRegistry();
    const [token] = await legacyRegistry(path, 1);
    const cli = await Registry.open(path); // opened while the record is still scrypt
    const hub = await Registry.open(path, { migrationFlushMs: 60_000 });
    expect(await hub.verify(site.slug, 'pi-1', token ?? '')).toBe(true);
    await hub.close();
    await cli.upsertSite({ ...site, slug: 'xa-b', code: '00002', name: 'Xã B' });
    expect(siteSlugs(path)).toEqual(['xa-a', 'xa-b']);
    expect(fileAgents(path).get('xa-a/pi-1')).toMatch(/^hmac-sha256:/);
  });

  it('lets a rotation by the CLI win over a pending migration of the old token', async () => {
    const path = tmpRegistry();
    const [old] = await legacyRegistry(path, 1);
    const hub = await Registry.open(path, { migrationFlushMs: 60_000 });
    expect(await hub.verify(site.slug, 'pi-1', old ?? '')).toBe(true);
    const rotated = await (await Registry.open(path)).enroll(site.slug, 'pi-1');
    const afterRotation = fileAgents(path).get('xa-a/pi-1');
    await hub.close();
    expect(fileAgents(path).get('xa-a/pi-1')).toBe(afterRotation);
    const restarted = await Registry.open(path);
    expect(await restarted.verify(site.slug, 'pi-1', rotated.token)).toBe(true);
    expect(await restarted.verify(site.slug, 'pi-1', old ?? '')).toBe(false);
  });

  it('loses nothing when many writers from both sides overlap', async () => {
    const path = tmpRegistry();
    const tokens = await legacyRegistry(path, 20);
    const hub = await Registry.open(path, { migrationFlushMs: 1 });
    const clis = await Promise.all(Array.from({ length: 5 }, () => Registry.open(path)));
    const [verified, enrolled] = await Promise.all([
      Promise.all(tokens.map((t, i) => hub.verify(site.slug, `pi-${i + 1}`, t))),
      Promise.all(clis.map((c, i) => c.enroll(site.slug, `new-${i}`))),
    ]);
    await hub.close();
    expect(verified.every((v) => v)).toBe(true);
    const agents = fileAgents(path);
    expect(agents.size).toBe(25);
    expect([...agents.values()].every((h) => h.startsWith('hmac-sha256:'))).toBe(true);
    const restarted = await Registry.open(path);
    for (const e of enrolled) expect(await restarted.verify(e.site, e.agent, e.token)).toBe(true);
  });
});
