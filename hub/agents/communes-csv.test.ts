import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSiteSlug } from '../../protocol/index.ts';
import { parseCsv } from './csv.ts';
import { parseCommunesCsv, provinceKey, provincesOf, readCommunesCsv, selectProvince } from './communes-csv.ts';
import { Registry } from './registry.ts';
import { tokenRecords } from '../../testkit/legacy-registry.ts';

const NATIONAL = fileURLToPath(new URL('../../data/vn-communes-2025.csv', import.meta.url));
const LEGACY = fileURLToPath(new URL('../../data/vinh-phuc-communes.csv', import.meta.url));

/** The file's own rows, read with the plain CSV reader: the reference the importer is checked against. */
function fileRows(path: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const cols = header?.fields ?? [];
  return rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r.fields[i] ?? ''])));
}

function tmpRegistry(): string {
  return join(mkdtempSync(join(tmpdir(), 'ioc-hub-communes-')), 'registry.json');
}

describe('the 2025 national commune list (data/vn-communes-2025.csv)', () => {
  const reference = fileRows(NATIONAL);

  it('is read as the two-tier format: 3,321 communes of 34 provinces, no district, no coordinates', async () => {
    const list = await readCommunesCsv(NATIONAL);
    expect(list.format).toBe('national-2025');
    expect(list.rows).toHaveLength(3321);
    expect(provincesOf(list.rows)).toHaveLength(34);
    for (const r of list.rows) {
      expect(r.area).toBe('');
      expect(r.areaName).toBe('');
      expect(r.lat).toBeUndefined();
    }
  });

  it('gives every one of its rows a valid slug, unique within its province, and keeps every name byte for byte', async () => {
    const list = await readCommunesCsv(NATIONAL);
    expect(list.rows.map((r) => [r.code, r.name, r.provinceCode, r.provinceName])).toEqual(reference.map((r) => [r.commune_code, r.commune_name, r.province_code, r.province_name]));
    const bad: string[] = [];
    let collisions = 0;
    for (const p of provincesOf(list.rows)) {
      const reg = await Registry.open(tmpRegistry());
      const result = await reg.importCommunesCsv(NATIONAL, { province: p.code });
      const sites = reg.listSites();
      expect(result.added, p.name).toBe(p.communes);
      expect(sites, p.name).toHaveLength(p.communes);
      expect(new Set(sites.map((s) => s.slug)).size, p.name).toBe(p.communes);
      for (const s of sites) {
        if (!isSiteSlug(s.slug) || !/^[a-z0-9-]{1,64}$/.test(s.slug) || /^-|-$|--/.test(s.slug)) bad.push(`${p.code} ${s.slug}`);
        if (s.province !== p.slug) bad.push(`${s.slug}: province ${s.province}`);
        if (s.slug.endsWith(`-${s.code}`)) collisions += 1;
      }
    }
    expect(bad).toEqual([]);
    // Vạn Lang / Văn Lang (19), Tân Thạnh / Tân Thành (80, 82)…: 8 names that differ only in their diacritics.
    expect(collisions).toBe(8);
  }, 60_000);

  it('slugs the names stored decomposed (combining marks) like the others, and keeps their bytes', async () => {
    const list = await readCommunesCsv(NATIONAL);
    const decomposed = list.rows.filter((r) => r.name.normalize('NFC') !== r.name);
    expect(decomposed).toHaveLength(50);
    const tuLe = decomposed.find((r) => r.name.normalize('NFC') === 'Xã Tú Lệ');
    expect(tuLe?.slug).toBe('xa-tu-le');
    expect(tuLe?.name).not.toBe('Xã Tú Lệ'); // as published, not normalised
  });

  it('imports all provinces into one registry only when asked, every slug unique', async () => {
    const reg = await Registry.open(tmpRegistry());
    await expect(reg.importCommunesCsv(NATIONAL)).rejects.toMatchObject({ code: 'E_SEVERAL_PROVINCES', message: expect.stringMatching(/has 34 provinces: 01 Thành phố Hà Nội \(\d+\), .*25 Tỉnh Phú Thọ \(148\).*--province CODE\|NAME.*--all-provinces/s) });
    expect(reg.listSites()).toHaveLength(0);
    const result = await reg.importCommunesCsv(NATIONAL, { allProvinces: true });
    expect(result).toMatchObject({ added: 3321, total: 3321, format: 'national-2025' });
    expect(result.provinces).toHaveLength(34);
    expect(new Set(reg.listSites().map((s) => s.slug)).size).toBe(3321);
    for (const s of reg.listSites()) expect(isSiteSlug(s.slug)).toBe(true);
  });

  it('picks Phú Thọ by code or by name, with or without its prefix and diacritics', () => {
    const rows = parseCommunesCsv(readFileSync(NATIONAL, 'utf8'), NATIONAL).rows;
    for (const q of ['25', '025', 'Tỉnh Phú Thọ', 'Phú Thọ', 'phu tho', 'Tinh Phu Tho', 'PHÚ THỌ', 'phu-tho']) {
      const picked = selectProvince(rows, q);
      expect(picked, q).toHaveLength(148);
      expect(new Set(picked.map((r) => r.provinceCode)), q).toEqual(new Set(['25']));
    }
    expect(selectProvince(rows, 'Thành phố Hà Nội')).toEqual(selectProvince(rows, 'ha noi'));
    expect(selectProvince(rows, 'TP. Hồ Chí Minh')).toEqual(selectProvince(rows, '79'));
    expect(provinceKey('Thành phố Huế')).toBe('hue');
    expect(() => selectProvince(rows, '26')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_PROVINCE', message: expect.stringMatching(/no province "26" in csv; it has 34 provinces: 01 Thành phố Hà Nội/) }));
    expect(() => selectProvince(rows, 'Vĩnh Phúc')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_PROVINCE' }));
  });

  it('imports Phú Thọ (province 25): 148 sites, names exactly as in the file, idempotent, enrolled agents kept', async () => {
    const path = tmpRegistry();
    const reg = await Registry.open(path, { scrypt: { N: 1024, r: 8, p: 1 } });
    expect(await reg.importCommunesCsv(NATIONAL, { province: '25' })).toEqual({ added: 148, updated: 0, total: 148, format: 'national-2025', provinces: ['25'] });
    const sites = reg.listSites();
    const phuTho = reference.filter((r) => r.province_code === '25');
    expect(phuTho).toHaveLength(148);
    expect(new Set(sites.map((s) => s.slug)).size).toBe(148);
    expect(sites.map((s) => s.name).sort()).toEqual(phuTho.map((r) => r.commune_name).sort());
    for (const s of sites) expect(s).toMatchObject({ province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' });
    for (const s of sites) expect(s.lat === undefined && s.lon === undefined).toBe(true);
    const byName = (name: string) => sites.find((s) => s.name === name);
    const checked = [
      ['Xã Lập Thạch', '08761', 'xa-lap-thach'],
      ['Phường Việt Trì', '07900', 'phuong-viet-tri'],
      ['Phường Vĩnh Yên', '08707', 'phuong-vinh-yen'],
      ['Phường Phúc Yên', '08740', 'phuong-phuc-yen'],
      ['Xã Tam Đảo', '08911', 'xa-tam-dao'],
    ] as const;
    for (const [name, code, slug] of checked) {
      expect(phuTho.filter((r) => r.commune_name === name).map((r) => r.commune_code), name).toEqual([code]);
      expect(byName(name), name).toMatchObject({ slug, code, name });
    }
    const { token } = await reg.enroll('xa-lap-thach', 'pi-1');
    const again = await Registry.open(path);
    expect(await again.importCommunesCsv(NATIONAL, { province: 'Phú Thọ' })).toEqual({ added: 0, updated: 148, total: 148, format: 'national-2025', provinces: ['25'] });
    expect(again.listSites().map((s) => s.slug)).toEqual(sites.map((s) => s.slug));
    expect(await again.verify('xa-lap-thach', 'pi-1', token)).toBe(true);
    expect([...tokenRecords(path).keys()]).toEqual(['xa-lap-thach/pi-1']);
  });
});

describe('the legacy three-tier list (data/vinh-phuc-communes.csv)', () => {
  it('is read with its districts as areas and its coordinates', async () => {
    const list = await readCommunesCsv(LEGACY);
    expect(list.format).toBe('districts-legacy');
    const reg = await Registry.open(tmpRegistry());
    expect(await reg.importCommunesCsv(LEGACY)).toMatchObject({ added: 121, total: 121, format: 'districts-legacy', provinces: ['26'] });
    const byArea = new Map<string, number>();
    for (const s of reg.listSites()) byArea.set(s.area, (byArea.get(s.area) ?? 0) + 1);
    expect([...byArea.keys()].sort()).toEqual(['binh-xuyen', 'lap-thach', 'phuc-yen', 'song-lo', 'tam-dao', 'tam-duong', 'vinh-tuong', 'vinh-yen', 'yen-lac']);
    expect([...byArea.values()].reduce((a, b) => a + b, 0)).toBe(121);
    expect(reg.getSite('thi-tran-lap-thach')).toMatchObject({ area: 'lap-thach', areaName: 'Huyện Lập Thạch', province: 'vinh-phuc' });
    for (const s of reg.listSites()) expect(typeof s.lat === 'number' && typeof s.lon === 'number').toBe(true);
    await expect(reg.importCommunesCsv(LEGACY, { province: '25' })).rejects.toMatchObject({ code: 'E_UNKNOWN_PROVINCE', message: expect.stringMatching(/it has 1 province: 26 Tỉnh Vĩnh Phúc \(121\)/) });
    expect(await reg.importCommunesCsv(LEGACY, { province: 'Vinh Phuc' })).toMatchObject({ added: 0, updated: 121 });
  });
});

describe('moving a registry from the legacy list to the 2025 one', () => {
  it('keeps the slugs and agents of communes whose code carries over (Phường Tích Sơn 08707 → Phường Vĩnh Yên)', async () => {
    const path = tmpRegistry();
    const reg = await Registry.open(path, { scrypt: { N: 1024, r: 8, p: 1 } });
    await reg.importCommunesCsv(LEGACY);
    const { token } = await reg.enroll('phuong-tich-son', 'pi-1');
    const result = await reg.importCommunesCsv(NATIONAL, { province: '25' });
    expect(result.added + result.updated).toBe(148);
    expect(result.updated).toBeGreaterThan(0);
    expect(reg.getSite('phuong-tich-son')).toMatchObject({ name: 'Phường Vĩnh Yên', code: '08707', province: 'phu-tho', area: '', lat: 21.30943, lon: 105.60867 });
    expect(await (await Registry.open(path)).verify('phuong-tich-son', 'pi-1', token)).toBe(true);
    // the former communes that did not carry over stay (an operator retires them), none is dropped
    expect(result.total).toBe(121 + result.added);
  });
});

describe('commune list headers and rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-csv-'));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('names the missing and unknown columns of a header that fits neither format', async () => {
    const p = file('bad.csv', 'province_code,province_name,commune_code,commune_name,type\n25,Tỉnh Phú Thọ,1,Xã A,xa\n');
    await expect(readCommunesCsv(p)).rejects.toMatchObject({
      code: 'E_CSV',
      message: expect.stringMatching(/matches no commune list format:\n {2}as the 2025 national list .*: missing kind; unknown type\n {2}as the list with districts .*: missing district_code, district_name, commune_type, lat, lon; unknown type/),
    });
    await expect(readCommunesCsv(file('dup.csv', 'province_code,province_name,commune_code,commune_name,kind,kind\n'))).rejects.toThrow(/repeated kind/);
  });

  it('takes optional coordinates in the 2025 format, both or neither', () => {
    const head = 'province_code,province_name,commune_code,commune_name,kind,lat,lon\n';
    const { rows } = parseCommunesCsv(`${head}25,Tỉnh Phú Thọ,08773,Xã Lập Thạch,xa,21.41,105.46\n25,Tỉnh Phú Thọ,08774,Xã B,xa,,\n`);
    expect(rows.map((r) => [r.slug, r.lat, r.lon])).toEqual([
      ['xa-lap-thach', 21.41, 105.46],
      ['xa-b', undefined, undefined],
    ]);
    expect(() => parseCommunesCsv(`${head}25,Tỉnh Phú Thọ,1,Xã A,xa,21.4,\n`)).toThrow(/line 2: lon/);
    expect(() => parseCommunesCsv(`${head}25,Tỉnh Phú Thọ,1,Xã A,huyen,,\n`)).toThrow(/line 2: kind must be one of xa\|phuong\|dac-khu/);
    expect(() => parseCommunesCsv(`${head}25,Tỉnh Phú Thọ,1,Xã A,xa,,\n25,Tỉnh Phú Thọ,1,Xã B,xa,,\n`)).toThrow(/line 3: commune_code 1 already on line 2/);
  });

  it('resolves slug collisions by code, whatever the row order', async () => {
    const head = 'province_code,province_name,commune_code,commune_name,kind\n';
    const a = '19,Tỉnh Thái Nguyên,05500,Xã Vạn Lang,xa\n';
    const b = '19,Tỉnh Thái Nguyên,05400,Xã Văn Lang,xa\n';
    const slugs = async (text: string): Promise<string[][]> => {
      const reg = await Registry.open(tmpRegistry());
      await reg.importCommunesCsv(file('c.csv', text));
      return reg.listSites().map((s) => [s.slug, s.name]);
    };
    const expected = [
      ['xa-van-lang', 'Xã Văn Lang'],
      ['xa-van-lang-05500', 'Xã Vạn Lang'],
    ];
    expect(await slugs(head + a + b)).toEqual(expected);
    expect(await slugs(head + b + a)).toEqual(expected);
  });

  it('keeps coordinates an operator added when the 2025 list (without any) is imported again', async () => {
    const path = tmpRegistry();
    const withCoords = file('w.csv', 'province_code,province_name,commune_code,commune_name,kind,lat,lon\n25,Tỉnh Phú Thọ,08773,Xã Lập Thạch,xa,21.41,105.46\n');
    const without = file('wo.csv', 'province_code,province_name,commune_code,commune_name,kind\n25,Tỉnh Phú Thọ,08773,Xã Lập Thạch,xa\n');
    const reg = await Registry.open(path);
    await reg.importCommunesCsv(withCoords);
    await reg.importCommunesCsv(without);
    expect(reg.getSite('xa-lap-thach')).toMatchObject({ lat: 21.41, lon: 105.46 });
  });
});
