// Change rule: a counter that stopped moving (frozen queue display) or moves too fast (queue out of control).
import { z } from 'zod';
import type { HubPoint } from '../../write/sink.ts';
import { durationSchema } from '../duration.ts';
import { instanceKey, labelsOf, matchesSelector, numericValue } from '../selector.ts';
import type { RuleInstance, RulePlugin, RuleSignal } from '../types.ts';
import { baseRuleShape, commonOf, fmt, render } from './base.ts';
import { SeriesMemory } from './series-memory.ts';

/** Samples kept per series for the rate (points far closer together than the window add nothing). */
const MAX_SAMPLES = 512;

export const changeConfigSchema = z
  .strictObject({
    ...baseRuleShape,
    type: z.literal('change'),
    measurement: z.string().min(1),
    field: z.string().min(1),
    /** `stuck`: unchanged for `window`; `rate`: change per minute over `window` above maxPerMin / below minPerMin. */
    mode: z.enum(['stuck', 'rate']),
    window: durationSchema.prefault('10m'),
    maxPerMin: z.number().optional(),
    minPerMin: z.number().optional(),
    by: z.array(z.string()).optional(),
  })
  .refine((c) => c.mode === 'stuck' || c.maxPerMin !== undefined || c.minPerMin !== undefined, 'rate mode needs maxPerMin or minPerMin');
export type ChangeConfig = z.output<typeof changeConfigSchema>;

interface Track {
  site: string;
  instance: string;
  labels: Record<string, string>;
  /** The newest reading's value, its time, and since when (reading time) the series has had that value. */
  value: number;
  lastT: number;
  changedAt: number;
  /** Hub clock when the newest reading arrived: the tick adds the time since then (no reading has come). */
  lastSeenAt: number;
  /** Samples within the window, in reading-time order (never arrival order: a replay interleaves old and live). */
  samples: { t: number; v: number }[];
}

/** Inserts a sample at its place in time (usually the end: binary search only for one out of order). */
function insertByTime(samples: { t: number; v: number }[], s: { t: number; v: number }): void {
  const last = samples[samples.length - 1];
  if (last === undefined || last.t <= s.t) {
    samples.push(s);
    return;
  }
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((samples[mid]?.t ?? 0) <= s.t) lo = mid + 1;
    else hi = mid;
  }
  samples.splice(lo, 0, s);
}

export const changeRule: RulePlugin<typeof changeConfigSchema> = {
  type: 'change',
  configSchema: changeConfigSchema,
  create(c: ChangeConfig): RuleInstance {
    const tracks = new SeriesMemory<Track>(c.maxSeriesPerSite, c.maxSeries);
    const template =
      c.summary ??
      (c.mode === 'stuck'
        ? { vi: `${c.name}: ${c.measurement}.${c.field} không thay đổi tại {site}`, en: `${c.name}: ${c.measurement}.${c.field} stopped changing at {site}` }
        : { vi: `${c.name}: ${c.measurement}.${c.field} thay đổi {value}/phút tại {site}`, en: `${c.name}: ${c.measurement}.${c.field} changes {value}/min at {site}` });
    // Frozen for: the reading-time span since the last change, plus the hub time since the newest reading came.
    const stuckSignal = (t: Track, now: number): RuleSignal => ({
      site: t.site,
      instance: t.instance,
      active: t.lastT - t.changedAt + Math.max(0, now - t.lastSeenAt) >= c.window,
      value: t.value,
      labels: t.labels,
      summary: render(template, { ...t.labels, site: t.site, value: fmt(t.value) }),
    });
    return {
      ...commonOf(c, 'change'),
      onPoint(p: HubPoint, now: number): RuleSignal[] {
        if (p.measurement !== c.measurement || !matchesSelector(c.select, p.tags)) return [];
        const v = numericValue(p.fields[c.field]);
        const site = p.tags.site;
        if (v === undefined || site === undefined) return [];
        const instance = instanceKey(p.tags, c.by);
        const key = `${site}|${instance}`;
        const at = p.timestamp;
        let t = tracks.get(key);
        if (t === undefined) {
          t = { site, instance, labels: labelsOf(p.tags), value: v, lastT: at, changedAt: at, lastSeenAt: now, samples: [] };
          if (!tracks.set(site, key, t)) return [];
        } else if (at >= t.lastT) {
          if (t.value !== v) t.changedAt = at;
          t.value = v;
          t.lastT = at;
          t.lastSeenAt = now;
        } else if (at > t.changedAt && v !== t.value) {
          // An older reading, out of order, shows the value moved after the change we knew of: not frozen since then.
          t.changedAt = at;
        }
        if (c.mode === 'stuck') return [stuckSignal(t, now)];
        insertByTime(t.samples, { t: at, v });
        const newest = t.samples[t.samples.length - 1];
        if (newest === undefined) return [];
        while (t.samples.length > 2 && (t.samples[0]?.t ?? 0) < newest.t - c.window) t.samples.shift();
        if (t.samples.length > MAX_SAMPLES) t.samples.splice(1, t.samples.length - MAX_SAMPLES);
        const first = t.samples[0];
        if (first === undefined || newest.t - first.t < c.window / 2) return [];
        // The rate over the window that ends at the newest reading, whichever reading just arrived.
        const rate = ((newest.v - first.v) / (newest.t - first.t)) * 60_000;
        const active = (c.maxPerMin !== undefined && rate > c.maxPerMin) || (c.minPerMin !== undefined && rate < c.minPerMin);
        return [{ site, instance, active, value: rate, labels: t.labels, summary: render(template, { ...t.labels, site, value: fmt(rate) }) }];
      },
      tick(now: number): RuleSignal[] {
        return c.mode === 'stuck' ? [...tracks.values()].map((t) => stuckSignal(t, now)) : [];
      },
      snapshot: () => [],
      restore: () => undefined,
      seriesRefused: () => tracks.refused,
    };
  },
};
