// Reads a commune list in either published format, told apart by its header:
// - the national list since 1 July 2025 (two tiers, no districts, no coordinates):
//   province_code,province_name,commune_code,commune_name,kind  (+ optional lat,lon)
// - the older three-tier list (district level, approximate coordinates):
//   province_code,province_name,district_code,district_name,commune_code,commune_name,commune_type,lat,lon
import { readFile } from 'node:fs/promises';
import { parseCsv, type CsvRow } from './csv.ts';
import { HubError, errorMessage } from '../errors.ts';
import { adminSlug, slugify } from './slug.ts';

export const COMMUNE_FORMATS = {
  /** National list since 1 July 2025: province → commune. */
  'national-2025': { required: ['province_code', 'province_name', 'commune_code', 'commune_name', 'kind'], optional: ['lat', 'lon'] },
  /** Province → district → commune, as published before July 2025. */
  'districts-legacy': {
    required: ['province_code', 'province_name', 'district_code', 'district_name', 'commune_code', 'commune_name', 'commune_type', 'lat', 'lon'],
    optional: [],
  },
} as const satisfies Record<string, { required: readonly string[]; optional: readonly string[] }>;
export type CommuneFormat = keyof typeof COMMUNE_FORMATS;

const KINDS_2025 = ['xa', 'phuong', 'dac-khu'] as const;

/** A commune as a site, before slug collisions are resolved against the registry. */
export interface CommuneSite {
  /** Slug of the name alone (`xa-lap-thach`); the registry appends the code on a collision. */
  slug: string;
  /** As published (UTF-8, diacritics and their code points kept). */
  name: string;
  code: string;
  province: string;
  provinceCode: string;
  provinceName: string;
  /** The district's slug; '' when the list has no district level (2025). */
  area: string;
  areaName: string;
  lat?: number;
  lon?: number;
}

export interface CommuneList {
  format: CommuneFormat;
  rows: CommuneSite[];
}

export interface ProvinceSummary {
  code: string;
  name: string;
  slug: string;
  communes: number;
}

export async function readCommunesCsv(path: string): Promise<CommuneList> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new HubError('E_CSV', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseCommunesCsv(text, path);
}

export function parseCommunesCsv(text: string, source = 'csv'): CommuneList {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new HubError('E_CSV', `${source}: empty file`);
  const { format, index } = detectFormat(header, source);
  if (rows.length === 0) throw new HubError('E_CSV', `${source}: no data rows`);
  const codes = new Map<string, number>();
  const out = rows.map((row) => {
    const site = toSite(row, format, index, source);
    const dup = codes.get(site.code);
    if (dup !== undefined) throw new HubError('E_CSV', `${source} line ${row.line}: commune_code ${site.code} already on line ${dup}`);
    codes.set(site.code, row.line);
    return site;
  });
  return { format, rows: out };
}

/** The format whose required columns the header has, with no column outside that format; otherwise an error naming the difference. */
function detectFormat(header: CsvRow, source: string): { format: CommuneFormat; index: Map<string, number> } {
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const fits: string[] = [];
  for (const [format, spec] of Object.entries(COMMUNE_FORMATS) as [CommuneFormat, (typeof COMMUNE_FORMATS)[CommuneFormat]][]) {
    const known = new Set<string>([...spec.required, ...spec.optional]);
    const missing = spec.required.filter((c) => !names.includes(c));
    const unknown = names.filter((n) => !known.has(n));
    const repeated = names.filter((n, i) => names.indexOf(n) !== i);
    if (missing.length === 0 && unknown.length === 0 && repeated.length === 0) {
      return { format, index: new Map(names.map((n, i) => [n, i])) };
    }
    const problems = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      unknown.length > 0 ? `unknown ${unknown.join(', ')}` : '',
      repeated.length > 0 ? `repeated ${repeated.join(', ')}` : '',
    ].filter(Boolean);
    fits.push(`as the ${describeFormat(format)} (${spec.required.join(',')}${spec.optional.length > 0 ? ` [,${spec.optional.join(',')}]` : ''}): ${problems.join('; ')}`);
  }
  throw new HubError('E_CSV', `${source}: the header matches no commune list format:\n  ${fits.join('\n  ')}`);
}

function describeFormat(format: CommuneFormat): string {
  return format === 'national-2025' ? '2025 national list' : 'list with districts';
}

function toSite(row: CsvRow, format: CommuneFormat, index: Map<string, number>, source: string): CommuneSite {
  const get = (col: string): string => {
    const i = index.get(col);
    return i === undefined ? '' : (row.fields[i] ?? '').trim();
  };
  const where = `${source} line ${row.line}`;
  const name = get('commune_name');
  const code = get('commune_code');
  const provinceCode = get('province_code');
  const provinceName = get('province_name');
  if (name === '' || code === '' || provinceCode === '' || provinceName === '') {
    throw new HubError('E_CSV', `${where}: province_code, province_name, commune_code and commune_name are required`);
  }
  if (!/^[0-9A-Za-z]{1,32}$/.test(code)) throw new HubError('E_CSV', `${where}: commune_code must be 1-32 letters or digits, got ${JSON.stringify(code)}`);
  if (format === 'national-2025' && !(KINDS_2025 as readonly string[]).includes(get('kind'))) {
    throw new HubError('E_CSV', `${where}: kind must be one of ${KINDS_2025.join('|')}, got ${JSON.stringify(get('kind'))}`);
  }
  const areaName = format === 'districts-legacy' ? get('district_name') : '';
  const slug = slugify(name);
  const province = adminSlug(provinceName);
  const area = areaName === '' ? '' : adminSlug(areaName);
  if (slug === '' || province === '' || (format === 'districts-legacy' && area === '')) throw new HubError('E_CSV', `${where}: names give an empty slug`);
  return { slug, name, code, province, provinceCode, provinceName, area, areaName, ...coordinates(get('lat'), get('lon'), where) };
}

/** Both or neither: a commune without coordinates is listed on the wall, not drawn on the map. */
function coordinates(latText: string, lonText: string, where: string): { lat?: number; lon?: number } {
  if (latText === '' && lonText === '') return {};
  return { lat: coordinate(latText, 90, `${where}: lat`), lon: coordinate(lonText, 180, `${where}: lon`) };
}

function coordinate(text: string, max: number, what: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || Math.abs(value) > max) {
    throw new HubError('E_CSV', `${what}: expected a number within ±${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function provincesOf(rows: readonly CommuneSite[]): ProvinceSummary[] {
  const byCode = new Map<string, ProvinceSummary>();
  for (const r of rows) {
    const p = byCode.get(r.provinceCode) ?? { code: r.provinceCode, name: r.provinceName, slug: r.province, communes: 0 };
    p.communes += 1;
    byCode.set(r.provinceCode, p);
  }
  return [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/** "Tỉnh Phú Thọ", "phu tho", "Thanh pho Ha Noi", "TP. Hồ Chí Minh" → the slug the registry uses ("phu-tho", "ha-noi", "ho-chi-minh"). */
export function provinceKey(text: string): string {
  return slugify(text).replace(/^(tinh|thanh-pho|tp)-/, '');
}

/**
 * The rows of one province, chosen by its code (`25`, also `025`) or its name with or without "Tỉnh"/"Thành phố"
 * and diacritics. Unknown: an error listing the provinces the file has.
 */
export function selectProvince(rows: readonly CommuneSite[], query: string, source = 'csv'): CommuneSite[] {
  const q = query.trim();
  const provinces = provincesOf(rows);
  const numeric = /^\d+$/.test(q);
  const match = provinces.find((p) => (numeric ? /^\d+$/.test(p.code) && Number(p.code) === Number(q) : p.slug === provinceKey(q)));
  if (match === undefined) {
    throw new HubError('E_UNKNOWN_PROVINCE', `no province ${JSON.stringify(q)} in ${source}; it has ${describeProvinces(provinces)}`);
  }
  return rows.filter((r) => r.provinceCode === match.code);
}

/** "34 provinces: 01 Thành phố Hà Nội (126), 04 Tỉnh Cao Bằng (56), …" */
export function describeProvinces(provinces: readonly ProvinceSummary[]): string {
  const list = provinces.map((p) => `${p.code} ${p.name} (${p.communes})`).join(', ');
  return `${provinces.length} province${provinces.length === 1 ? '' : 's'}: ${list}`;
}
