// The alert engine's options, outputs and stats (engine.ts): what the hub wires in and reads out.
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import type { GroupingStats } from './grouping.ts';
import type { RulesFile } from './rules-file.ts';
import type { SelfCheckStats } from './self-check.ts';
import type { TcpConnect } from './uplink-probe.ts';

/** Where alert changes go: MQTT (retained record / cleared on resolve) and the `alert` measurement. */
export interface AlertOutputs {
  /** An alert became visible, or changed state (acknowledged) while visible. */
  active(record: AlertRecord): void;
  /** A visible alert resolved. */
  resolved(record: AlertRecord): void;
}

export interface AlertEngineOptions {
  rules: RulesFile;
  outputs: AlertOutputs;
  /** JSON state file; none: state lives in memory only. */
  statePath?: string;
  /** No alert starts firing this long after start (agents are reconnecting). */
  startupGraceMs?: number;
  /** How often time-based conditions are evaluated. */
  evaluateIntervalMs?: number;
  /** Resolved alerts kept for the API. */
  historySize?: number;
  now?: () => number;
  logger?: Logger;
  /** Longest slice of evaluation work before it yields to the event loop, ms. */
  sliceBudgetMs?: number;
  /** Monotonic clock of the slicer (tests: a fake one). */
  sliceClock?: () => number;
  /** Alerts one rule may have open at one site; past it one `too-many-series` alert stands for the rest. */
  maxAlertsPerRuleSite?: number;
  /** The `too-many-series` alert clears once under the cap and no new series was refused for this long. */
  tooManySeriesClearMs?: number;
  /** Active silences kept; more are refused. */
  maxSilences?: number;
  /** Longest a silence may last, ms. */
  maxSilenceMs?: number;
  /** State is written at most this often (and at stop), ms. */
  persistIntervalMs?: number;
  /** Called once the engine has stopped. */
  onStop?: () => void;
  /** The self-check's uplink connect (tests: a fake one); default a TCP connect. */
  uplinkConnect?: TcpConnect;
}

export interface AlertEngineStats {
  /** Incidents formed and standing (grouping.ts). */
  grouping: GroupingStats;
  /** The hub's self-check (mass drops, uplink). */
  selfCheck: SelfCheckStats;
  /** Failed uplink connects per target. */
  uplinkFailures: ReadonlyMap<string, number>;
  /** Alerts in the engine (pending, firing, acknowledged). */
  active: number;
  /** Rule + site pairs over the cap right now. */
  overCap: number;
  /** New series-alerts refused because their rule + site was at the cap, per rule. */
  capped: ReadonlyMap<string, number>;
  /** Longest evaluation slice, ms (wall clock, and CPU time), and slices run. */
  maxSliceMs: number;
  maxSliceCpuMs: number;
  slices: number;
  /** Queued evaluation jobs. */
  queued: number;
  /** Series each rule refused to remember (per-site or per-rule memory bound). */
  seriesRefused: ReadonlyMap<string, number>;
  /** Starts that found the state file corrupt and began afresh. */
  stateFileCorrupt: number;
}
