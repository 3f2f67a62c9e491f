// Threshold rule: a field above (or below) a level for a while, clearing at a separate level (hysteresis).
import { z } from 'zod';
import type { HubPoint } from '../../write/sink.ts';
import { instanceKey, labelsOf, matchesSelector, numericValue } from '../selector.ts';
import type { RuleInstance, RulePlugin, RuleSignal } from '../types.ts';
import { baseRuleShape, commonOf, fmt, render } from './base.ts';
import { SeriesMemory } from './series-memory.ts';

export const thresholdConfigSchema = z
  .strictObject({
    ...baseRuleShape,
    type: z.literal('threshold'),
    measurement: z.string().min(1),
    field: z.string().min(1),
    /** Fires when value > above (or value < below). Booleans count as 1/0. */
    above: z.number().optional(),
    below: z.number().optional(),
    /** Clears when value ≤ clear (above) or ≥ clear (below); default: the trigger level itself. */
    clear: z.number().optional(),
    /** Tags telling instances apart; default: every tag of the series but site/area/province. */
    by: z.array(z.string()).optional(),
  })
  .refine((c) => (c.above === undefined) !== (c.below === undefined), 'exactly one of above, below')
  .refine((c) => c.clear === undefined || (c.above !== undefined ? c.clear <= c.above : c.clear >= (c.below ?? 0)), 'clear must be on the safe side of the trigger level');
export type ThresholdConfig = z.output<typeof thresholdConfigSchema>;

export const thresholdRule: RulePlugin<typeof thresholdConfigSchema> = {
  type: 'threshold',
  configSchema: thresholdConfigSchema,
  create(c: ThresholdConfig): RuleInstance {
    // Per series: whether it is past the level, as of its newest reading (reading time).
    const active = new SeriesMemory<{ on: boolean; t: number }>(c.maxSeriesPerSite, c.maxSeries);
    const upward = c.above !== undefined;
    const trigger = c.above ?? c.below ?? 0;
    const clear = c.clear ?? trigger;
    const template = c.summary ?? {
      vi: `${c.name}: ${c.measurement}.${c.field} = {value} (${upward ? '>' : '<'} ${trigger}) tại {site}`,
      en: `${c.name}: ${c.measurement}.${c.field} = {value} (${upward ? '>' : '<'} ${trigger}) at {site}`,
    };
    return {
      ...commonOf(c, 'threshold'),
      onPoint(p: HubPoint): RuleSignal[] {
        if (p.measurement !== c.measurement || !matchesSelector(c.select, p.tags)) return [];
        const value = numericValue(p.fields[c.field]);
        const site = p.tags.site;
        if (value === undefined || site === undefined) return [];
        const instance = instanceKey(p.tags, c.by);
        const key = `${site}|${instance}`;
        const prev = active.get(key);
        // The newest reading decides: one older than what the series already said (out of order) changes nothing.
        if (prev !== undefined && p.timestamp < prev.t) return [];
        const was = prev?.on ?? false;
        const now = upward ? (was ? value > clear : value > trigger) : was ? value < clear : value < trigger;
        if (!active.set(site, key, { on: now, t: p.timestamp })) return [];
        const labels = labelsOf(p.tags);
        return [{ site, instance, active: now, value, labels, summary: render(template, { ...labels, site, value: fmt(value) }) }];
      },
      tick: () => [],
      snapshot: () => [...active.entries()].map(([key, v]) => [key, v.on, v.t]),
      restore(data: unknown): void {
        if (!Array.isArray(data)) return;
        // [key, on, t]; files written before readings were ordered hold [key, on].
        for (const e of data) {
          if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'boolean') active.set(e[0].split('|')[0] ?? '', e[0], { on: e[1], t: typeof e[2] === 'number' ? e[2] : 0 });
        }
      },
      seriesRefused: () => active.refused,
    };
  },
};
