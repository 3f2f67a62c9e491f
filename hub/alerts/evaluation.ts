// The engine's jobs, one small unit of work per step so that slicer.ts can yield between steps: feeding points to
// the rules (replayed ones to the history sessions of replay.ts), the rules' time-based tick, and the evaluation pass (series alerts move on, derived ones follow them,
// then each change is announced unless muted).
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import type { HubPoint } from '../write/sink.ts';
import type { AlertTable } from './alert-table.ts';
import type { Announcer } from './announcer.ts';
import type { Grouping } from './grouping.ts';
import type { Lifecycle } from './lifecycle.ts';
import { mutedBy, type Muter } from './mute/muter.ts';
import type { ReplayHistory } from './replay.ts';
import type { SeriesCap } from './series-cap.ts';
import type { RuleInstance, RuleSignal } from './types.ts';

export interface EvaluationDeps {
  rules: readonly RuleInstance[];
  table: AlertTable;
  lifecycle: Lifecycle;
  cap: SeriesCap;
  grouping: Grouping;
  muters: readonly Muter[];
  announcer: Announcer;
  /** Replayed (late) readings, evaluated as history on their own time. */
  replay: ReplayHistory;
  log: Logger;
  /** The state file is behind. */
  markDirty(): void;
}

export function* pointsJob(d: EvaluationDeps, points: readonly HubPoint[], now: number): Generator<void> {
  for (const p of points) {
    for (const r of d.rules) {
      let signals: RuleSignal[];
      try {
        signals = r.onPoint(p, now);
      } catch (err: unknown) {
        d.log.error({ rule: r.name, err: errorMessage(err) }, 'rule failed on a point');
        continue;
      }
      for (const s of signals) d.lifecycle.fromRule(r, s, now);
    }
    yield;
  }
}

/** Replayed readings, in reading-time order (a replay interleaves batches), to the history sessions. */
export function* replayJob(d: EvaluationDeps, points: readonly HubPoint[], now: number): Generator<void> {
  const ordered = [...points].sort((a, b) => a.timestamp - b.timestamp);
  for (const p of ordered) {
    d.replay.onPoint(p, now);
    yield;
  }
}

export function* tickJob(d: EvaluationDeps, now: number): Generator<void> {
  d.replay.tick(now);
  for (const r of d.rules) {
    let signals: RuleSignal[];
    try {
      signals = r.tick(now);
    } catch (err: unknown) {
      d.log.error({ rule: r.name, err: errorMessage(err) }, 'rule tick failed');
      continue;
    }
    yield;
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i];
      if (s !== undefined) d.lifecycle.fromRule(r, s, now);
      if (i % 16 === 15) yield;
    }
  }
}

/** One evaluation pass at `now`; no alert fires before `firingFrom` (the startup grace). */
export function* evaluateJob(d: EvaluationDeps, now: number, firingFrom: number): Generator<void> {
  const { table, lifecycle } = d;
  d.cap.check(now);
  for (const a of table.snapshot()) {
    if (!a.derived && table.holds(a) && lifecycle.advance(a, now, firingFrom)) d.markDirty();
    yield;
  }
  d.grouping.derive(now, (s, at) => lifecycle.signal(s, at));
  yield;
  for (const a of table.snapshot()) {
    if (a.derived && table.holds(a) && lifecycle.advance(a, now, firingFrom)) d.markDirty();
  }
  yield;
  for (const a of table.snapshot()) {
    yield;
    if (!table.holds(a)) continue;
    if (a.state === 'resolved') {
      table.drop(a);
      d.markDirty();
      d.announcer.resolved(a);
    } else if (a.state !== 'pending' && !a.announced && mutedBy(d.muters, a, now) === undefined) {
      d.announcer.announce(a);
      d.markDirty();
    }
  }
}
