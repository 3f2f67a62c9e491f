// Replayed readings (a batch's `late`: an agent's backlog after an outage) evaluated as history. Each site being
// replayed has a session: fresh replicas of the rules (their own memory, so the live state never sees a replayed
// reading: live state wins), its own alert table and lifecycle, all on the readings' time. An episode that fired
// there is recorded with its original window (since → endsAt, reading time), marked late, and goes to the history
// outputs only (the resolved history of the API, the `alert` measurement): never to MQTT, so nothing pages.
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import type { HubPoint } from '../write/sink.ts';
import { recordOf, type Alert } from './alert.ts';
import { AlertTable } from './alert-table.ts';
import { Lifecycle } from './lifecycle.ts';
import type { OfficeHours } from './office-hours.ts';
import { SeriesCap } from './series-cap.ts';
import type { RuleInstance, RuleSignal } from './types.ts';

export interface ReplayOptions {
  rules: readonly RuleInstance[];
  officeHours: OfficeHours;
  log: Logger;
  /** Alerts one rule may have open at one site (as live). */
  maxAlertsPerRuleSite: number;
  /** A site's session ends once no replayed reading came for this long (hub clock), ms. */
  idleMs: number;
  /** Sites replayed at once; the readings of more are not evaluated (counted). */
  maxSessions: number;
  /** An episode of the replay, as history. */
  record(rec: AlertRecord): void;
}

interface Session {
  /** Replicas of the rules that have one. */
  rules: RuleInstance[];
  table: AlertTable;
  lifecycle: Lifecycle;
  /** Hub clock of the last replayed reading of the site. */
  lastAt: number;
  /** Newest reading time replayed for the site. */
  lastT: number;
}

export interface ReplayStats {
  /** Replayed readings evaluated as history. */
  points: number;
  /** Episodes recorded (late history rows). */
  episodes: number;
  /** Replayed readings not evaluated: maxSessions sites were being replayed. */
  refused: number;
  /** Sites being replayed now. */
  sessions: number;
}

export class ReplayHistory {
  private readonly sessions = new Map<string, Session>();
  private points = 0;
  private episodes = 0;
  private refused = 0;

  constructor(private readonly opts: ReplayOptions) {}

  stats(): ReplayStats {
    return { points: this.points, episodes: this.episodes, refused: this.refused, sessions: this.sessions.size };
  }

  /** One replayed reading, evaluated at its own time in its site's session. */
  onPoint(p: HubPoint, now: number): void {
    const site = p.tags.site;
    if (site === undefined) return;
    const s = this.session(site, now);
    if (s === undefined) {
      this.refused++;
      return;
    }
    this.points++;
    const at = p.timestamp;
    s.lastAt = now;
    s.lastT = Math.max(s.lastT, at);
    for (const r of s.rules) {
      let signals: RuleSignal[];
      try {
        signals = r.onPoint(p, at);
      } catch (err: unknown) {
        this.opts.log.error({ rule: r.name, err: errorMessage(err) }, 'rule failed on a replayed point');
        continue;
      }
      for (const sig of signals) s.lifecycle.fromRule(r, sig, at);
    }
    if (s.table.size === 0) return;
    for (const a of s.table.snapshot()) {
      s.lifecycle.advance(a, at, 0);
      if (a.state === 'resolved' && s.table.holds(a)) {
        s.table.drop(a);
        this.record(a, a.clearSince ?? at);
      }
    }
  }

  /**
   * Ends the sessions idle for `idleMs`: an episode still firing there is recorded up to the site's newest replayed
   * reading (what follows is the live stream's: if the condition still holds, live readings raise it as current).
   */
  tick(now: number): void {
    for (const [site, s] of this.sessions) {
      if (now - s.lastAt < this.opts.idleMs) continue;
      this.sessions.delete(site);
      for (const a of s.table.values()) if (a.state !== 'pending') this.record(a, a.active ? s.lastT : (a.clearSince ?? s.lastT));
    }
  }

  private session(site: string, now: number): Session | undefined {
    const had = this.sessions.get(site);
    if (had !== undefined) return had;
    if (this.sessions.size >= this.opts.maxSessions) {
      // Make room from an idle one first: a burst of replays must not hold the bound with finished sessions.
      this.tick(now);
      if (this.sessions.size >= this.opts.maxSessions) return undefined;
    }
    const table = new AlertTable();
    const cap = new SeriesCap(table, { cap: this.opts.maxAlertsPerRuleSite, clearMs: Number.MAX_SAFE_INTEGER, log: this.opts.log });
    const rules: RuleInstance[] = [];
    for (const r of this.opts.rules) {
      const replica = r.replica?.();
      if (replica !== undefined) rules.push(replica);
    }
    const s: Session = { rules, table, lifecycle: new Lifecycle({ table, cap, officeHours: this.opts.officeHours, holdMsOf: () => 0 }), lastAt: now, lastT: 0 };
    this.sessions.set(site, s);
    return s;
  }

  private record(a: Alert, endsAt: number): void {
    this.episodes++;
    this.opts.record({ ...recordOf(a), state: 'resolved', updatedAt: endsAt, late: true, endsAt });
  }
}
