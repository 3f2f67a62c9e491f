// In-memory state of every agent seen since start: status (online, version, bootId…), last contact, clock offset.
import type { Status } from '../protocol/index.ts';
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

export interface ClockOffsetPolicy {
  /** Write again when the offset moved by at least this much. */
  minChangeMs: number;
  /** …or when this long passed since the last write. */
  maxIntervalMs: number;
}

export class AgentStateTable {
  private readonly states = new Map<string, AgentState>();
  private readonly offsetWrittenAt = new Map<string, { at: number; value: number }>();
  /** Live vs late points, backlog and completeness per agent (the `delivery` measurement, /api/sites). */
  readonly delivery = new DeliveryTable();

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
  }

  touch(site: string, agent: string, at: number): void {
    this.entry(site, agent).lastSeen = at;
  }

  setConnected(site: string, agent: string, connected: boolean, at: number): void {
    const s = this.entry(site, agent);
    s.connected = connected;
    s.lastSeen = at;
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
