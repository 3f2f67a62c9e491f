// Settings every rule type shares, with their defaults.
import { z } from 'zod';
import { SEVERITIES, slugSchema } from '../../../protocol/index.ts';
import { durationSchema } from '../duration.ts';
import { selectorSchema } from '../selector.ts';
import type { RuleCommon } from '../types.ts';

export const summarySchema = z.strictObject({ vi: z.string().min(1).max(512), en: z.string().min(1).max(512) });

/** A label to group by, or alternatives `a|b` (the first the alert has: `area|province` for registries without districts). */
export const groupLabelSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(\|[A-Za-z_][A-Za-z0-9_-]*)*$/, 'a label name, or alternatives a|b');
const labelNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'a label name');

export const baseRuleShape = {
  name: slugSchema,
  severity: z.enum(SEVERITIES).default('warning'),
  for: durationSchema.default(0),
  /** Flap damping: how long the condition must stay clear before the alert resolves. */
  clearFor: durationSchema.default(0),
  officeHoursOnly: z.boolean().default(false),
  /** Alias of `groupBy: [province]` with `storm.groupMinSites` as the group's minimum. */
  group: z.literal('province').optional(),
  /** Alerts of this rule that share these labels (and series) become one incident (grouping.ts). */
  groupBy: z.array(groupLabelSchema).min(1).max(8).optional(),
  /** Sites a group needs to form; default 2 (`group: province`: storm.groupMinSites). */
  groupMin: z.int().min(2).max(100_000).optional(),
  /** How long an alert of this rule waits to see whether it joins a group; default storm.groupWait. */
  groupWait: durationSchema.optional(),
  /** Labels every alert of this rule carries (e.g. `cause: isp`, to group several rules by cause). */
  labels: z.record(labelNameSchema, z.string().min(1).max(256)).optional(),
  select: selectorSchema.optional(),
  /** Templates: {site}, {value}, {agent} and any label in braces. */
  summary: summarySchema.optional(),
  /** Memory bound: series of this rule remembered per site; more are ignored and counted (one agent cannot fill it). */
  maxSeriesPerSite: z.int().min(1).max(1_000_000).default(1000),
  /** Memory bound: series of this rule remembered in all. */
  maxSeries: z.int().min(1).max(10_000_000).default(200_000),
};

export function commonOf(
  c: {
    name: string;
    severity: RuleCommon['severity'];
    for: number;
    clearFor: number;
    officeHoursOnly: boolean;
    group?: 'province' | undefined;
    groupBy?: string[] | undefined;
    groupMin?: number | undefined;
    groupWait?: number | undefined;
    labels?: Record<string, string> | undefined;
    maxSeriesPerSite: number;
    maxSeries: number;
  },
  type: string,
  marksSiteDown = false,
): RuleCommon {
  return {
    name: c.name,
    type,
    severity: c.severity,
    forMs: c.for,
    clearForMs: c.clearFor,
    officeHoursOnly: c.officeHoursOnly,
    group: c.group,
    ...(c.groupBy === undefined ? {} : { groupBy: c.groupBy }),
    ...(c.groupMin === undefined ? {} : { groupMin: c.groupMin }),
    ...(c.groupWait === undefined ? {} : { groupWaitMs: c.groupWait }),
    ...(c.labels === undefined ? {} : { labels: c.labels }),
    marksSiteDown,
    maxSeriesPerSite: c.maxSeriesPerSite,
    maxSeries: c.maxSeries,
  };
}

/** Fills `{key}` from the values given; unknown keys stay as they are. */
export function render(template: { vi: string; en: string }, values: Readonly<Record<string, string | number | undefined>>): { vi: string; en: string } {
  const fill = (t: string): string => t.replace(/\{([a-z_]+)\}/g, (all, k: string) => (values[k] === undefined ? all : String(values[k])));
  return { vi: fill(template.vi), en: fill(template.en) };
}

export function fmt(v: number | undefined): string {
  if (v === undefined) return '?';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Labels restored from the state file: absent, or a map of strings. */
export function isLabels(v: unknown): v is Record<string, string> | undefined {
  return v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'));
}
