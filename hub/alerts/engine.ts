// The alert engine: stored points → rule signals → one alert per dedup key (lifecycle.ts), grouped into incidents by
// labels and composites (grouping.ts), the hub's own link checked (self-check.ts, uplink-probe.ts), announced unless
// a muter says why not (mute/), kept over restarts (state-store.ts), read by the API (alert-queries.ts,
// http-routes.ts). All work runs time-sliced (slicer.ts).
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import type { HubPoint } from '../write/sink.ts';
import { recordOf, type Alert } from './alert.ts';
import { AlertChanges } from './alert-changes.ts';
import { AlertQueries, type AlertFilter, type AlertPage, type AlertView } from './alert-queries.ts';
import { AlertTable } from './alert-table.ts';
import { Announcer } from './announcer.ts';
import type { AlertEngineOptions, AlertEngineStats } from './engine-options.ts';
import { AlertError } from './errors.ts';
import { evaluateJob, pointsJob, replayJob, tickJob, type EvaluationDeps } from './evaluation.ts';
import { ReplayHistory, type ReplayStats } from './replay.ts';
import { Grouping } from './grouping.ts';
import { Lifecycle } from './lifecycle.ts';
import { compositeMuter, groupedMuter, groupWaitMuter, hubLinkMuter } from './mute/grouping-muters.ts';
import { InhibitRule, SITE_OFFLINE } from './mute/inhibit-rule.ts';
import { maintenanceMuter } from './mute/maintenance-muter.ts';
import { mutedBy, type Muter } from './mute/muter.ts';
import { silenceMuter } from './mute/silence-muter.ts';
import { OfficeHours } from './office-hours.ts';
import { SelfCheck } from './self-check.ts';
import { SeriesCap } from './series-cap.ts';
import { Silences, type Silence } from './silences.ts';
import { Slicer } from './slicer.ts';
import { AlertStateFile, StateSaver, type AlertState } from './state-store.ts';
import type { RuleInstance } from './types.ts';
import { UplinkProbe } from './uplink-probe.ts';

export { TOO_MANY_SERIES } from './series-cap.ts';
export type { AlertPage, AlertView } from './alert-queries.ts';
export type { AlertEngineOptions, AlertEngineStats, AlertOutputs } from './engine-options.ts';

export class AlertEngine {
  /** What the API shows changed (announced, acknowledged, resolved, silences): listeners such as the console's live updates. */
  readonly changes = new AlertChanges();
  private readonly table = new AlertTable();
  private readonly rules: readonly RuleInstance[];
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly cap: SeriesCap;
  private readonly siteOffline: InhibitRule;
  private readonly grouping: Grouping;
  private readonly selfCheck: SelfCheck;
  private readonly uplink: UplinkProbe | undefined;
  private readonly lifecycle: Lifecycle;
  private readonly silences: Silences;
  /** In the order their reasons are reported: silences and maintenance mute derived alerts too, the rest do not. */
  private readonly muters: readonly Muter[];
  private readonly queries: AlertQueries;
  private readonly file: AlertStateFile | undefined;
  private readonly saver: StateSaver | undefined;
  private readonly slicer: Slicer;
  private readonly announcer: Announcer;
  private readonly replay: ReplayHistory;
  private readonly jobs: EvaluationDeps;
  /** The last job queued is an evaluation that has not started: asking again asks for that one. */
  private evaluationAtTail = false;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: AlertEngineOptions) {
    this.rules = opts.rules.rules;
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'alerts' });
    this.cap = new SeriesCap(this.table, { cap: opts.maxAlertsPerRuleSite ?? 50, clearMs: opts.tooManySeriesClearMs ?? 5 * 60_000, log: this.log });
    this.siteOffline = new InhibitRule(SITE_OFFLINE, this.table);
    this.selfCheck = new SelfCheck(opts.rules.selfCheck);
    // A standing incident whose parts changed goes out again (same id and state: the record, not a new notification).
    this.grouping = new Grouping(opts.rules, this.table, { selfCheck: this.selfCheck, republish: (a) => this.announcer.active(a) });
    const up = opts.rules.selfCheck.uplink;
    this.uplink =
      opts.rules.selfCheck.enabled && up.targets.length > 0
        ? new UplinkProbe({ targets: up.targets, intervalMs: up.interval, timeoutMs: up.timeout, onRound: (ok, unreachable) => this.selfCheck.onUplinkRound(ok, unreachable), ...(opts.uplinkConnect === undefined ? {} : { connect: opts.uplinkConnect }) })
        : undefined;
    this.lifecycle = new Lifecycle({ table: this.table, cap: this.cap, officeHours: new OfficeHours(opts.rules.officeHours), holdMsOf: (r) => this.grouping.holdMsOf(r) });
    this.silences = new Silences({ maxSilences: opts.maxSilences ?? 1000, maxSilenceMs: opts.maxSilenceMs ?? 7 * 24 * 3_600_000 });
    this.muters = [silenceMuter(this.silences), maintenanceMuter(opts.rules.maintenance), this.siteOffline, hubLinkMuter(this.selfCheck), groupedMuter(this.grouping, this.table), compositeMuter(this.grouping, this.table), groupWaitMuter];
    this.announcer = new Announcer(this.changes.wrap(opts.outputs), this.log, opts.historySize ?? 500);
    this.replay = new ReplayHistory({
      rules: this.rules,
      officeHours: new OfficeHours(opts.rules.officeHours),
      log: this.log,
      maxAlertsPerRuleSite: opts.maxAlertsPerRuleSite ?? 50,
      idleMs: opts.replayIdleMs ?? 60_000,
      maxSessions: opts.maxReplaySessions ?? 5000,
      record: (rec) => {
        this.announcer.replayed(rec);
        this.markDirty();
      },
    });
    this.jobs = { rules: this.rules, table: this.table, lifecycle: this.lifecycle, cap: this.cap, grouping: this.grouping, muters: this.muters, announcer: this.announcer, replay: this.replay, log: this.log, markDirty: () => this.markDirty() };
    this.queries = new AlertQueries(this.table, () => this.announcer.history, (a, now) => this.view(a, now));
    this.file = opts.statePath === undefined ? undefined : new AlertStateFile(opts.statePath, this.log);
    this.saver = this.file === undefined ? undefined : new StateSaver(this.file, opts.persistIntervalMs ?? 1000, () => this.snapshot(), this.log);
    this.slicer = new Slicer({
      budgetMs: opts.sliceBudgetMs ?? 5,
      ...(opts.sliceClock === undefined ? {} : { clock: opts.sliceClock }),
      onError: (err) => this.log.error({ err: errorMessage(err) }, 'alert evaluation failed'),
    });
  }

  /** Resolves once queued evaluation work is done (tests, and the HTTP API after a write). */
  idle(): Promise<void> {
    return this.slicer.idle();
  }

  stats(): AlertEngineStats {
    const seriesRefused = new Map<string, number>();
    for (const r of this.rules) {
      const n = r.seriesRefused?.() ?? 0;
      if (n > 0) seriesRefused.set(r.name, n);
    }
    const s = this.slicer;
    return { grouping: this.grouping.stats(), selfCheck: this.selfCheck.stats(), uplinkFailures: this.uplink?.failures ?? new Map<string, number>(), active: this.table.size, overCap: this.cap.overCap, capped: this.cap.capped, maxSliceMs: s.maxSliceMs, maxSliceCpuMs: s.maxSliceCpuMs, slices: s.slices, queued: s.pending, seriesRefused, stateFileCorrupt: this.file?.corrupt ?? 0 };
  }

  /** Replayed (late) readings: evaluated as history, episodes recorded, refused (too many sites at once), sites now. */
  replayStats(): ReplayStats {
    return this.replay.stats();
  }

  /** Is the site's agent down (an active alert of a rule that marks sites down)? O(1). */
  siteDown(site: string): boolean {
    return this.siteOffline.sourceActive({ site });
  }

  /** Loads the saved state (alerts, silences, rule memory) and starts the evaluation timer. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    this.startedAt = this.now();
    const saved = await this.file?.load();
    if (saved !== undefined) this.restore(saved);
    // Visible alerts go out again as retained records (the broker's retained store did not survive the restart).
    for (const a of this.table.values()) if (a.announced) this.announcer.active(a);
    const every = this.opts.evaluateIntervalMs ?? 1000;
    if (every > 0) {
      // A tick is skipped while the previous one is still being worked through: work never piles up.
      this.timer = setInterval(() => {
        if (this.slicer.pending === 0) this.tick();
      }, every);
      this.timer.unref();
    }
    this.uplink?.start();
    this.log.info({ alerts: this.table.size, silences: this.silences.all().length, rules: this.rules.length }, 'alert engine started');
  }

  private restore(s: AlertState): void {
    // Pending alerts are re-derived from fresh data: keeping their old start would fire them at once.
    for (const a of s.alerts) {
      if (a.state === 'pending' || a.state === 'resolved') continue;
      this.table.put(a);
      this.cap.restored(a, this.startedAt);
    }
    this.silences.restore(s.silences);
    this.announcer.history = s.history;
    for (const r of this.rules) {
      const data = s.rules[r.name];
      if (data !== undefined) r.restore(data, this.startedAt);
    }
  }

  private snapshot(): AlertState {
    const rules: Record<string, unknown> = {};
    for (const r of this.rules) rules[r.name] = r.snapshot();
    return { version: 1, alerts: this.table.snapshot().filter((a) => a.state !== 'pending'), silences: [...this.silences.all()], history: this.announcer.history, rules };
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.uplink?.stop();
    this.saver?.stop();
    // Queued work is dropped: the state is saved as it is and the next start re-derives from fresh data.
    this.slicer.stop();
    await this.started?.catch(() => undefined);
    this.saver?.persist(true);
    await this.file?.flush();
    this.opts.onStop?.();
  }

  /**
   * Feeds stored points (called by ingest once they are written); the work is time-sliced. The engine's own
   * `alert` points come back this way too: they are its output, not its input (its transitions are its own state).
   * Replayed points (`late`) go to the history sessions (replay.ts), never to the live state.
   */
  onPoints(written: readonly HubPoint[]): void {
    if (this.stopped) return;
    const points = this.splitReplayed(written);
    const input = points.filter((p) => p.measurement !== 'alert');
    if (input.length === 0 && points.length > 0) return;
    this.agentStatus(input);
    this.evaluationAtTail = false;
    this.slicer.enqueue(pointsJob(this.jobs, input, this.now()));
    this.requestEvaluation();
  }

  /** The hub's own `agent` points with `online` (status, last will) tell the self-check of transitions as they arrive. */
  private agentStatus(points: readonly HubPoint[]): void {
    if (!this.selfCheck.enabled) return;
    const now = this.now();
    for (const p of points) {
      const online = p.fields.online;
      const { site, agent } = p.tags;
      if (p.measurement === 'agent' && typeof online === 'boolean' && site !== undefined && agent !== undefined) this.selfCheck.onAgentStatus(site, agent, online, now, p.tags.area ?? p.tags.province);
    }
  }

  /** Time-based evaluation (the timer calls it; tests call it with a fake clock). */
  tick(): void {
    if (this.stopped) return;
    this.evaluationAtTail = false;
    this.slicer.enqueue(tickJob(this.jobs, this.now()));
    this.requestEvaluation();
  }

  /** Queues the replayed points of a write for the history sessions; returns the live ones. */
  private splitReplayed(points: readonly HubPoint[]): readonly HubPoint[] {
    if (!points.some((p) => p.late === true)) return points;
    const late = points.filter((p) => p.late === true && p.measurement !== 'alert');
    if (late.length > 0) this.slicer.enqueue(replayJob(this.jobs, late, this.now()));
    return points.filter((p) => p.late !== true);
  }

  /** One evaluation queued behind the work in hand; asking again before more work is queued asks for the same one. */
  private requestEvaluation(): void {
    if (this.evaluationAtTail) return;
    this.evaluationAtTail = true;
    this.slicer.enqueue(this.evaluateJob());
  }

  private *evaluateJob(): Generator<void> {
    this.evaluationAtTail = false;
    yield* evaluateJob(this.jobs, this.now(), this.startedAt + (this.opts.startupGraceMs ?? 0));
    this.saver?.persist(false);
  }

  private markDirty(): void {
    if (this.saver !== undefined) this.saver.dirty = true;
  }

  // ---- API (http-routes.ts) ----

  private view(a: Alert, now: number): AlertView {
    const by = a.state === 'pending' ? undefined : mutedBy(this.muters, a, now);
    return { ...recordOf(a), announced: a.announced, ...(by === undefined ? {} : { suppressedBy: by }) };
  }

  list(filter: AlertFilter = {}): AlertView[] {
    return this.queries.list(filter, this.now());
  }

  /** One page in a stable order (newest start first, then id): following `nextCursor` gives every alert once. */
  page(q: AlertFilter & { limit: number; cursor?: string }): AlertPage {
    return this.queries.page(q, this.now());
  }

  get(id: string): AlertView | undefined {
    return this.queries.get(id, this.now());
  }

  /** Acknowledges a firing alert: notifications stop escalating; it still resolves by itself. */
  ack(id: string, by: string): AlertRecord {
    const a = this.table.findById(id);
    if (a === undefined) throw new AlertError('E_ALERT_NOT_FOUND', `no active alert ${id}`);
    if (a.state === 'pending') throw new AlertError('E_ALERT_STATE', `alert ${id} is pending, not firing`);
    if (a.state === 'firing') {
      a.state = 'acknowledged';
      a.ackedBy = by;
      a.updatedAt = this.now();
      this.markDirty();
      if (a.announced) this.announcer.active(a);
      this.log.info({ id, by }, 'alert acknowledged');
      this.saver?.persist(false);
    }
    return recordOf(a);
  }

  listSilences(): Silence[] {
    return this.silences.active(this.now());
  }

  /** Adds a silence; `createdBy` is the login that asks (see Silences.add for what is refused). */
  addSilence(input: unknown, createdBy: string): Silence {
    const s = this.silences.add(input, createdBy, this.now());
    this.markDirty();
    this.saver?.persist(false);
    this.changes.emit({ kind: 'silences' });
    return s;
  }

  deleteSilence(id: string): void {
    this.silences.delete(id);
    this.markDirty();
    this.changes.emit({ kind: 'silences' });
    // An alert that was silenced and still fires is announced now (or in the next slices, when there is much to do).
    this.requestEvaluation();
  }
}
