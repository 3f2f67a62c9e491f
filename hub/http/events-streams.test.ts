// EventStreams without a server: fake requests and responses, fake timers. What the system test cannot time exactly
// (sites at most once a second, one alerts event per tick, the per-stream bound, the cap, close) is held here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentStateEvent } from '../agents/agent-state.ts';
import type { AlertChange } from '../alerts/alert-changes.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { silentLogger } from '../logger.ts';
import type { HubPoint } from '../write/sink.ts';
import { EventStreams } from './events-routes.ts';

class FakeResponse {
  chunks: string[] = [];
  /** What the fake socket has not taken (a client that does not read). */
  writableLength = 0;
  stuck = false;
  ended = false;
  destroyed = false;
  socket = null;
  statusCode = 0;
  writeHead(code: number): void {
    this.statusCode = code;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    if (this.stuck) this.writableLength += Buffer.byteLength(chunk);
    return true;
  }
  end(chunk?: string): void {
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  on(): this {
    return this;
  }
  events(kind: string): Record<string, unknown>[] {
    return this.chunks.join('').split('\n\n').flatMap((f) => {
      const m = new RegExp(`^id: \\S+\\nevent: ${kind}\\ndata: (.*)$`, 'm').exec(f);
      return m === null ? [] : [JSON.parse(m[1] ?? '{}') as Record<string, unknown>];
    });
  }
}

function setup(bufferBytes = 1024, maxStreams = 3) {
  let now = 1_000_000;
  const agentListeners: ((e: AgentStateEvent) => void)[] = [];
  const alertListeners: ((c: AlertChange) => void)[] = [];
  const written: ((p: readonly HubPoint[]) => void)[] = [];
  let principal: ApiPrincipal = { kind: 'user', name: 'an', displayName: 'An', role: 'technician' };
  const auth = { require: async () => principal, check: async () => ({ ok: false }) } as unknown as ApiAuth;
  const streams = new EventStreams({
    auth,
    console: { maxEventStreams: maxStreams, eventHeartbeat: 5000, eventBufferBytes: bufferBytes, eventStreamMaxAge: 600_000 },
    agentState: { onEvent: (l) => agentListeners.push(l) },
    alertChanges: { on: (l) => alertListeners.push(l) },
    onWritten: (l) => written.push(l),
    logger: silentLogger(),
    now: () => now,
  });
  const open = async (as?: ApiPrincipal, headers: Record<string, string> = {}) => {
    if (as !== undefined) principal = as;
    const res = new FakeResponse();
    const sent: { code?: number; body?: unknown } = {};
    const reply = {
      raw: res,
      hijack: () => undefined,
      code(c: number) {
        sent.code = c;
        return this;
      },
      header() {
        return this;
      },
      send(b: unknown) {
        sent.body = b;
        return this;
      },
    };
    await streams.open({ headers, query: {} } as unknown as FastifyRequest, reply as unknown as FastifyReply);
    return { res, sent };
  };
  const site = (s: string) => {
    for (const l of agentListeners) l({ kind: 'connection', site: s, agent: 'pi-1', connected: true, at: now });
  };
  const points = (sites: string[]) => {
    for (const l of written) l(sites.map((s) => ({ measurement: 'net_probe', tags: { site: s }, fields: { up: 1 }, timestamp: now })));
  };
  const alert = () => {
    for (const l of alertListeners) l({ kind: 'silences' });
  };
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  return { streams, open, site, points, alert, advance };
}

describe('EventStreams', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens with the retry hint and hello; sites at most once a second, naming the sites, or all past 100', async () => {
    const t = setup();
    const { res } = await t.open();
    expect(res.statusCode).toBe(200);
    expect(res.chunks.join('')).toMatch(/^retry: 2000\n\nid: [0-9a-f]{8}\.0\nevent: hello\n/);
    t.site('xa-a');
    await t.advance(0);
    expect(res.events('sites')).toEqual([{ rev: 1, at: 1_000_000, sites: ['xa-a'] }]);
    t.points(['xa-b', 'xa-c']);
    t.site('xa-b');
    await t.advance(500);
    expect(res.events('sites')).toHaveLength(1); // held: the last one was 500 ms ago
    await t.advance(500);
    expect(res.events('sites')[1]).toEqual({ rev: 2, at: 1_001_000, sites: ['xa-b', 'xa-c'] });
    t.points(Array.from({ length: 150 }, (_, i) => `xa-${i}`));
    await t.advance(1000);
    expect(res.events('sites')[2]).toEqual({ rev: 3, at: 1_002_000, all: true });
  });

  it('alerts: one event per turn of the loop, only to streams that may read alerts', async () => {
    const t = setup();
    const tech = await t.open();
    const wall = await t.open({ kind: 'anonymous', name: 'anonymous', displayName: 'anonymous', role: 'wall' });
    for (let i = 0; i < 50; i++) t.alert();
    await t.advance(0);
    expect(tech.res.events('alerts')).toHaveLength(1);
    expect(wall.res.events('alerts')).toHaveLength(0);
    expect(wall.res.events('hello')[0]).toMatchObject({ alerts: false });
  });

  it('replays each kind missed since a Last-Event-ID of this boot; another boot: resync', async () => {
    const t = setup();
    const first = await t.open();
    t.alert();
    await t.advance(0);
    t.site('xa-a');
    await t.advance(0);
    const boot = t.streams.bootId;
    const again = await t.open(undefined, { 'last-event-id': `${boot}.1` });
    expect(again.res.events('hello')[0]).toMatchObject({ resync: false, rev: 2 });
    expect(again.res.events('sites')).toEqual([{ rev: 2, at: 1_000_000, missed: true }]);
    expect(again.res.events('alerts')).toEqual([]);
    const other = await t.open(undefined, { 'last-event-id': 'ffffffff.1' });
    expect(other.res.events('hello')[0]).toMatchObject({ resync: true });
    expect(first.res.events('heartbeat')).toEqual([]);
    await t.advance(5000);
    expect(first.res.events('heartbeat')[0]).toMatchObject({ bootId: boot, rev: 2 });
  });

  it('drops a stream whose client leaves eventBufferBytes unread, counted; the others go on', async () => {
    const t = setup(1024);
    const slow = await t.open();
    const fast = await t.open();
    slow.res.stuck = true;
    for (let i = 0; i < 40 && !slow.res.destroyed; i++) {
      t.alert();
      await t.advance(0);
    }
    expect(slow.res.destroyed).toBe(true);
    expect(slow.res.writableLength).toBeLessThanOrEqual(1024);
    expect(t.streams.droppedSlow.get()).toBe(1);
    expect(t.streams.size).toBe(1);
    expect(fast.res.destroyed).toBe(false);
    expect(fast.res.events('alerts').length).toBeGreaterThan(slow.res.events('alerts').length);
  });

  it('refuses past maxEventStreams (503, counted), and close ends every stream with bye', async () => {
    const t = setup(1024, 2);
    const a = await t.open();
    const b = await t.open();
    const c = await t.open();
    expect(c.sent).toMatchObject({ code: 503, body: { code: 'E_EVENT_STREAMS' } });
    expect(t.streams.refused.get()).toBe(1);
    t.streams.close();
    for (const s of [a, b]) {
      expect(s.res.ended).toBe(true);
      expect(s.res.events('bye')).toEqual([{ reason: 'stopping' }]);
    }
    expect(t.streams.size).toBe(0);
    expect((await t.open()).sent).toMatchObject({ code: 503, body: { code: 'E_STOPPING' } });
  });
});
