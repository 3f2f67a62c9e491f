import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../config.ts';
import { runUsersCommand } from '../cli/cli-users.ts';
import { AccountStore, accountsPath, csrfMatches } from './accounts.ts';
import type { FastifyRequest } from 'fastify';
import { sessionsConfigSchema } from './session-config.ts';
import { LoginThrottle, SessionAuth } from './sessions.ts';

const LOW = { N: 1024, r: 8, p: 1 };
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ioc-accounts-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('accounts', () => {
  it('hashes passwords with scrypt, checks them, and refuses disabled users', async () => {
    const store = AccountStore.open(join(tmp(), 'accounts.db'), { scrypt: LOW });
    const u = await store.addUser({ name: 'an', displayName: 'Nguyễn Văn An', role: 'technician', password: 'mat-khau-dai-1' });
    expect(u).toMatchObject({ name: 'an', displayName: 'Nguyễn Văn An', role: 'technician', disabled: false });
    expect(await store.verifyPassword('an', 'mat-khau-dai-1')).toMatchObject({ name: 'an' });
    expect(await store.verifyPassword('an', 'wrong-password')).toBeUndefined();
    expect(await store.verifyPassword('nobody', 'mat-khau-dai-1')).toBeUndefined();
    await expect(store.addUser({ name: 'an', role: 'technician', password: 'mat-khau-dai-1' })).rejects.toThrow(/user an exists/);
    await expect(store.addUser({ name: 'b', role: 'boss', password: 'mat-khau-dai-1' })).rejects.toThrow(/role/);
    await expect(store.addUser({ name: 'c', role: 'admin', password: 'short' })).rejects.toThrow(/at least 10/);
    await expect(store.addUser({ name: 'Has Space', role: 'admin', password: 'mat-khau-dai-1' })).rejects.toThrow(/a login/);
    store.setDisabled('an', true);
    expect(await store.verifyPassword('an', 'mat-khau-dai-1')).toBeUndefined();
    store.close();
  });

  it('sessions end when idle, at their absolute limit, on logout, on disable and on a new password', async () => {
    let now = 1_000_000;
    const store = AccountStore.open(join(tmp(), 'accounts.db'), { scrypt: LOW, now: () => now });
    await store.addUser({ name: 'an', role: 'technician', password: 'mat-khau-dai-1' });
    const limits = { idleMs: 60_000, absoluteMs: 300_000 };
    const a = store.createSession('an');
    expect(store.session(a.token, limits)).toMatchObject({ user: { name: 'an' }, csrf: a.csrf });
    expect(store.session('not-a-token', limits)).toBeUndefined();
    now += 59_000;
    expect(store.session(a.token, limits)).toBeDefined(); // used: idle time starts again
    now += 59_000;
    expect(store.session(a.token, limits)).toBeDefined();
    now += 61_000;
    expect(store.session(a.token, limits)).toBeUndefined(); // idle
    const b = store.createSession('an');
    for (let i = 0; i < 6; i++) {
      now += 50_000;
      store.session(b.token, limits);
    }
    expect(store.session(b.token, limits)).toBeUndefined(); // absolute, though used
    const c = store.createSession('an');
    store.endSession(c.token);
    expect(store.session(c.token, limits)).toBeUndefined();
    const d = store.createSession('an');
    store.setDisabled('an', true);
    expect(store.session(d.token, limits)).toBeUndefined();
    store.setDisabled('an', false);
    const e = store.createSession('an');
    await store.setPassword('an', 'mat-khau-moi-22');
    expect(store.session(e.token, limits)).toBeUndefined();
    expect(await store.verifyPassword('an', 'mat-khau-moi-22')).toBeDefined();
    store.close();
  });

  it('the CLI and a running hub share the file: a user added or disabled by one is seen by the other at once', async () => {
    const dir = tmp();
    const config = parseHubConfig({ registry: { path: join(dir, 'registry.json') } });
    expect(accountsPath(config)).toBe(join(dir, 'accounts.db'));
    const hub = AccountStore.open(accountsPath(config)); // what the running hub holds open
    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), who: 'test', stdin: async () => 'mat-khau-dai-1\n' };
    expect(await runUsersCommand('users add', config, { name: 'an', role: 'technician', 'display-name': 'Nguyễn Văn An', 'password-stdin': true }, io)).toBe(0);
    expect(out.join('')).not.toContain('password:'); // given on stdin: not printed
    expect(await hub.verifyPassword('an', 'mat-khau-dai-1')).toMatchObject({ displayName: 'Nguyễn Văn An' });
    const s = hub.createSession('an');
    expect(await runUsersCommand('users disable', config, { name: 'an' }, io)).toBe(0);
    expect(hub.session(s.token, { idleMs: 60_000, absoluteMs: 60_000 })).toBeUndefined();
    out.length = 0;
    expect(await runUsersCommand('users add', config, { name: 'binh', role: 'operator' }, { stdout: (t: string) => out.push(t), who: 'test' })).toBe(0);
    const made = /password: (\S+)/.exec(out.join(''))?.[1] ?? '';
    expect(made.length).toBeGreaterThanOrEqual(16);
    expect(await hub.verifyPassword('binh', made)).toMatchObject({ role: 'operator' });
    out.length = 0;
    await runUsersCommand('users list', config, {}, io);
    expect(out.join('')).toBe('an\ttechnician\tdisabled\tNguyễn Văn An\nbinh\toperator\tenabled\tbinh\n');
    hub.close();
  });

  it('compares CSRF tokens exactly', () => {
    expect(csrfMatches('abc', 'abc')).toBe(true);
    expect(csrfMatches('abd', 'abc')).toBe(false);
    expect(csrfMatches('ab', 'abc')).toBe(false);
    expect(csrfMatches(undefined, 'abc')).toBe(false);
  });
});

describe('the login throttle', () => {
  it('refuses a user + address past its failures for the rest of the window, others go on; bounded', () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, maxEntries: 100 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(t.blocked('an', '10.0.0.1')).toBe(0);
      t.failed('an', '10.0.0.1');
    }
    expect(t.blocked('an', '10.0.0.1')).toBe(60);
    expect(t.blocked('an', '10.0.0.2')).toBe(0); // another address
    expect(t.blocked('binh', '10.0.0.1')).toBe(0); // another user
    expect(t.stats).toMatchObject({ failures: 3, throttled: 1 });
    now += 60_000;
    expect(t.blocked('an', '10.0.0.1')).toBe(0);
    for (let i = 0; i < 150; i++) t.failed(`u${i}`, '10.0.0.9');
    expect(t.size).toBe(100);
    expect(t.stats.forgotten).toBe(50);
  });
});

describe('roles and the anonymous wall', () => {
  const req = (method: string, headers: Record<string, string> = {}): FastifyRequest => ({ method, headers }) as unknown as FastifyRequest;

  it('anonymous visitors read the wall only, never write, and nothing when the wall is not anonymous', async () => {
    const store = AccountStore.open(join(tmp(), 'accounts.db'), { scrypt: LOW });
    const open = new SessionAuth(store, sessionsConfigSchema.parse({}), true);
    expect(open.check(req('GET'), 'wall:read')).toMatchObject({ ok: true, principal: { kind: 'anonymous', role: 'wall' } });
    expect(open.check(req('POST'), 'wall:read')).toMatchObject({ ok: false, status: 401 });
    for (const scope of ['sites:read', 'alerts:read', 'alerts:write', 'audit:read'] as const) expect(open.check(req('GET'), scope)).toMatchObject({ ok: false, status: 401 });
    const closed = new SessionAuth(store, sessionsConfigSchema.parse({}), false);
    expect(closed.check(req('GET'), 'wall:read')).toMatchObject({ ok: false, status: 401 });
    store.close();
  });

  it('a technician may acknowledge but not read the audit log; an operator may', async () => {
    const store = AccountStore.open(join(tmp(), 'accounts.db'), { scrypt: LOW });
    await store.addUser({ name: 'an', role: 'technician', password: 'mat-khau-dai-1' });
    await store.addUser({ name: 'binh', role: 'operator', password: 'mat-khau-dai-1' });
    const auth = new SessionAuth(store, sessionsConfigSchema.parse({}), true);
    const as = (user: string, method: string) => {
      const s = store.createSession(user);
      return req(method, { cookie: `other=1; ioc_session=${s.token}`, 'x-csrf-token': s.csrf });
    };
    expect(auth.check(as('an', 'POST'), 'alerts:write')).toMatchObject({ ok: true, principal: { kind: 'user', name: 'an', role: 'technician' } });
    expect(auth.check(as('an', 'GET'), 'audit:read')).toMatchObject({ ok: false, status: 403 });
    expect(auth.check(as('binh', 'GET'), 'audit:read')).toMatchObject({ ok: true });
    store.close();
  });
});
