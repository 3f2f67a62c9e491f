import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';
import { Registry, registryDbPath, type Site } from './registry.ts';
import { adminSlug, slugify } from './slug.ts';
import { tokenRecords } from '../../testkit/legacy-registry.ts';

const communesCsv = fileURLToPath(new URL('../../data/vinh-phuc-communes.csv', import.meta.url));
const fastScrypt = { N: 1024, r: 8, p: 1 };

function tmpPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'ioc-hub-registry-')), 'registry.json');
}

const site: Site = {
  slug: 'phuong-tich-son',
  name: 'Phường Tích Sơn',
  code: '08707',
  province: 'vinh-phuc',
  provinceName: 'Tỉnh Vĩnh Phúc',
  area: 'vinh-yen',
  areaName: 'Thành phố Vĩnh Yên',
  lat: 21.30943,
  lon: 105.60867,
};

describe('slugify', () => {
  it('strips Vietnamese diacritics and đ', () => {
    expect(slugify('Phường Tích Sơn')).toBe('phuong-tich-son');
    expect(slugify('Thị trấn Hợp Hòa')).toBe('thi-tran-hop-hoa');
    expect(slugify('Phường Đống Đa')).toBe('phuong-dong-da');
    expect(slugify('  Xã  Đạo Đức (mới) ')).toBe('xa-dao-duc-moi');
    expect(slugify('Xã Ngọc Thanh'.normalize('NFC'))).toBe('xa-ngoc-thanh');
  });
  it('drops administrative prefixes for provinces and districts', () => {
    expect(adminSlug('Tỉnh Vĩnh Phúc')).toBe('vinh-phuc');
    expect(adminSlug('Thành phố Phúc Yên')).toBe('phuc-yen');
    expect(adminSlug('Huyện Tam Đảo')).toBe('tam-dao');
    expect(adminSlug('Thị xã Sơn Tây')).toBe('son-tay');
  });
});

describe('parseCsv', () => {
  it('handles quoted fields, escaped quotes, CRLF and BOM', () => {
    const rows = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""",3\r\n"multi\nline",,z\n');
    expect(rows.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', '3'],
      ['multi\nline', '', 'z'],
    ]);
    expect(rows[2]?.line).toBe(3);
  });
  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(expect.objectContaining({ code: 'E_CSV' }));
  });
});

describe('Registry', () => {
  it('enrolls, verifies with HMAC and rejects wrong tokens', async () => {
    const reg = await Registry.open(tmpPath(), { scrypt: fastScrypt });
    await reg.upsertSite(site);
    const { token } = await reg.enroll(site.slug, 'pi-1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await reg.verify(site.slug, 'pi-1', token)).toBe(true);
    expect(await reg.verify(site.slug, 'pi-1', token)).toBe(true);
    expect(await reg.verify(site.slug, 'pi-1', `${token}x`)).toBe(false);
    expect(await reg.verify(site.slug, 'pi-2', token)).toBe(false);
    expect(await reg.verify('other', 'pi-1', token)).toBe(false);
  });

  it('stores only HMAC records and rotates on re-enroll', async () => {
    const path = tmpPath();
    const reg = await Registry.open(path, { scrypt: fastScrypt });
    await reg.upsertSite(site);
    const first = await reg.enroll(site.slug, 'pi-1');
    expect(await reg.verify(site.slug, 'pi-1', first.token)).toBe(true);
    const second = await reg.enroll(site.slug, 'pi-1');
    const text = readFileSync(registryDbPath(path)).toString('latin1') + readFileSync(`${registryDbPath(path)}-wal`).toString('latin1');
    expect(text).not.toContain(first.token);
    expect(text).not.toContain(second.token);
    expect([...tokenRecords(path).values()]).toEqual([expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/)]);
    expect(text).not.toContain('scrypt$');
    expect(await reg.verify(site.slug, 'pi-1', first.token)).toBe(false);
    expect(await reg.verify(site.slug, 'pi-1', second.token)).toBe(true);
    for (const file of ['', '-wal', '-shm']) expect(statSync(`${registryDbPath(path)}${file}`).mode & 0o777).toBe(0o600);
  });

  it('survives a reload with Vietnamese names intact', async () => {
    const path = tmpPath();
    const reg = await Registry.open(path, { scrypt: fastScrypt });
    await reg.upsertSite(site);
    const { token } = await reg.enroll(site.slug, 'pi-1');
    const again = await Registry.open(path);
    expect(again.getSite(site.slug)).toEqual(site);
    expect(again.listAgents()).toEqual([expect.objectContaining({ site: site.slug, agent: 'pi-1' })]);
    expect(await again.verify(site.slug, 'pi-1', token)).toBe(true);
  });

  it('refuses unknown sites, bad slugs and corrupt files with codes', async () => {
    const path = tmpPath();
    const reg = await Registry.open(path, { scrypt: fastScrypt });
    await expect(reg.enroll('nowhere', 'pi-1')).rejects.toMatchObject({ code: 'E_UNKNOWN_SITE' });
    await reg.upsertSite(site);
    await expect(reg.enroll(site.slug, 'Pi 1')).rejects.toMatchObject({ code: 'E_BAD_SLUG' });
    await expect(reg.upsertSite({ ...site, slug: 'alerts' })).rejects.toMatchObject({ code: 'E_BAD_SLUG' });
    await reg.close();
    // A registry.json to import on the first open must be valid; so must the database.
    const fresh = tmpPath();
    writeFileSync(fresh, '{"version":1,"sites":[{"slug":"X"}],"agents":[]}');
    await expect(Registry.open(fresh)).rejects.toMatchObject({ code: 'E_REGISTRY_CORRUPT' });
    writeFileSync(fresh, 'not json');
    await expect(Registry.open(fresh)).rejects.toMatchObject({ code: 'E_REGISTRY_CORRUPT' });
    writeFileSync(registryDbPath(path), 'not a database, '.repeat(512));
    await expect(Registry.open(path)).rejects.toMatchObject({ code: 'E_REGISTRY_CORRUPT' });
  });

  it('imports 121 communes from the Vĩnh Phúc CSV', async () => {
    const reg = await Registry.open(tmpPath());
    const result = await reg.importCommunesCsv(communesCsv);
    expect(result).toEqual({ added: 121, updated: 0, total: 121, format: 'districts-legacy', provinces: ['26'] });
    const tichSon = reg.getSite('phuong-tich-son');
    expect(tichSon).toMatchObject({ name: 'Phường Tích Sơn', code: '08707', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'vinh-yen', areaName: 'Thành phố Vĩnh Yên' });
    const thiTran = reg.listSites().filter((s) => s.name.startsWith('Thị trấn'));
    expect(thiTran.length).toBeGreaterThan(0);
    for (const s of thiTran) expect(s.slug.startsWith('thi-tran-')).toBe(true);
    expect(new Set(reg.listSites().map((s) => s.area)).size).toBe(9);
    // a second import updates in place, keeping slugs
    expect(await reg.importCommunesCsv(communesCsv)).toEqual({ added: 0, updated: 121, total: 121, format: 'districts-legacy', provinces: ['26'] });
  });

  it('appends the commune code on a slug collision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-csv-'));
    const csv = join(dir, 'c.csv');
    writeFileSync(
      csv,
      [
        'province_code,province_name,district_code,district_name,commune_code,commune_name,commune_type,lat,lon',
        '26,Tỉnh Vĩnh Phúc,246,Huyện Tam Dương,08800,Xã Kim Long,Xã,21.4,105.5',
        '26,Tỉnh Vĩnh Phúc,248,Huyện Tam Đảo,08900,"Xã Kim Long",Xã,21.5,105.6',
      ].join('\n'),
    );
    const reg = await Registry.open(join(dir, 'r.json'));
    await reg.importCommunesCsv(csv);
    expect(reg.listSites().map((s) => [s.slug, s.area])).toEqual([
      ['xa-kim-long', 'tam-duong'],
      ['xa-kim-long-08900', 'tam-dao'],
    ]);
  });

  it('reports bad CSV rows with their line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-csv-'));
    const csv = join(dir, 'c.csv');
    writeFileSync(csv, 'province_code,province_name,district_code,district_name,commune_code,commune_name,commune_type,lat,lon\n26,Tỉnh X,1,Huyện Y,2,Xã Z,Xã,north,105\n');
    const reg = await Registry.open(join(dir, 'r.json'));
    await expect(reg.importCommunesCsv(csv)).rejects.toThrow(/line 2: lat/);
    writeFileSync(csv, 'a,b\n1,2\n');
    await expect(reg.importCommunesCsv(csv)).rejects.toMatchObject({ code: 'E_CSV' });
    await expect(reg.importCommunesCsv(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'E_CSV' });
  });
});
