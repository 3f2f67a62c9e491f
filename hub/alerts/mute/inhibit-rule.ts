// Inhibition as Alertmanager has it: while an alert matching `source` is active, alerts matching `target` that
// share the values of the `equal` labels are muted. The active sources are counted per equal-values as they come
// and go (an index of the alert table), so a check is one map lookup, whatever the number of alerts.
import { labelOf, type Alert } from '../alert.ts';
import { bump, type AlertIndex, type AlertTable } from '../alert-table.ts';
import type { MuteReason, Muter } from './muter.ts';

export interface InhibitRuleSpec {
  reason: MuteReason;
  source(a: Alert): boolean;
  target(a: Alert): boolean;
  /** Labels (or `site`, `rule`) whose values source and target share. */
  equal: readonly string[];
}

/** An agent that is offline mutes the other alerts of its site; derived alerts (incidents) are not muted by it. */
export const SITE_OFFLINE: InhibitRuleSpec = {
  reason: 'site-offline',
  source: (a) => a.marksSiteDown,
  target: (a) => !a.derived && !a.marksSiteDown,
  equal: ['site'],
};

export class InhibitRule implements Muter, AlertIndex {
  /** Active source alerts per equal-values. */
  private readonly sources = new Map<string, number>();

  constructor(
    private readonly spec: InhibitRuleSpec,
    table: AlertTable,
  ) {
    table.addIndex(this);
  }

  track(a: Alert, by: 1 | -1): void {
    if (a.active && this.spec.source(a)) bump(this.sources, this.keyOf(a), by);
  }

  mutes(a: Alert): MuteReason | undefined {
    return this.spec.target(a) && this.sources.has(this.keyOf(a)) ? this.spec.reason : undefined;
  }

  /** Is a source active for these equal-label values (e.g. `{site}`: is the site's agent down)? */
  sourceActive(values: Readonly<Record<string, string>>): boolean {
    return this.sources.has(this.keyOf({ site: values.site ?? '', rule: values.rule ?? '', labels: values }));
  }

  private keyOf(a: Pick<Alert, 'site' | 'rule' | 'labels'>): string {
    const { equal } = this.spec;
    if (equal.length === 1) return labelOf(a, equal[0] ?? '') ?? '';
    return JSON.stringify(equal.map((l) => labelOf(a, l) ?? null));
  }
}
