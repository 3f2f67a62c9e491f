// Types shared by the alert engine and its rule plugins.
import type { z } from 'zod';
import type { SEVERITIES } from '../../protocol/index.ts';
import type { HubPoint } from '../write/sink.ts';

export type Severity = (typeof SEVERITIES)[number];
export interface Summary {
  vi: string;
  en: string;
}

/** What a rule says about one of its instances (one site, one series) at one moment. */
export interface RuleSignal {
  site: string;
  /** Tells this rule's instances apart within the site (e.g. `agent=pi-1,target=portal`); '' for one per site. */
  instance: string;
  active: boolean;
  value?: number;
  /** Extra labels (tags of the series: agent, target, area, province…). */
  labels: Record<string, string>;
  /** Human text while active. */
  summary: Summary;
}

/** Settings every rule has, whatever its type (see rules/base.ts). */
export interface RuleCommon {
  name: string;
  type: string;
  severity: Severity;
  /** Condition must hold this long before the alert fires (pending meanwhile). */
  forMs: number;
  /** Flap damping: condition must stay clear this long before the alert resolves. */
  clearForMs: number;
  /** Only evaluated while the site's office is open (queue rules). */
  officeHoursOnly: boolean;
  /** Raise one province-level incident when this fails at many sites at once (alias of groupBy: [province]). */
  group: 'province' | undefined;
  /** Labels (or alternatives `a|b`) whose shared values make this rule's alerts one incident (grouping.ts). */
  groupBy?: readonly string[];
  /** Sites a group of this rule needs to form. */
  groupMin?: number;
  /** This rule's group wait, ms (default storm.groupWait). */
  groupWaitMs?: number;
  /** Labels every alert of this rule carries (e.g. cause). */
  labels?: Readonly<Record<string, string>>;
  /** True for the rule that says a site's agent is offline: it inhibits the site's other alerts. */
  marksSiteDown: boolean;
  /** Memory bounds: series remembered per site, and in total. */
  maxSeriesPerSite: number;
  maxSeries: number;
}

export interface RuleInstance extends RuleCommon {
  /** Called with every stored point (after ingest). */
  onPoint(point: HubPoint, now: number): RuleSignal[];
  /** Called periodically: time-based conditions (absence, staleness). */
  tick(now: number): RuleSignal[];
  /** Rule memory worth keeping over a restart (last seen times…). */
  snapshot(): unknown;
  /** `now` is the hub's start: staleness clocks restart there rather than firing at once. */
  restore(data: unknown, now: number): void;
  /** New series this rule refused to remember (its per-site or total memory bound was reached). */
  seriesRefused?(): number;
}

export interface RulePlugin<S extends z.ZodType = z.ZodType> {
  type: string;
  /** zod schema of one rule of this type, defaults included. */
  configSchema: S;
  create(config: z.output<S>): RuleInstance;
}
