// In-memory state of every agent seen since start: status (online, version, bootId…), last contact, clock offset.
import type { Status } from '../../protocol/index.ts';
import { DeliveryTable } from './delivery.ts';

export interface AgentState {
  site: string;
  agent: string;
  /** From the agent's status (retained message or last will). */
  online: boolean;
  /** An MQTT connection for this agent is open now. */
  connected: boolean;
  /** Hub time of the last message, epoch ms. */
  lastSeen: number | null;
  version: string | null;
  bootId: string | null;
  configRev: string | number | null;
  clockSynced: boolean | null;
  /** Hub receive time − batch.sentAt of the latest batch. */
  clockOffsetMs: number | null;
}

/** What the accept path refused or held of one agent's data, for its site's status (/api/sites). */
export interface AgentProblems {
  /** Points refused by the data contract, by reason (contract.ts). */
  refusedPoints: Record<string, number>;
  /** Readings refused for their time: the agent's clock is wrong (or it replays beyond retention). */
  clock: { futurePoints: number; pastPoints: number; lastAt: number; lastMinT: number; lastMaxT: number } | null;
  /** Budget hits by budget (rate_held, rate_refused, series, spool_refused). */
  budgetHits: Record<string, number>;
  /** Points of this agent's batches that InfluxDB refused after they were acknowledged (an alarm). */
  influxRejectedPoints: number;
  lastInfluxRejection: { at: number; reason: string } | null;
}

/** A clock problem is shown this long after the last refused reading. */
export const CLOCK_PROBLEM_SHOWN_MS = 10 * 60_000;

export interface ClockOffsetPolicy {
  /** Write again when the offset moved by at least this much. */
  minChangeMs: number;
  /** …or when this long passed since the last write. */
  maxIntervalMs: number;
}

/** A status applied or a connection opened or closed (the registry keeps the agents' reports and last seen). */
export type AgentStateEvent =
  | { kind: 'status'; site: string; agent: string; status: Status; at: number }
  | { kind: 'connection'; site: string; agent: string; connected: boolean; at: number };

export class AgentStateTable {
  private readonly states = new Map<string, AgentState>();
  private readonly listeners: ((event: AgentStateEvent) => void)[] = [];

  /** Called after each status and connection change. */
  onEvent(listener: (event: AgentStateEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(event: AgentStateEvent): void {
    for (const listener of this.listeners) listener(event);
  }
  private readonly offsetWrittenAt = new Map<string, { at: number; value: number }>();
  /** Live vs late points, backlog and completeness per agent (the `delivery` measurement, /api/sites). */
  readonly delivery = new DeliveryTable();
  private readonly problems = new Map<string, AgentProblems>();

  constructor(private readonly offsetPolicy: ClockOffsetPolicy = { minChangeMs: 1000, maxIntervalMs: 60_000 }) {}

  private entry(site: string, agent: string): AgentState {
    const key = `${site}/${agent}`;
    let state = this.states.get(key);
    if (state === undefined) {
      state = { site, agent, online: false, connected: false, lastSeen: null, version: null, bootId: null, configRev: null, clockSynced: null, clockOffsetMs: null };
      this.states.set(key, state);
    }
    return state;
  }

  applyStatus(site: string, agent: string, status: Status, receivedAt: number): void {
    const s = this.entry(site, agent);
    s.online = status.online;
    s.lastSeen = receivedAt;
    s.version = status.version;
    s.bootId = status.bootId;
    s.configRev = status.configRev;
    s.clockSynced = status.clockSynced;
    this.emit({ kind: 'status', site, agent, status, at: receivedAt });
  }

  touch(site: string, agent: string, at: number): void {
    this.entry(site, agent).lastSeen = at;
  }

  setConnected(site: string, agent: string, connected: boolean, at: number): void {
    const s = this.entry(site, agent);
    s.connected = connected;
    s.lastSeen = at;
    this.emit({ kind: 'connection', site, agent, connected, at });
  }

  /** Records the offset; true when it should be written now (changed enough, or not written for a while). */
  recordClockOffset(site: string, agent: string, offsetMs: number, now: number): boolean {
    this.entry(site, agent).clockOffsetMs = offsetMs;
    const key = `${site}/${agent}`;
    const last = this.offsetWrittenAt.get(key);
    const due = last === undefined || Math.abs(offsetMs - last.value) >= this.offsetPolicy.minChangeMs || now - last.at >= this.offsetPolicy.maxIntervalMs;
    if (due) this.offsetWrittenAt.set(key, { at: now, value: offsetMs });
    return due;
  }

  private problemsEntry(site: string, agent: string): AgentProblems {
    const key = `${site}/${agent}`;
    let p = this.problems.get(key);
    if (p === undefined) {
      p = { refusedPoints: {}, clock: null, budgetHits: {}, influxRejectedPoints: 0, lastInfluxRejection: null };
      this.problems.set(key, p);
    }
    return p;
  }

  recordRefused(site: string, agent: string, refused: ReadonlyMap<string, number>, clock: { future: number; past: number; minT: number; maxT: number } | undefined, now: number): void {
    if (refused.size === 0) return;
    const p = this.problemsEntry(site, agent);
    for (const [reason, n] of refused) p.refusedPoints[reason] = (p.refusedPoints[reason] ?? 0) + n;
    if (clock !== undefined) {
      const c = (p.clock ??= { futurePoints: 0, pastPoints: 0, lastAt: now, lastMinT: clock.minT, lastMaxT: clock.maxT });
      c.futurePoints += clock.future;
      c.pastPoints += clock.past;
      c.lastAt = now;
      c.lastMinT = clock.minT;
      c.lastMaxT = clock.maxT;
    }
  }

  recordBudgetHit(site: string, agent: string, budget: string, n = 1): void {
    const p = this.problemsEntry(site, agent);
    p.budgetHits[budget] = (p.budgetHits[budget] ?? 0) + n;
  }

  recordInfluxRejected(site: string, agent: string, points: number, reason: string, now: number): void {
    const p = this.problemsEntry(site, agent);
    p.influxRejectedPoints += points;
    p.lastInfluxRejection = { at: now, reason };
  }

  problemsOf(site: string, agent: string): AgentProblems | undefined {
    const p = this.problems.get(`${site}/${agent}`);
    return p === undefined ? undefined : structuredClone(p);
  }

  /** Agents with readings refused for their time within CLOCK_PROBLEM_SHOWN_MS. */
  clockProblemCount(now: number): number {
    let n = 0;
    for (const p of this.problems.values()) if (p.clock !== null && now - p.clock.lastAt <= CLOCK_PROBLEM_SHOWN_MS) n++;
    return n;
  }

  get(site: string, agent: string): AgentState | undefined {
    const s = this.states.get(`${site}/${agent}`);
    return s === undefined ? undefined : { ...s };
  }

  list(): AgentState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  onlineCount(): number {
    let n = 0;
    for (const s of this.states.values()) if (s.online) n++;
    return n;
  }
}
