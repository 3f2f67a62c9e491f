// Which points a rule looks at: by measurement, site, area, province and tag values.
import { z } from 'zod';
import type { HubPoint } from '../write/sink.ts';

export const selectorSchema = z.strictObject({
  sites: z.array(z.string()).optional(),
  areas: z.array(z.string()).optional(),
  provinces: z.array(z.string()).optional(),
  /** Tag value (or list of accepted values) per tag key. */
  tags: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
});
export type Selector = z.output<typeof selectorSchema>;

export function matchesSelector(sel: Selector | undefined, tags: Readonly<Record<string, string>>): boolean {
  if (sel === undefined) return true;
  if (sel.sites !== undefined && !sel.sites.includes(tags.site ?? '')) return false;
  if (sel.areas !== undefined && !sel.areas.includes(tags.area ?? '')) return false;
  if (sel.provinces !== undefined && !sel.provinces.includes(tags.province ?? '')) return false;
  for (const [key, want] of Object.entries(sel.tags ?? {})) {
    const have = tags[key];
    if (have === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}

const HUB_ONLY = new Set(['site', 'province', 'area']);

/** The instance key of a series: its tags minus the site-level ones, sorted. */
export function instanceKey(tags: Readonly<Record<string, string>>, by?: readonly string[]): string {
  const keys = (by ?? Object.keys(tags).filter((k) => !HUB_ONLY.has(k))).filter((k) => tags[k] !== undefined).sort();
  return keys.map((k) => `${k}=${tags[k] ?? ''}`).join(',');
}

/** Labels kept on an alert: the series' tags (site excluded, it has its own field). */
export function labelsOf(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (k !== 'site') out[k] = v;
  return out;
}

export function numericValue(v: HubPoint['fields'][string] | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
