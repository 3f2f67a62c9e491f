// Silences (and maintenance windows created through the API): matchers over site, area, rule and severity, with a
// time window; bounded in number and length.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AlertError } from './errors.ts';

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

export interface SilencesOptions {
  /** Active silences kept; more are refused. */
  maxSilences: number;
  /** Longest a silence may last, ms. */
  maxSilenceMs: number;
}

/** The silences of the engine: added and deleted through the API, kept in the state file. */
export class Silences {
  private list: Silence[] = [];

  constructor(private readonly opts: SilencesOptions) {}

  /** Every silence kept (expired ones too, until the next add): what the state file holds. */
  all(): readonly Silence[] {
    return this.list;
  }

  restore(list: Silence[]): void {
    this.list = list;
  }

  active(now: number): Silence[] {
    return this.list.filter((s) => s.endsAt > now);
  }

  /** The first silence that matches the target now. */
  match(t: SilenceTarget, now: number): Silence | undefined {
    return this.list.find((s) => silenceMatches(s, t, now));
  }

  /**
   * Adds a silence. `createdBy` is the login that asks (never the body); a silence needs a matcher unless it
   * says `allSites: true`, and ends within `maxSilenceMs`.
   */
  add(input: unknown, createdBy: string, now: number): Silence {
    const parsed = silenceInputSchema.safeParse(input);
    if (!parsed.success) throw new AlertError('E_ALERT_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const s = makeSilence(parsed.data, createdBy, now);
    if (!(s.endsAt > s.startsAt)) throw new AlertError('E_ALERT_INPUT', 'endsAt must be after startsAt');
    const maxMs = this.opts.maxSilenceMs;
    const lasts = s.endsAt - Math.max(s.startsAt, now);
    if (lasts > maxMs) throw new AlertError('E_ALERT_INPUT', `endsAt: a silence may last at most ${Math.round(maxMs / 3_600_000)} h (alerts.maxSilence); it would last ${Math.round(lasts / 3_600_000)} h`);
    const live = this.active(now);
    if (live.length >= this.opts.maxSilences) throw new AlertError('E_ALERT_INPUT', `too many active silences (${live.length}); delete some first`);
    this.list = [...live, s];
    return s;
  }

  delete(id: string): void {
    if (!this.list.some((s) => s.id === id)) throw new AlertError('E_SILENCE_NOT_FOUND', `no silence ${id}`);
    this.list = this.list.filter((s) => s.id !== id);
  }
}
