// Live updates of the web console: GET /api/events, server-sent events (a raw reply, `text/event-stream`). Events are
// invalidations — "refetch this" with the hub's revision and time, never the data itself — so that a reconnecting
// client misses nothing it cannot fetch again:
//   hello      on every (re)connect: { bootId, rev, asOf, heartbeatMs, resync } (resync: refetch everything)
//   sites      agents connected / disconnected / changed status, or points written: { rev, at, sites? } (the slugs
//              changed, or `all: true` past 100), at most one a second
//   alerts     the alert engine announced, acknowledged or resolved an alert, or a silence changed: { rev, at } (one
//              per tick of the event loop); only to sessions and services that may read alerts
//   heartbeat  every console.eventHeartbeat: { rev, asOf, bootId } (a new bootId: the hub restarted)
//   bye        the hub ends the stream: { reason: 'stopping' | 'max-age' }
// Every event's id is `bootId.rev`: a client reconnecting with `Last-Event-ID` (or `?lastEventId=`) of this boot gets
// again each kind it missed; of another boot, `hello.resync`. Bounded: console.maxEventStreams streams (503 past it),
// console.eventBufferBytes waiting per stream (a client that does not read is dropped), all counted in /metrics.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AgentStateEvent } from '../agents/agent-state.ts';
import type { AlertChange } from '../alerts/alert-changes.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { ConsoleConfig } from '../auth/session-config.ts';
import { roleAllows, type ApiPrincipal } from '../auth/sessions.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import type { HubPoint } from '../write/sink.ts';

export type LiveEventKind = 'sites' | 'alerts';

export interface EventRoutesDeps {
  auth: ApiAuth;
  console: Pick<ConsoleConfig, 'maxEventStreams' | 'eventHeartbeat' | 'eventBufferBytes' | 'eventStreamMaxAge'>;
  agentState: { onEvent(listener: (event: AgentStateEvent) => void): void };
  alertChanges: { on(listener: (change: AlertChange) => void): void };
  /** Registers a listener of the points written (the hub's onWritten). */
  onWritten: (listener: (points: readonly HubPoint[]) => void) => void;
  metrics?: HubMetrics;
  logger: Logger;
  now?: () => number;
}

/** At most one `sites` event this often. */
export const SITES_EVENT_INTERVAL_MS = 1000;
/** A `sites` event names at most this many slugs; past it, `all: true`. */
const MAX_SLUGS = 100;
/** The reconnect delay EventSource is told (`retry:`). */
const RETRY_MS = 2000;

interface Stream {
  res: ServerResponse;
  alerts: boolean;
  maxAge: NodeJS.Timeout;
}

/** `bootId.rev` of a Last-Event-ID, or undefined when it is not one. */
export function parseEventId(text: string | undefined): { bootId: string; rev: number } | undefined {
  const m = /^([A-Za-z0-9-]{1,64})\.(\d{1,15})$/.exec(text ?? '');
  if (m === null) return undefined;
  return { bootId: m[1] ?? '', rev: Number(m[2]) };
}

/** One SSE frame. The data is JSON: no newline inside it. */
export function sseFrame(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class EventStreams {
  readonly bootId = randomUUID().slice(0, 8);
  private rev = 0;
  private readonly lastRevOf: Record<LiveEventKind, number> = { sites: 0, alerts: 0 };
  private readonly streams = new Set<Stream>();
  private readonly now: () => number;
  private readonly log: Logger;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly pendingSites = new Set<string>();
  private pendingAllSites = false;
  private sitesTimer: NodeJS.Timeout | undefined;
  private lastSitesAt = 0;
  private alertsPending = false;
  readonly opened = new Counter('ioc_hub_event_streams_opened_total', 'Live-update streams (GET /api/events) opened');
  readonly refused = new Counter('ioc_hub_event_streams_refused_total', 'Live-update streams refused because console.maxEventStreams were open');
  readonly droppedSlow = new Counter('ioc_hub_event_streams_dropped_slow_total', 'Live-update streams dropped because their client did not read (console.eventBufferBytes waiting)');

  constructor(private readonly deps: EventRoutesDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ component: 'events' });
    deps.agentState.onEvent((e) => this.siteChanged(e.site));
    deps.onWritten((points) => {
      for (const p of points) {
        const site = p.tags.site;
        if (site !== undefined) this.siteChanged(site);
        if (this.pendingAllSites) break;
      }
    });
    deps.alertChanges.on(() => this.alertsChanged());
    const m = deps.metrics;
    if (m !== undefined) {
      m.addGauge({ name: 'ioc_hub_event_streams', help: 'Live-update streams (GET /api/events) open now', read: () => this.streams.size });
      m.addCounter(this.opened);
      m.addCounter(this.refused);
      m.addCounter(this.droppedSlow);
    }
  }

  get size(): number {
    return this.streams.size;
  }

  private get id(): string {
    return `${this.bootId}.${this.rev}`;
  }

  private siteChanged(site: string): void {
    if (this.closed) return;
    if (!this.pendingAllSites) {
      this.pendingSites.add(site);
      if (this.pendingSites.size > MAX_SLUGS) {
        this.pendingAllSites = true;
        this.pendingSites.clear();
      }
    }
    if (this.sitesTimer !== undefined) return;
    const wait = Math.max(0, this.lastSitesAt + SITES_EVENT_INTERVAL_MS - this.now());
    this.sitesTimer = setTimeout(() => this.flushSites(), wait);
    this.sitesTimer.unref();
  }

  private flushSites(): void {
    // A timer may fire a millisecond early by the wall clock: the interval holds by the clock the events carry.
    const early = this.lastSitesAt + SITES_EVENT_INTERVAL_MS - this.now();
    if (early > 0) {
      this.sitesTimer = setTimeout(() => this.flushSites(), early);
      this.sitesTimer.unref();
      return;
    }
    this.sitesTimer = undefined;
    this.lastSitesAt = this.now();
    const sites = this.pendingAllSites ? { all: true } : { sites: [...this.pendingSites].sort() };
    this.pendingSites.clear();
    this.pendingAllSites = false;
    this.broadcast('sites', sites);
  }

  /** Changes within one turn of the event loop (a slice of alert work) are one event. */
  private alertsChanged(): void {
    if (this.closed || this.alertsPending) return;
    this.alertsPending = true;
    setImmediate(() => {
      this.alertsPending = false;
      this.broadcast('alerts', {});
    });
  }

  private broadcast(kind: LiveEventKind, extra: Record<string, unknown>): void {
    if (this.closed) return;
    this.rev++;
    this.lastRevOf[kind] = this.rev;
    const frame = sseFrame(this.id, kind, { rev: this.rev, at: this.now(), ...extra });
    for (const s of this.streams) if (kind !== 'alerts' || s.alerts) this.write(s, frame);
  }

  private beat(): void {
    const frame = sseFrame(this.id, 'heartbeat', { rev: this.rev, asOf: this.now(), bootId: this.bootId });
    for (const s of this.streams) this.write(s, frame);
  }

  /** Writes, unless the client left this much unread: then its stream is dropped (not buffered without end). */
  private write(s: Stream, frame: string): void {
    if (s.res.writableLength + Buffer.byteLength(frame) > this.deps.console.eventBufferBytes) {
      this.droppedSlow.inc();
      this.log.warn({ waiting: s.res.writableLength, limit: this.deps.console.eventBufferBytes }, 'live-update client too slow: stream dropped');
      this.remove(s);
      s.res.destroy();
      return;
    }
    s.res.write(frame);
  }

  private remove(s: Stream): void {
    if (!this.streams.delete(s)) return;
    clearTimeout(s.maxAge);
    if (this.streams.size === 0 && this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** Ends a stream with a `bye`; a client that does not take it has its socket closed. */
  private end(s: Stream, reason: 'stopping' | 'max-age'): void {
    this.remove(s);
    s.res.end(sseFrame(this.id, 'bye', { reason }));
    if (s.res.writableLength > 0) s.res.destroy();
  }

  /** GET /api/events. */
  async open(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const principal = await this.deps.auth.require(req, reply, 'wall:read');
    if (principal === undefined) return reply;
    const alerts = await this.mayReadAlerts(req, principal);
    if (this.closed) return reply.code(503).send({ code: 'E_STOPPING', error: 'the hub is stopping' });
    if (this.streams.size >= this.deps.console.maxEventStreams) {
      this.refused.inc();
      return reply.code(503).header('retry-after', '10').send({ code: 'E_EVENT_STREAMS', error: `${this.deps.console.maxEventStreams} live-update streams are open (console.maxEventStreams): try again later` });
    }
    reply.hijack();
    const res = reply.raw;
    res.socket?.setTimeout(0); // the heartbeat keeps it busy; a dead client is found by its buffer
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
    const age = this.deps.console.eventStreamMaxAge;
    const s: Stream = { res, alerts, maxAge: setTimeout(() => this.end(s, 'max-age'), age - Math.floor(Math.random() * age * 0.1)) };
    s.maxAge.unref();
    this.streams.add(s);
    this.opened.inc();
    res.on('close', () => this.remove(s));
    res.on('error', () => this.remove(s));
    if (this.heartbeat === undefined) {
      this.heartbeat = setInterval(() => this.beat(), this.deps.console.eventHeartbeat);
      this.heartbeat.unref();
    }
    const query = (req.query ?? {}) as Record<string, unknown>;
    const header = req.headers['last-event-id'];
    const last = typeof header === 'string' ? header : typeof query.lastEventId === 'string' ? query.lastEventId : undefined;
    const seen = parseEventId(last);
    const resync = last !== undefined && (seen === undefined || seen.bootId !== this.bootId || seen.rev > this.rev);
    let first = `retry: ${RETRY_MS}\n\n` + sseFrame(this.id, 'hello', { bootId: this.bootId, rev: this.rev, asOf: this.now(), heartbeatMs: this.deps.console.eventHeartbeat, resync, alerts });
    // Each kind the client missed since its last event of this boot, once.
    if (seen !== undefined && !resync) {
      for (const kind of ['sites', 'alerts'] as const) {
        if ((kind === 'sites' || alerts) && this.lastRevOf[kind] > seen.rev) first += sseFrame(this.id, kind, { rev: this.lastRevOf[kind], at: this.now(), missed: true });
      }
    }
    this.write(s, first);
    return undefined;
  }

  private async mayReadAlerts(req: FastifyRequest, p: ApiPrincipal): Promise<boolean> {
    if (p.kind === 'user') return p.role !== undefined && roleAllows(p.role, 'alerts:read');
    if (p.kind === 'service') return (await this.deps.auth.check(req.headers.authorization, 'alerts:read')).ok;
    return false;
  }

  /** Ends every stream (hub stop): nothing is left for the HTTP server to wait on. */
  close(): void {
    this.closed = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.sitesTimer !== undefined) clearTimeout(this.sitesTimer);
    this.sitesTimer = undefined;
    for (const s of [...this.streams]) this.end(s, 'stopping');
  }
}

export function eventRoutes(deps: EventRoutesDeps) {
  const streams = new EventStreams(deps);
  return async function register(app: FastifyInstance): Promise<void> {
    // preClose runs before the server waits for its connections: an open stream would hold stop() for ever.
    app.addHook('preClose', async () => streams.close());
    app.get('/api/events', (req, reply) => streams.open(req, reply));
  };
}
