// Logins of people (the console): the config of sessions and cookies, the login throttle per user + address, and
// the check that turns a request's session cookie into a principal (CSRF token required on every write).
import type { FastifyRequest } from 'fastify';
import type { SessionsConfig } from './session-config.ts';
import { csrfMatches, ROLE_SCOPES, type AccountStore, type Role, type SessionLimits, type User } from './accounts.ts';
import type { ApiScope } from './service-accounts.ts';

export type { ConsoleConfig, SessionsConfig } from './session-config.ts';

export const SESSION_COOKIE = 'ioc_session';
export const CSRF_HEADER = 'x-csrf-token';

/** `users:write`: people's logins, for an admin's session only (never a service token). */
export type ConsoleScope = ApiScope | 'wall:read' | 'users:write';

/** Who a request acts as: a service account (bearer token), a logged-in person, or an anonymous visitor. */
export interface ApiPrincipal {
  kind: 'service' | 'user' | 'anonymous';
  /** The service account's or the user's login; `anonymous`. */
  name: string;
  /** What the audit log and an acknowledgement record: the user's full name, the service's name. */
  displayName: string;
  role?: Role | 'wall';
}

export function roleAllows(role: Role | 'wall', scope: ConsoleScope): boolean {
  return ROLE_SCOPES[role].includes(scope);
}

export interface LoginThrottleStats {
  failures: number;
  throttled: number;
  forgotten: number;
}

/** Failed logins per user + address in a fixed window; bounded in entries (oldest forgotten first, counted). */
export class LoginThrottle {
  private readonly entries = new Map<string, { since: number; failures: number }>();
  readonly stats: LoginThrottleStats = { failures: 0, throttled: 0, forgotten: 0 };

  constructor(
    private readonly opts: { maxFailures: number; windowMs: number; maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait when this pair is past its failures, else 0 (a refusal is counted). */
  blocked(user: string, ip: string): number {
    const e = this.entries.get(`${user}\n${ip}`);
    if (e === undefined) return 0;
    const left = e.since + this.opts.windowMs - this.now();
    if (left <= 0) {
      this.entries.delete(`${user}\n${ip}`);
      return 0;
    }
    if (e.failures < this.opts.maxFailures) return 0;
    this.stats.throttled++;
    return Math.ceil(left / 1000);
  }

  failed(user: string, ip: string): void {
    this.stats.failures++;
    const key = `${user}\n${ip}`;
    const t = this.now();
    const e = this.entries.get(key);
    if (e !== undefined && t - e.since < this.opts.windowMs) {
      e.failures++;
      return;
    }
    this.entries.delete(key);
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
      this.stats.forgotten++;
    }
    this.entries.set(key, { since: t, failures: 1 });
  }

  succeeded(user: string, ip: string): void {
    this.entries.delete(`${user}\n${ip}`);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The session cookie of a request (read from the header, so it works with or without @fastify/cookie). */
export function sessionToken(req: FastifyRequest): string | undefined {
  const fromPlugin = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[SESSION_COOKIE];
  if (fromPlugin !== undefined) return fromPlugin;
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export type SessionCheck =
  | { ok: true; principal: ApiPrincipal; user?: User }
  | { ok: false; status: 401 | 403; code: 'E_AUTH' | 'E_CSRF'; error: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Sessions of people, for the API's access check. */
export class SessionAuth {
  readonly limits: SessionLimits;

  constructor(
    readonly store: AccountStore,
    readonly config: SessionsConfig,
    readonly anonymousWall: boolean,
  ) {
    this.limits = { idleMs: config.idle, absoluteMs: config.absolute };
  }

  /**
   * The principal of a request without a bearer token: its session (a write must carry the session's CSRF token in
   * `x-csrf-token`), or an anonymous visitor. Undefined: neither is allowed the scope.
   */
  check(req: FastifyRequest, scope: ConsoleScope): SessionCheck {
    const token = sessionToken(req);
    const session = token === undefined ? undefined : this.store.session(token, this.limits);
    if (session === undefined) {
      if (this.anonymousWall && roleAllows('wall', scope) && SAFE_METHODS.has(req.method)) return { ok: true, principal: { kind: 'anonymous', name: 'anonymous', displayName: 'anonymous', role: 'wall' } };
      return { ok: false, status: 401, code: 'E_AUTH', error: token === undefined ? 'not logged in' : 'the session has ended: log in again' };
    }
    const { user } = session;
    if (!roleAllows(user.role, scope)) return { ok: false, status: 403, code: 'E_AUTH', error: `the role ${user.role} may not do this (${scope})` };
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (!csrfMatches(typeof sent === 'string' ? sent : undefined, session.csrf)) return { ok: false, status: 403, code: 'E_CSRF', error: `a write needs the session's CSRF token in ${CSRF_HEADER}` };
    }
    return { ok: true, principal: { kind: 'user', name: user.name, displayName: user.displayName, role: user.role }, user };
  }

  /** Whether the cookie of this request should carry `Secure`. */
  secure(req: FastifyRequest): boolean {
    return this.config.secureCookies === 'always' || (this.config.secureCookies === 'auto' && req.protocol === 'https');
  }
}
