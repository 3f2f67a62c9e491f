// The SQLite store: schema migrations, two connections (the CLI's and the hub's) writing the same file, the lock.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SiteRecord } from './registry-store.ts';
import { SCHEMA_VERSION, SqliteRegistryStore } from './sqlite-store.ts';

const site = (slug: string, code: string): SiteRecord => ({ slug, name: `Xã ${slug}`, code, province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' });
const dbPath = (): string => join(mkdtempSync(join(tmpdir(), 'ioc-store-')), 'registry.db');
const hmac = (c: string): string => `hmac-sha256:${c.repeat(64)}`;

describe('the SQLite registry store', () => {
  it('migrates a version-1 file forward and keeps its rows', async () => {
    const path = dbPath();
    const v1 = SqliteRegistryStore.open(path, { targetVersion: 1 });
    expect(v1.schemaVersion()).toBe(1);
    await v1.updateSites(() => [site('xa-a', '1')]);
    await v1.putAgents([{ site: 'xa-a', agent: 'pi-1', tokenHash: hmac('a'), createdAt: '2026-01-01T00:00:00.000Z' }]);
    await expect(v1.putReports([{ site: 'xa-a', agent: 'pi-1', lastSeen: 1 }])).rejects.toMatchObject({ code: 'E_REGISTRY_IO' }); // no reports table yet
    await v1.close();
    const now = SqliteRegistryStore.open(path);
    expect(now.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThan(1);
    const all = await now.loadAll();
    expect(all.sites).toEqual([site('xa-a', '1')]);
    expect(all.agents).toEqual([expect.objectContaining({ site: 'xa-a', agent: 'pi-1', tokenHash: hmac('a'), tokenRev: 1 })]);
    await now.putReports([{ site: 'xa-a', agent: 'pi-1', version: '0.3.0', lastSeen: 5, connected: true, inventory: { kernel: '6.6' } }]);
    expect((await now.listFleet())[0]?.report).toEqual({ site: 'xa-a', agent: 'pi-1', version: '0.3.0', lastSeen: 5, connected: true, inventory: { kernel: '6.6' } });
    await now.close();
  });

  it('refuses a file written by a newer schema, and uses WAL', async () => {
    const path = dbPath();
    await SqliteRegistryStore.open(path).close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => SqliteRegistryStore.open(path)).toThrow(expect.objectContaining({ code: 'E_REGISTRY_VERSION' }));
  });

  it('loses no update between two connections: each write works on the rows as they are at its commit', async () => {
    const path = dbPath();
    const cli = SqliteRegistryStore.open(path);
    const hub = SqliteRegistryStore.open(path);
    await cli.updateSites(() => [site('xa-a', '1')]);
    const seenByHub = await hub.loadAll(); // the hub's view, now stale
    await cli.updateSites((current) => [...current.map((s) => ({ ...s, name: 'renamed' })), site('xa-b', '2')]);
    await hub.updateSites((current) => {
      expect(current.map((s) => s.slug)).toEqual(['xa-a', 'xa-b']); // computed on the committed rows, not on seenByHub
      return [site('xa-c', '3')];
    });
    expect(seenByHub.sites.map((s) => s.slug)).toEqual(['xa-a']);
    expect((await cli.listSites()).map((s) => [s.slug, s.name])).toEqual([
      ['xa-a', 'renamed'],
      ['xa-b', 'Xã xa-b'],
      ['xa-c', 'Xã xa-c'],
    ]);
    // A migration (hub) never undoes a rotation (CLI) made after the hub read the record.
    await cli.putAgents([{ site: 'xa-a', agent: 'pi-1', tokenHash: 'scrypt$1024$8$1$s$h', createdAt: 'x' }]);
    await cli.putAgents([{ site: 'xa-a', agent: 'pi-1', tokenHash: hmac('b'), createdAt: 'y' }]);
    expect(await hub.replaceTokens([{ site: 'xa-a', agent: 'pi-1', from: 'scrypt$1024$8$1$s$h', to: hmac('a') }])).toBe(0);
    expect(await hub.getAgent('xa-a', 'pi-1')).toMatchObject({ tokenHash: hmac('b'), tokenRev: 2 });
    await expect(cli.putAgents([{ site: 'nowhere', agent: 'pi-1', tokenHash: hmac('c'), createdAt: 'z' }])).rejects.toMatchObject({ code: 'E_UNKNOWN_SITE' });
    await cli.close();
    await hub.close();
  });

  it("tells a watcher of another connection's commits, not of its own, and logs each change", async () => {
    const path = dbPath();
    const cli = SqliteRegistryStore.open(path);
    const hub = SqliteRegistryStore.open(path);
    let calls = 0;
    const stop = hub.watch(() => calls++, 10);
    await hub.updateSites(() => [site('xa-a', '1')]);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(0);
    await cli.putAgents([{ site: 'xa-a', agent: 'pi-1', tokenHash: hmac('a'), createdAt: 'x' }]);
    await cli.revokeAgent('xa-a', 'pi-1', 'now');
    const end = Date.now() + 2000;
    while (calls === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBeGreaterThan(0);
    stop();
    expect((await hub.changesSince(0)).map((c) => [c.kind, c.site, c.agent])).toEqual([
      ['sites', '', ''],
      ['enroll', 'xa-a', 'pi-1'],
      ['revoke', 'xa-a', 'pi-1'],
    ]);
    expect(await hub.getAgent('xa-a', 'pi-1')).toBeUndefined();
    expect(await cli.revokeAgent('xa-a', 'pi-1', 'again')).toBe(false);
    // Enrolled again after its revocation: a new enrollment, with a higher revision than the revoked token's.
    expect(await cli.putAgents([{ site: 'xa-a', agent: 'pi-1', tokenHash: hmac('b'), createdAt: 'y' }])).toEqual([{ site: 'xa-a', agent: 'pi-1', kind: 'enroll' }]);
    expect(await hub.getAgent('xa-a', 'pi-1')).toMatchObject({ tokenRev: 2 });
    await cli.close();
    await hub.close();
  });

  it('waits for a writer of another process up to the busy timeout, then fails with E_REGISTRY_LOCKED', async () => {
    const path = dbPath();
    const store = SqliteRegistryStore.open(path, { busyTimeoutMs: 100 });
    const other = new Database(path);
    other.prepare('BEGIN IMMEDIATE').run();
    const t0 = Date.now();
    await expect(store.updateSites(() => [site('xa-a', '1')])).rejects.toMatchObject({ code: 'E_REGISTRY_LOCKED' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(await store.listSites()).toEqual([]); // readers do not wait (WAL)
    other.prepare('COMMIT').run();
    other.close();
    await store.updateSites(() => [site('xa-a', '1')]);
    expect((await store.listSites()).length).toBe(1);
    await store.close();
  });
});
