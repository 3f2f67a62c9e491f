// Absence (staleness) rule: no point of a series for longer than `after` (a frozen display, a silent collector).
import { z } from 'zod';
import type { HubPoint } from '../../write/sink.ts';
import { durationSchema } from '../duration.ts';
import { instanceKey, labelsOf, matchesSelector } from '../selector.ts';
import type { RuleInstance, RulePlugin, RuleSignal } from '../types.ts';
import { baseRuleShape, commonOf, isLabels, render } from './base.ts';
import { SeriesMemory } from './series-memory.ts';

export const absenceConfigSchema = z.strictObject({
  ...baseRuleShape,
  type: z.literal('absence'),
  measurement: z.string().min(1),
  /** Only points carrying this field count as data. */
  field: z.string().optional(),
  after: durationSchema,
  by: z.array(z.string()).optional(),
});
export type AbsenceConfig = z.output<typeof absenceConfigSchema>;

interface Series {
  site: string;
  instance: string;
  labels: Record<string, string>;
  lastSeen: number;
}

/** A remembered series from the state file (labels may be missing in older files). */
function isSeries(v: unknown): v is Omit<Series, 'labels'> & { labels?: Record<string, string> } {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.site === 'string' && typeof s.instance === 'string' && typeof s.lastSeen === 'number' && isLabels(s.labels);
}

export const absenceRule: RulePlugin<typeof absenceConfigSchema> = {
  type: 'absence',
  configSchema: absenceConfigSchema,
  create(c: AbsenceConfig): RuleInstance {
    const series = new SeriesMemory<Series>(c.maxSeriesPerSite, c.maxSeries);
    const template = c.summary ?? { vi: `${c.name}: không có dữ liệu ${c.measurement} từ {site} quá {minutes} phút`, en: `${c.name}: no ${c.measurement} data from {site} for over {minutes} min` };
    const signal = (s: Series, active: boolean): RuleSignal => ({
      site: s.site,
      instance: s.instance,
      active,
      labels: s.labels,
      summary: render(template, { ...s.labels, site: s.site, minutes: Math.round(c.after / 60_000) }),
    });
    return {
      ...commonOf(c, 'absence'),
      onPoint(p: HubPoint, now: number): RuleSignal[] {
        if (p.measurement !== c.measurement || !matchesSelector(c.select, p.tags)) return [];
        if (c.field !== undefined && p.fields[c.field] === undefined) return [];
        const site = p.tags.site;
        if (site === undefined) return [];
        const instance = instanceKey(p.tags, c.by);
        const s: Series = { site, instance, labels: labelsOf(p.tags), lastSeen: Math.max(now, series.get(`${site}|${instance}`)?.lastSeen ?? 0) };
        if (!series.set(site, `${site}|${instance}`, s)) return [];
        return [signal(s, false)];
      },
      tick(now: number): RuleSignal[] {
        return [...series.values()].map((s) => signal(s, now - s.lastSeen > c.after));
      },
      snapshot: () => [...series.values()],
      restore(data: unknown, now: number): void {
        if (!Array.isArray(data)) return;
        for (const raw of data as unknown[]) {
          if (!isSeries(raw)) continue;
          // The hub was down meanwhile: staleness counts from its start, not from before.
          series.set(raw.site, `${raw.site}|${raw.instance}`, { site: raw.site, instance: raw.instance, labels: raw.labels ?? {}, lastSeen: Math.max(now, raw.lastSeen) });
        }
      },
      seriesRefused: () => series.refused,
    };
  },
};
