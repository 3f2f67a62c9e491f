// The life of one alert: opened pending by an active signal, firing once the condition held `for` (never during the
// startup grace), resolved once it stayed clear `clearFor` (flap damping); a pending alert whose condition clears
// is dropped. Acknowledgement is the API's (engine.ack); what is announced is the muters' and the engine's.
import { alertKey, newAlertId, type Alert, type AlertSignal } from './alert.ts';
import type { AlertTable } from './alert-table.ts';
import type { OfficeHours } from './office-hours.ts';
import type { SeriesCap } from './series-cap.ts';
import type { RuleInstance, RuleSignal } from './types.ts';

export interface LifecycleDeps {
  table: AlertTable;
  cap: SeriesCap;
  officeHours: OfficeHours;
  /** How long an alert of this rule waits to see whether it is part of a storm or a composite, ms. */
  holdMsOf(rule: RuleInstance): number;
}

export class Lifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  /** A rule's signal as the engine sees it: an office-hours rule is clear while the office is closed. */
  fromRule(r: RuleInstance, s: RuleSignal, now: number): void {
    const active = s.active && (!r.officeHoursOnly || this.deps.officeHours.isOpen(s.site, now));
    this.signal({ rule: r.name, site: s.site, instance: s.instance, severity: r.severity, active, value: s.value, labels: r.labels === undefined ? s.labels : { ...r.labels, ...s.labels }, summary: s.summary, forMs: r.forMs, clearForMs: r.clearForMs, holdMs: this.deps.holdMsOf(r), marksSiteDown: r.marksSiteDown, derived: false }, now);
  }

  /** Opens the alert of an active signal (pending), or tells an open one whether its condition holds. */
  signal(s: AlertSignal, now: number): void {
    const { table, cap } = this.deps;
    const key = alertKey(s.rule, s.site, s.instance);
    const a = table.get(key);
    if (a === undefined) {
      if (!s.active) return;
      if (!cap.admits(s)) {
        cap.refuse(s, now);
        return;
      }
      table.put({ ...s, key, id: newAlertId(s.rule, key, now), state: 'pending', since: now, updatedAt: now, announced: false });
      return;
    }
    table.setActive(a, s.active);
    if (s.value !== undefined) a.value = s.value;
    if (s.active) {
      a.clearSince = undefined;
      // An incident's labels (`sites`, `agents`, `cause`) follow its members, as its value and summary do.
      a.labels = s.labels;
      a.summary = s.summary;
    } else {
      a.clearSince ??= now;
    }
  }

  /**
   * Moves an alert on at `now`: pending → firing (returns true: the state file is behind), or → resolved once
   * clear for `clearFor` (the engine drops and announces it); a pending alert that cleared is dropped.
   */
  advance(a: Alert, now: number, firingFrom: number): boolean {
    if (a.active) {
      if (a.state === 'pending' && now - a.since >= a.forMs && now >= firingFrom) {
        a.state = 'firing';
        a.firingAt = now;
        a.updatedAt = now;
        return true;
      }
      return false;
    }
    if (a.state === 'pending') {
      this.deps.table.drop(a);
      return false;
    }
    if (now - (a.clearSince ?? now) >= a.clearForMs) {
      a.state = 'resolved';
      a.updatedAt = now;
    }
    return false;
  }
}
