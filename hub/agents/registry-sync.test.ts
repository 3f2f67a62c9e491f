// The registry over its database: the import of an earlier hub's registry.json (a real one, fixtures/registry-v1.json:
// two scrypt records and one HMAC record), the hub following the CLI's enroll, rotate and revoke, the agents' reports.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonTokenRecords, tokenRecords } from '../../testkit/legacy-registry.ts';
import { Registry, registryDbPath, type AgentChange } from './registry.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/registry-v1.json', import.meta.url));
/** The fixture's HMAC record was made with this secret; its scrypt records need none. */
const FIXTURE_SECRET = Buffer.alloc(32, 7);
const TOKENS = {
  tichSon1: 'legacy-token-tich-son-pi-1-AAAAAAAAAAAAAAAAA',
  tichSon2: 'legacy-token-tich-son-pi-2-BBBBBBBBBBBBBBBBB',
  lapThach1: 'hmac-token-lap-thach-pi-1-CCCCCCCCCCCCCCCCCC',
};

function legacyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-registry-sync-'));
  copyFileSync(FIXTURE, join(dir, 'registry.json'));
  return join(dir, 'registry.json');
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the import of an earlier registry.json', () => {
  it('happens on the first open beside it: every site, agent and token record, the file kept byte for byte', async () => {
    const path = legacyDir();
    const before = readFileSync(path);
    const reg = await Registry.open(path, { secret: FIXTURE_SECRET, migrationFlushMs: 10 });
    expect(reg.listSites().map((s) => s.slug)).toEqual(['phuong-tich-son', 'xa-lap-thach']);
    expect(reg.getSite('phuong-tich-son')).toMatchObject({ name: 'Phường Tích Sơn', areaName: 'Thành phố Vĩnh Yên', lat: 21.30943, lon: 105.60867 });
    expect(reg.getSite('xa-lap-thach')).toEqual({ slug: 'xa-lap-thach', name: 'Xã Lập Thạch', code: '08761', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' });
    expect(reg.listAgents()).toEqual([
      { site: 'phuong-tich-son', agent: 'pi-1', createdAt: '2025-11-03T02:14:09.512Z' },
      { site: 'phuong-tich-son', agent: 'pi-2', createdAt: '2025-11-03T02:14:09.512Z' },
      { site: 'xa-lap-thach', agent: 'pi-1', createdAt: '2026-02-11T08:40:00.000Z' },
    ]);
    expect(tokenRecords(path)).toEqual(jsonTokenRecords(path)); // as they were, scrypt ones included
    expect(reg.scryptRecordCount).toBe(2);
    expect(await reg.verify('phuong-tich-son', 'pi-1', TOKENS.tichSon1)).toBe(true);
    expect(await reg.verify('phuong-tich-son', 'pi-2', TOKENS.tichSon1)).toBe(false);
    expect(await reg.verify('xa-lap-thach', 'pi-1', TOKENS.lapThach1)).toBe(true);
    await until(() => reg.pendingMigrations === 0);
    expect(tokenRecords(path).get('phuong-tich-son/pi-1')).toMatch(/^hmac-sha256:/);
    await reg.revoke('phuong-tich-son', 'pi-2');
    await reg.close();
    expect(readFileSync(path)).toEqual(before);
    // Not again: the database is the registry now (the revocation stays).
    const again = await Registry.open(path, { secret: FIXTURE_SECRET });
    expect(again.getAgent('phuong-tich-son', 'pi-2')).toBeUndefined();
    expect(await again.verify('phuong-tich-son', 'pi-2', TOKENS.tichSon2)).toBe(false);
    expect(await again.verify('phuong-tich-son', 'pi-1', TOKENS.tichSon1)).toBe(true);
    await again.close();
  });

  it('with `registry import FILE` adds what the database lacks and keeps what it has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-registry-sync-'));
    const reg = await Registry.open(join(dir, 'registry.db'), { secret: FIXTURE_SECRET });
    await reg.upsertSite({ slug: 'xa-lap-thach', name: 'Xã Lập Thạch (mới)', code: '08761', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' });
    const mine = await reg.enroll('xa-lap-thach', 'pi-1');
    expect(await reg.importJson(FIXTURE)).toEqual({ file: FIXTURE, sitesAdded: 1, agentsAdded: 2, agentsKept: 1 });
    expect(reg.getSite('xa-lap-thach')?.name).toBe('Xã Lập Thạch (mới)');
    expect(await reg.verify('xa-lap-thach', 'pi-1', mine.token)).toBe(true);
    expect(await reg.verify('xa-lap-thach', 'pi-1', TOKENS.lapThach1)).toBe(false);
    expect(await reg.verify('phuong-tich-son', 'pi-2', TOKENS.tichSon2)).toBe(true);
    expect(await reg.importJson(FIXTURE)).toMatchObject({ sitesAdded: 0, agentsAdded: 0, agentsKept: 3 });
    await expect(reg.importJson(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'E_REGISTRY_IO' });
    await reg.close();
  });
});

describe('a hub following the CLI', () => {
  it('applies enroll, rotate and revoke made by another process, with each change and its token revision', async () => {
    const path = legacyDir();
    const hub = await Registry.open(path, { secret: FIXTURE_SECRET });
    const changes: AgentChange[] = [];
    hub.onAgentChange((c) => changes.push(c));
    hub.watch(10);
    const cli = await Registry.open(path, { secret: FIXTURE_SECRET });

    const added = await cli.enroll('xa-lap-thach', 'pi-2');
    await until(() => changes.length === 1);
    expect(changes[0]).toEqual({ site: 'xa-lap-thach', agent: 'pi-2', kind: 'enroll', tokenRev: 1 });
    expect(hub.getAgent('xa-lap-thach', 'pi-2')).toBeDefined();
    expect(await hub.verify('xa-lap-thach', 'pi-2', added.token)).toBe(true);
    expect(hub.verifiedRev('xa-lap-thach', 'pi-2')).toBe(1);

    const rotated = await cli.rotate('xa-lap-thach', 'pi-2');
    // The hub checks a token against the database as it is: the old one is refused before the poll has even run.
    expect(await hub.verify('xa-lap-thach', 'pi-2', added.token)).toBe(false);
    await until(() => changes.length === 2);
    expect(changes[1]).toEqual({ site: 'xa-lap-thach', agent: 'pi-2', kind: 'rotate', tokenRev: 2 });
    expect(hub.verifiedRev('xa-lap-thach', 'pi-2')).toBe(1); // the live connection authenticated with the old one
    expect(await hub.verify('xa-lap-thach', 'pi-2', rotated.token)).toBe(true);
    expect(hub.verifiedRev('xa-lap-thach', 'pi-2')).toBe(2);

    await cli.revoke('phuong-tich-son', 'pi-1');
    await until(() => changes.length === 3);
    expect(changes[2]).toEqual({ site: 'phuong-tich-son', agent: 'pi-1', kind: 'revoke', tokenRev: undefined });
    expect(hub.getAgent('phuong-tich-son', 'pi-1')).toBeUndefined();
    expect(await hub.verify('phuong-tich-son', 'pi-1', TOKENS.tichSon1)).toBe(false);
    await expect(cli.revoke('phuong-tich-son', 'pi-1')).rejects.toMatchObject({ code: 'E_UNKNOWN_AGENT' });
    await expect(cli.rotate('phuong-tich-son', 'pi-1')).rejects.toMatchObject({ code: 'E_UNKNOWN_AGENT' });

    await cli.upsertSite({ slug: 'xa-moi', name: 'Xã Mới', code: '99999', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' });
    await until(() => hub.getSite('xa-moi') !== undefined);
    expect(hub.reloads).toBeGreaterThanOrEqual(4);
    expect(hub.changesApplied).toBe(3);
    await cli.close();
    await hub.close();
  });

  it("keeps the agents' reports, merged, for another process to list; a revoked agent's are not noted", async () => {
    const path = legacyDir();
    const hub = await Registry.open(path, { secret: FIXTURE_SECRET, reportFlushMs: 10 });
    hub.noteStatus('xa-lap-thach', 'pi-1', { online: true, version: '0.3.0', configRev: 7, inventory: { kernel: '6.6.51+rpt-rpi-v8', boardModel: 'Raspberry Pi 4 Model B Rev 1.5' } }, 1000);
    hub.noteSeen('xa-lap-thach', 'pi-1', 5000, true);
    hub.noteStatus('nowhere', 'pi-1', { online: true, version: 'x', configRev: 0 }, 1000);
    await until(() => hub.pendingReportCount === 0);
    hub.noteStatus('xa-lap-thach', 'pi-1', { online: false, version: '0.3.0', configRev: 7 }, 6000); // the will: no inventory, kept
    hub.noteSeen('xa-lap-thach', 'pi-1', 6000, false);
    expect((await hub.listFleet()).find((f) => f.site === 'xa-lap-thach')?.report).toMatchObject({ lastSeen: 6000, connected: false }); // pending ones included
    await hub.close();
    const cli = await Registry.open(path, { secret: FIXTURE_SECRET });
    const fleet = await cli.listFleet();
    expect(fleet.map((f) => `${f.site}/${f.agent}`)).toEqual(['phuong-tich-son/pi-1', 'phuong-tich-son/pi-2', 'xa-lap-thach/pi-1']);
    expect(fleet.find((f) => f.site === 'xa-lap-thach')?.report).toEqual({
      site: 'xa-lap-thach',
      agent: 'pi-1',
      version: '0.3.0',
      configRev: '7',
      reportedAt: 1000,
      lastSeen: 6000,
      connected: false,
      inventory: { kernel: '6.6.51+rpt-rpi-v8', boardModel: 'Raspberry Pi 4 Model B Rev 1.5' },
    });
    expect(fleet.find((f) => f.site === 'phuong-tich-son')?.report).toBeUndefined();
    await cli.revoke('xa-lap-thach', 'pi-1');
    cli.noteSeen('xa-lap-thach', 'pi-1', 9000, true);
    expect(cli.pendingReportCount).toBe(0);
    expect((await cli.listFleet()).find((f) => f.site === 'xa-lap-thach')).toMatchObject({ revokedAt: expect.any(String), report: { lastSeen: 6000 } });
    await cli.close();
    expect(registryDbPath(path)).toMatch(/registry\.db$/);
  });
});
