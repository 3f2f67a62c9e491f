// Reads the communes CSV (province_code,province_name,district_code,district_name,commune_code,commune_name,commune_type,lat,lon).
import { readFile } from 'node:fs/promises';
import { parseCsv, type CsvRow } from './csv.ts';
import { HubError, errorMessage } from './errors.ts';
import { adminSlug, slugify } from './slug.ts';

export const COMMUNE_COLUMNS = [
  'province_code',
  'province_name',
  'district_code',
  'district_name',
  'commune_code',
  'commune_name',
  'commune_type',
  'lat',
  'lon',
] as const;
type Column = (typeof COMMUNE_COLUMNS)[number];

/** A commune as a site, before slug collisions are resolved against the registry. */
export interface CommuneSite {
  slug: string;
  name: string;
  code: string;
  province: string;
  provinceName: string;
  area: string;
  areaName: string;
  lat: number;
  lon: number;
}

export async function readCommunesCsv(path: string): Promise<CommuneSite[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new HubError('E_CSV', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseCommunesCsv(text, path);
}

export function parseCommunesCsv(text: string, source = 'csv'): CommuneSite[] {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new HubError('E_CSV', `${source}: empty file`);
  const index = columnIndex(header, source);
  if (rows.length === 0) throw new HubError('E_CSV', `${source}: no data rows`);
  return rows.map((row) => toSite(row, index, source));
}

function columnIndex(header: CsvRow, source: string): Map<Column, number> {
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const index = new Map<Column, number>();
  for (const col of COMMUNE_COLUMNS) {
    const i = names.indexOf(col);
    if (i < 0) throw new HubError('E_CSV', `${source}: missing column ${col} (header must have ${COMMUNE_COLUMNS.join(',')})`);
    index.set(col, i);
  }
  return index;
}

function toSite(row: CsvRow, index: Map<Column, number>, source: string): CommuneSite {
  const get = (col: Column): string => (row.fields[index.get(col) ?? -1] ?? '').trim();
  const where = `${source} line ${row.line}`;
  const name = get('commune_name');
  const code = get('commune_code');
  if (name === '' || code === '') throw new HubError('E_CSV', `${where}: commune_name and commune_code are required`);
  const slug = slugify(name);
  const province = adminSlug(get('province_name'));
  const area = adminSlug(get('district_name'));
  if (slug === '' || province === '' || area === '') throw new HubError('E_CSV', `${where}: names give an empty slug`);
  return {
    slug,
    name,
    code,
    province,
    provinceName: get('province_name'),
    area,
    areaName: get('district_name'),
    lat: coordinate(get('lat'), 90, `${where}: lat`),
    lon: coordinate(get('lon'), 180, `${where}: lon`),
  };
}

function coordinate(text: string, max: number, what: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || Math.abs(value) > max) {
    throw new HubError('E_CSV', `${what}: expected a number within ±${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
