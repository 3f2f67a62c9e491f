// Alerts per rule + site are capped: past `maxAlertsPerRuleSite` no new series-alert opens, the refusal is counted,
// and one `too-many-series` alert stands for the rest until the rule + site is back under the cap and quiet.
import type { Logger } from 'pino';
import { alertKey, newAlertId, type Alert, type AlertSignal } from './alert.ts';
import { bump, type AlertIndex, type AlertTable } from './alert-table.ts';

/** Rule name of the one alert that stands for a rule + site past `maxAlertsPerRuleSite`. */
export const TOO_MANY_SERIES = 'too-many-series';

interface Overflow {
  rule: string;
  site: string;
  lastRefusedAt: number;
}

export interface SeriesCapOptions {
  /** Alerts one rule may have open at one site. */
  cap: number;
  /** The `too-many-series` alert clears once under the cap and no new series was refused for this long, ms. */
  clearMs: number;
  log: Logger;
}

const overflowKey = (site: string, rule: string): string => alertKey(TOO_MANY_SERIES, site, `rule=${rule}`);

export class SeriesCap implements AlertIndex {
  /** Open series-alerts per `rule|site`. */
  private readonly perRuleSite = new Map<string, number>();
  private readonly overflow = new Map<string, Overflow>();
  /** New series-alerts refused, per rule. */
  readonly capped = new Map<string, number>();

  constructor(
    private readonly table: AlertTable,
    private readonly opts: SeriesCapOptions,
  ) {
    table.addIndex(this);
  }

  /** Rule + site pairs over the cap right now. */
  get overCap(): number {
    return this.overflow.size;
  }

  track(a: Alert, by: 1 | -1): void {
    if (!a.derived && a.overflowOf === undefined) bump(this.perRuleSite, `${a.rule}|${a.site}`, by);
  }

  /** May this signal open a new alert? Derived alerts are not capped. */
  admits(s: Pick<AlertSignal, 'rule' | 'site' | 'derived'>): boolean {
    return s.derived || (this.perRuleSite.get(`${s.rule}|${s.site}`) ?? 0) < this.opts.cap;
  }

  /** A new series-alert past the cap: counted, and one `too-many-series` alert opened for its rule + site. */
  refuse(s: Pick<AlertSignal, 'rule' | 'site' | 'severity' | 'labels'>, now: number): void {
    const { cap } = this.opts;
    bump(this.capped, s.rule, 1);
    const rs = `${s.rule}|${s.site}`;
    const key = overflowKey(s.site, s.rule);
    const o = this.overflow.get(rs);
    if (o !== undefined) {
      o.lastRefusedAt = now;
      const a = this.table.get(key);
      if (a !== undefined) {
        this.table.setActive(a, true);
        a.clearSince = undefined;
      }
      return;
    }
    this.overflow.set(rs, { rule: s.rule, site: s.site, lastRefusedAt: now });
    this.opts.log.warn({ rule: s.rule, site: s.site, cap }, 'too many series alerting for one rule and site');
    if (this.table.has(key)) return;
    const labels: Record<string, string> = { rule: s.rule, limit: String(cap) };
    for (const k of ['agent', 'area', 'province']) {
      const v = s.labels[k];
      if (v !== undefined) labels[k] = v;
    }
    this.table.put({
      key,
      id: newAlertId(TOO_MANY_SERIES, key, now),
      rule: TOO_MANY_SERIES,
      site: s.site,
      instance: `rule=${s.rule}`,
      severity: s.severity,
      state: 'pending',
      since: now,
      updatedAt: now,
      summary: { vi: `Quá nhiều chuỗi dữ liệu cảnh báo ${s.rule} tại ${s.site} (trên ${cap}); các cảnh báo mới của quy tắc này tại đây bị gộp`, en: `Too many series alerting for ${s.rule} at ${s.site} (over ${cap}); new alerts of this rule here are held back` },
      labels,
      active: true,
      announced: false,
      forMs: 0,
      clearForMs: 0,
      holdMs: 0,
      marksSiteDown: false,
      derived: false,
      overflowOf: s.rule,
    });
  }

  /** `too-many-series` alerts clear once their rule + site is under the cap and quiet for a while. */
  check(now: number): void {
    for (const [rs, o] of this.overflow) {
      if ((this.perRuleSite.get(rs) ?? 0) >= this.opts.cap || now - o.lastRefusedAt < this.opts.clearMs) continue;
      this.overflow.delete(rs);
      const a = this.table.get(overflowKey(o.site, o.rule));
      if (a !== undefined) {
        this.table.setActive(a, false);
        a.clearSince ??= now;
      }
    }
  }

  /** A restored `too-many-series` alert: its rule + site counts as over the cap, refused last at the start. */
  restored(a: Alert, startedAt: number): void {
    if (a.overflowOf !== undefined) this.overflow.set(`${a.overflowOf}|${a.site}`, { rule: a.overflowOf, site: a.site, lastRefusedAt: startedAt });
  }
}
