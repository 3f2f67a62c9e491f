// Live updates from the hub for every console page, over one EventSource on GET /api/events (server-sent events).
//
//   import { live } from './live.ts';
//   live.start();                                  // once per page (idempotent); live.stop() on logout
//   const off = live.on('alerts', (e) => refetchAlerts());   // 'sites' | 'alerts'; returns an unsubscribe
//   live.on('sites', (e) => e.resync || e.all ? refetchAll() : refetch(e.sites ?? []));
//   live.onStatus((s) => { ... });                 // { connected, asOf, lastEventAt, bootId, lostSince }
//
// Events are invalidations: "what you show of X changed at hub time `at`, fetch it again". A callback gets
// `{ kind, rev, at, sites?, all?, resync }`; `resync: true` means the client may have missed changes (the hub
// restarted, or it could not tell what was missed): refetch everything of that kind. `alerts` come only to logins
// that may read alerts. `asOf` is the hub's time of the last event or heartbeat: what is shown is current as of
// then. The status says `connected: false` (lost) when the stream errored, the hub said it is stopping, or nothing,
// not even a heartbeat, came for twice the hub's heartbeat interval; the client then reconnects with exponential
// back-off and full jitter (capped), and tells the hub its last event id so that it gets again what it missed.
// banner.ts shows the "lost the hub — data as of …" banner from this status.

export type LiveKind = 'sites' | 'alerts';

export interface LiveEvent {
  kind: LiveKind;
  rev: number;
  /** The hub's time of the change, epoch ms. */
  at: number;
  /** `sites`: the slugs that changed (absent with `all` or `resync`). */
  sites?: string[];
  all?: boolean;
  /** Changes may have been missed: refetch everything of this kind. */
  resync: boolean;
}

export interface LiveStatus {
  connected: boolean;
  /** Hub time of the last event or heartbeat (null before the first). */
  asOf: number | null;
  /** Browser time when the last event or heartbeat arrived. */
  lastEventAt: number | null;
  /** The hub's boot id (changes when it restarts). */
  bootId: string | null;
  /** Browser time since when the hub is lost (null while connected, or before the first attempt failed). */
  lostSince: number | null;
}

interface Hello {
  bootId: string;
  rev: number;
  asOf: number;
  heartbeatMs: number;
  resync: boolean;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 10_000;

export class Live {
  private es: EventSource | undefined;
  private readonly listeners = new Map<LiveKind, Set<(e: LiveEvent) => void>>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  private readonly state: LiveStatus = { connected: false, asOf: null, lastEventAt: null, bootId: null, lostSince: null };
  private heartbeatMs = 15_000;
  private lastEventId = '';
  private attempt = 0;
  private running = false;
  private retryTimer: number | undefined;
  private watchdog: number | undefined;
  /** Since when the watchdog counts silence: the last word from the hub, or the last connect. */
  private heardAt = 0;

  constructor(private readonly url = '/api/events') {}

  get status(): LiveStatus {
    return { ...this.state };
  }

  on(kind: LiveKind, cb: (e: LiveEvent) => void): () => void {
    let set = this.listeners.get(kind);
    if (set === undefined) this.listeners.set(kind, (set = new Set()));
    set.add(cb);
    return () => set.delete(cb);
  }

  onStatus(cb: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(cb);
    cb(this.status);
    return () => this.statusListeners.delete(cb);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
    this.watchdog = window.setInterval(() => this.check(), 1000);
  }

  stop(): void {
    this.running = false;
    this.es?.close();
    this.es = undefined;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.watchdog);
    this.state.connected = false;
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    const url = this.lastEventId === '' ? this.url : `${this.url}?lastEventId=${encodeURIComponent(this.lastEventId)}`;
    const es = new EventSource(url, { withCredentials: true });
    this.es = es;
    // The silence bound counts from the connect too: a hub that accepts and never answers is lost.
    this.heardAt = Date.now();
    es.addEventListener('hello', (m) => this.hello(m as MessageEvent<string>));
    es.addEventListener('heartbeat', (m) => this.heard(m as MessageEvent<string>));
    for (const kind of ['sites', 'alerts'] as const) es.addEventListener(kind, (m) => this.change(kind, m as MessageEvent<string>));
    es.addEventListener('bye', (m) => {
      const reason = (parse(m as MessageEvent<string>) as { reason?: string } | undefined)?.reason;
      // An old stream ended by the hub on schedule: straight back, not lost. Stopping: lost until it is back.
      if (reason === 'max-age') this.reconnect(0);
      else this.lost();
    });
    es.onerror = () => {
      if (this.es === es) this.lost();
    };
  }

  private hello(m: MessageEvent<string>): void {
    const h = parse(m) as Hello | undefined;
    if (h === undefined) return;
    const restarted = this.state.bootId !== null && this.state.bootId !== h.bootId;
    this.heartbeatMs = h.heartbeatMs;
    this.attempt = 0;
    this.state.bootId = h.bootId;
    this.state.connected = true;
    this.state.lostSince = null;
    this.lastEventId = m.lastEventId;
    this.touch(h.asOf);
    // After a restart (or when the hub cannot tell what was missed) every kind is fetched again.
    if (restarted || h.resync) for (const kind of ['sites', 'alerts'] as const) this.fire({ kind, rev: h.rev, at: h.asOf, resync: true });
  }

  private heard(m: MessageEvent<string>): void {
    const d = parse(m) as { asOf?: number } | undefined;
    this.lastEventId = m.lastEventId;
    this.touch(d?.asOf ?? null);
  }

  private change(kind: LiveKind, m: MessageEvent<string>): void {
    const d = parse(m) as { rev?: number; at?: number; sites?: string[]; all?: boolean; missed?: boolean } | undefined;
    if (d === undefined) return;
    this.lastEventId = m.lastEventId;
    this.touch(d.at ?? null);
    this.fire({ kind, rev: d.rev ?? 0, at: d.at ?? Date.now(), ...(d.sites === undefined ? {} : { sites: d.sites }), ...(d.all === true ? { all: true } : {}), resync: d.missed === true });
  }

  private touch(asOf: number | null): void {
    this.heardAt = Date.now();
    this.state.lastEventAt = this.heardAt;
    if (asOf !== null) this.state.asOf = asOf;
    this.emitStatus();
  }

  private fire(e: LiveEvent): void {
    for (const cb of this.listeners.get(e.kind) ?? []) {
      try {
        cb(e);
      } catch (err: unknown) {
        console.error('live listener failed', err);
      }
    }
  }

  /** Nothing from the hub for two heartbeats: the stream is dead even if the socket is not. */
  private check(): void {
    if (!this.running || this.retryTimer !== undefined) return;
    if (Date.now() - this.heardAt > 2 * this.heartbeatMs) this.lost();
  }

  private lost(): void {
    const was = this.state.connected || this.state.lostSince === null;
    this.state.connected = false;
    this.state.lostSince ??= Date.now();
    if (was) this.emitStatus();
    this.attempt++;
    this.reconnect(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt));
  }

  private reconnect(delayMs: number): void {
    this.es?.close();
    this.es = undefined;
    window.clearTimeout(this.retryTimer);
    if (!this.running) return;
    this.retryTimer = window.setTimeout(() => this.connect(), delayMs);
  }

  private emitStatus(): void {
    const s = this.status;
    for (const cb of this.statusListeners) cb(s);
  }
}

function parse(m: MessageEvent<string>): unknown {
  try {
    return JSON.parse(m.data);
  } catch {
    return undefined;
  }
}

/** The page's one stream. */
export const live = new Live();
