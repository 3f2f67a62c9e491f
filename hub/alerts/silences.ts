// Silences and maintenance windows: matchers over site, area, rule and severity, with a time window.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const silenceInputSchema = z
  .strictObject({
    sites: z.array(z.string().max(64)).min(1).max(1000).optional(),
    areas: z.array(z.string().max(64)).min(1).max(1000).optional(),
    rules: z.array(z.string().max(64)).min(1).max(1000).optional(),
    severities: z.array(z.string().max(16)).min(1).max(8).optional(),
    /** A silence without sites, areas or rules mutes the whole province: only when this says so. */
    allSites: z.literal(true).optional(),
    /** Epoch ms or ISO; default now. */
    startsAt: z.union([z.int(), z.iso.datetime({ offset: true })]).optional(),
    endsAt: z.union([z.int(), z.iso.datetime({ offset: true })]),
    kind: z.enum(['silence', 'maintenance']).default('silence'),
    /** Ignored: the author is the login that creates the silence (older clients still send it). */
    createdBy: z.string().max(128).optional(),
    comment: z.string().max(1024).default(''),
  })
  .refine((s) => s.sites !== undefined || s.areas !== undefined || s.rules !== undefined || s.allSites === true, {
    message: 'a silence needs sites, areas or rules to match (or allSites: true to silence the whole province)',
    path: ['sites'],
  })
  .refine((s) => s.allSites !== true || (s.sites === undefined && s.areas === undefined), { message: 'allSites: true cannot be combined with sites or areas', path: ['allSites'] });
export type SilenceInput = z.input<typeof silenceInputSchema>;

export interface Silence {
  id: string;
  kind: 'silence' | 'maintenance';
  sites?: string[];
  areas?: string[];
  rules?: string[];
  severities?: string[];
  allSites?: true;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export interface SilenceTarget {
  site: string;
  rule: string;
  severity: string;
  labels: Readonly<Record<string, string>>;
}

const ms = (v: number | string): number => (typeof v === 'number' ? v : Date.parse(v));

export function makeSilence(input: z.output<typeof silenceInputSchema>, createdBy: string, now: number): Silence {
  const { startsAt, endsAt, createdBy: _claimed, ...rest } = input;
  return { ...rest, createdBy, id: `s-${randomBytes(6).toString('hex')}`, startsAt: startsAt === undefined ? now : ms(startsAt), endsAt: ms(endsAt) };
}

export function silenceMatches(s: Silence, t: SilenceTarget, now: number): boolean {
  if (now < s.startsAt || now >= s.endsAt) return false;
  if (s.sites !== undefined && !s.sites.includes(t.site)) return false;
  if (s.areas !== undefined && !s.areas.includes(t.labels.area ?? '')) return false;
  if (s.rules !== undefined && !s.rules.includes(t.rule)) return false;
  if (s.severities !== undefined && !s.severities.includes(t.severity)) return false;
  return true;
}
