import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { BrokerGuard, type BrokerGuardOptions } from './broker-guard.ts';
import { AuthRefusedError, CONNACK, type BrokerPolicyHooks } from './broker-hooks.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';

const OPTS: BrokerGuardOptions = {
  maxConnections: 100,
  maxConnectionsPerAddress: 100,
  maxPreConnectPacketBytes: 4096,
  maxPacketBytes: 1 << 20,
  authFailures: { burst: 2, perMinute: 6 },
  flapping: { maxConnects: 3, maxTakeovers: 2, windowMs: 10_000, banMs: 5000 },
  takeoverIdleMs: 1000,
};

function setup(opts: Partial<BrokerGuardOptions> = {}) {
  let now = 1_000_000;
  const metrics = new HubMetrics();
  const guard = new BrokerGuard({ ...OPTS, ...opts }, metrics, silentLogger(), () => now);
  let tokenOk = true;
  const inner: BrokerPolicyHooks = {
    authenticate: () => (tokenOk ? Promise.resolve() : Promise.reject(new AuthRefusedError(CONNACK.badUsernameOrPassword, 'wrong'))),
    authorizePublish: () => Promise.resolve('allow'),
    authorizeSubscribe: (_c, sub) => Promise.resolve(sub),
  };
  const policy = guard.wrap(inner);
  const connect = async (id: string, address = '10.0.0.1'): Promise<{ client: Client; socket: EventEmitter; code: number }> => {
    const socket = Object.assign(new EventEmitter(), { remoteAddress: address, destroy: () => undefined });
    guard.admit(socket as unknown as Socket);
    const client = { id, conn: socket, closed: false } as unknown as Client;
    try {
      await policy.authenticate(client, id, Buffer.from('t'));
      guard.onClientRegistered(client);
      return { client, socket, code: 0 };
    } catch (err: unknown) {
      return { client, socket, code: err instanceof AuthRefusedError ? err.returnCode : -1 };
    }
  };
  return {
    guard,
    metrics,
    connect,
    advance: (ms: number) => (now += ms),
    setTokenOk: (ok: boolean) => (tokenOk = ok),
  };
}

describe('BrokerGuard', () => {
  it('refuses past the failed-auth budget of an address and refills it over time', async () => {
    const t = setup();
    t.setTokenOk(false);
    expect((await t.connect('a/b')).code).toBe(CONNACK.badUsernameOrPassword);
    expect((await t.connect('a/b')).code).toBe(CONNACK.badUsernameOrPassword);
    expect((await t.connect('a/b')).code).toBe(CONNACK.serverUnavailable);
    expect((await t.connect('a/b', '10.0.0.2')).code).toBe(CONNACK.badUsernameOrPassword);
    t.advance(10_000); // 6 a minute: one back
    expect((await t.connect('a/b')).code).toBe(CONNACK.badUsernameOrPassword);
    expect(t.metrics.connRefused.get('auth_rate_limited')).toBe(1);
  });

  it('bans a flapping client id for banMs, then lets it in again', async () => {
    const t = setup();
    for (let i = 0; i < 2; i++) {
      const c = await t.connect('a/b');
      expect(c.code).toBe(0);
      c.socket.emit('close');
      t.guard.onClientGone(c.client);
    }
    expect((await t.connect('a/b')).code).toBe(CONNACK.notAuthorized); // the third within the window trips it
    expect(t.guard.bannedCount).toBe(1);
    expect((await t.connect('a/b')).code).toBe(CONNACK.notAuthorized);
    expect((await t.connect('c/d')).code).toBe(0);
    t.advance(5000);
    expect(t.guard.bannedCount).toBe(0);
    expect((await t.connect('a/b')).code).toBe(0);
    expect(t.metrics.flappingBans.get()).toBe(1);
  });

  it('bans sooner for connects that contest a live session', async () => {
    const t = setup({ flapping: { maxConnects: 100, maxTakeovers: 2, windowMs: 10_000, banMs: 5000 } });
    expect((await t.connect('a/b')).code).toBe(0); // live, never silent (fake clock)
    expect((await t.connect('a/b')).code).toBe(CONNACK.notAuthorized); // takeover refused
    expect((await t.connect('a/b')).code).toBe(CONNACK.notAuthorized); // the second contest: banned
    expect(t.metrics.takeovers.get('refused')).toBe(1);
    expect(t.metrics.connRefused.get('banned')).toBe(1);
    expect(t.guard.bannedCount).toBe(1);
  });

  it('forgets connects older than the window', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) {
      const c = await t.connect('a/b');
      expect(c.code).toBe(0);
      t.guard.onClientGone(c.client);
      t.advance(6000);
    }
    expect(t.guard.bannedCount).toBe(0);
  });

  it('keeps a live session: refuses its identity while it is active, replaces it once silent', async () => {
    const t = setup({ flapping: { maxConnects: 100, maxTakeovers: 100, windowMs: 10_000, banMs: 5000 } });
    const live = await t.connect('a/b');
    expect(live.code).toBe(0);
    t.guard.inspect(live.socket as unknown as Socket);
    t.advance(500);
    live.socket.emit('data', Buffer.from([0xc0, 0x00])); // PINGREQ
    expect((await t.connect('a/b')).code).toBe(CONNACK.notAuthorized);
    t.advance(1000);
    expect((await t.connect('a/b')).code).toBe(0);
    expect([t.metrics.takeovers.get('refused'), t.metrics.takeovers.get('allowed')]).toEqual([1, 1]);
  });

  it('caps connections per address and in all at accept', () => {
    const t = setup({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const sock = (address: string) => Object.assign(new EventEmitter(), { remoteAddress: address, destroy: () => undefined }) as unknown as Socket;
    const a1 = sock('10.0.0.1');
    expect([t.guard.admit(a1), t.guard.admit(sock('10.0.0.1')), t.guard.admit(sock('10.0.0.1'))]).toEqual([true, true, false]);
    expect([t.guard.admit(sock('10.0.0.2')), t.guard.admit(sock('10.0.0.3'))]).toEqual([true, false]);
    a1.emit('close');
    expect(t.guard.admit(sock('10.0.0.3'))).toBe(true);
    expect([t.metrics.connRefused.get('max_per_address'), t.metrics.connRefused.get('max_connections')]).toEqual([1, 1]);
  });
});
