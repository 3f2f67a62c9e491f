// One alert as the engine holds it (a rule + site + series), what a signal says about it, and its public record.
import { createHash } from 'node:crypto';
import type { AlertPart, AlertRecord } from '../../protocol/index.ts';
import type { Severity, Summary } from './types.ts';

export type AlertState = AlertRecord['state'];

export interface Alert {
  key: string;
  id: string;
  rule: string;
  site: string;
  instance: string;
  severity: Severity;
  state: AlertState;
  since: number;
  firingAt?: number;
  updatedAt: number;
  value?: number;
  summary: Summary;
  labels: Record<string, string>;
  ackedBy?: string;
  /** Condition holds now. */
  active: boolean;
  /** Condition has been clear since (flap damping). */
  clearSince?: number;
  /** Published to the outputs (notifications follow). */
  announced: boolean;
  forMs: number;
  clearForMs: number;
  /** Held back until then to see whether it is part of a storm or a composite. */
  holdMs: number;
  marksSiteDown: boolean;
  /** A province incident or a composite, derived from other alerts (not from points). */
  derived: boolean;
  /** For a `too-many-series` alert: the rule it stands for. */
  overflowOf?: string;
  /** For an incident: its members as last derived (grouping.ts, self-check.ts). */
  parts?: AlertPart[];
}

/** What one evaluation says about one alert: the condition and everything needed to open it. */
export type AlertSignal = Pick<Alert, 'rule' | 'site' | 'instance' | 'severity' | 'active' | 'value' | 'labels' | 'summary' | 'forMs' | 'clearForMs' | 'holdMs' | 'marksSiteDown' | 'derived'>;

/** The dedup key: one alert per rule + site + series. */
export function alertKey(rule: string, site: string, instance: string): string {
  return `${rule}|${site}|${instance}`;
}

/** A new alert's id: stable part from its key, then its start (a later alert of the same series has another id). */
export function newAlertId(rule: string, key: string, now: number): string {
  return `${rule}-${createHash('sha1').update(key).digest('hex').slice(0, 8)}-${now.toString(36)}`;
}

/** The part of an alert that is published (MQTT, InfluxDB, API). */
export function recordOf(a: Alert): AlertRecord {
  return {
    id: a.id,
    site: a.site,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    since: a.since,
    updatedAt: a.updatedAt,
    ...(a.value === undefined ? {} : { value: a.value }),
    summary: a.summary,
    labels: a.labels,
    ...(a.ackedBy === undefined ? {} : { ackedBy: a.ackedBy }),
    ...(a.parts === undefined ? {} : { parts: a.parts }),
  };
}

/** A label of an alert for matchers: `site` and `rule` are fields of their own, the rest are its labels. */
export function labelOf(a: Pick<Alert, 'site' | 'rule' | 'labels'>, name: string): string | undefined {
  if (name === 'site') return a.site;
  if (name === 'rule') return a.rule;
  return a.labels[name];
}
