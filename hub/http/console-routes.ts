// The web console on the HTTP API port: log in / out, the session (with its CSRF token), and the built front end
// (dist/console, made by `npm run build` and by `npm ci`) as static files. Passwords are checked with scrypt;
// failed logins are throttled per user + address and counted in /metrics.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { loginNameSchema, type User } from '../auth/accounts.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { ConsoleConfig } from '../auth/session-config.ts';
import { LoginThrottle, SESSION_COOKIE, sessionToken, type SessionAuth } from '../auth/sessions.ts';
import { errorMessage } from '../errors.ts';
import { Counter, type HubMetrics } from '../metrics.ts';

export interface ConsoleRoutesDeps {
  /** Undefined when accounts.db could not be opened: logins answer 503 with `sessionsError`, the rest is served. */
  sessions: SessionAuth | undefined;
  sessionsError?: string | undefined;
  console: ConsoleConfig;
  audit: AuditLog;
  metrics?: HubMetrics;
  logger: Logger;
  now?: () => number;
}

/** dist/console of this installation: two folders above this file (hub/http/ in a checkout and in the image). */
export function defaultConsoleDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'console');
}

const userView = (u: User) => ({ name: u.name, displayName: u.displayName, role: u.role });

export function consoleRoutes(deps: ConsoleRoutesDeps) {
  const log = deps.logger.child({ component: 'console' });
  return async function register(app: FastifyInstance): Promise<void> {
    if (deps.sessions === undefined) {
      const error = `logins are unavailable: ${deps.sessionsError ?? 'no accounts file'}`;
      log.error({ code: 'E_ACCOUNTS', err: deps.sessionsError }, 'console logins unavailable');
      app.post('/api/login', async (_req, reply) => reply.code(503).send({ code: 'E_ACCOUNTS', error }));
      app.get('/api/session', async () => ({ user: null, anonymousWall: false, error }));
    } else await app.register(sessionRoutes(deps, deps.sessions, log));
    await app.register(staticFiles(deps, log));
  };
}

function sessionRoutes(deps: ConsoleRoutesDeps, sessions: SessionAuth, log: Logger) {
  const s = sessions.config;
  const throttle = new LoginThrottle({ maxFailures: s.loginFailures, windowMs: s.loginWindow, maxEntries: s.maxThrottleEntries }, deps.now);
  const logins = new Counter('ioc_hub_logins_total', 'Console logins by outcome (ok, failed: wrong name or password, throttled: refused unchecked past sessions.loginFailures)', 'outcome');
  const forgotten = new Counter('ioc_hub_login_throttle_forgotten_total', 'User + address pairs the login throttle forgot because it held sessions.maxThrottleEntries');
  if (deps.metrics !== undefined) {
    deps.metrics.addCounter(logins);
    deps.metrics.addCounter(forgotten);
    deps.metrics.addGauge({ name: 'ioc_hub_login_throttle_entries', help: 'User + address pairs with recent failed logins', read: () => throttle.size });
    deps.metrics.addGauge({ name: 'ioc_hub_sessions', help: 'Console sessions in accounts.db (live or not yet pruned)', read: () => sessions.store.sessionCount() });
  }
  const cookieOptions = (req: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict' as const, secure: sessions.secure(req) });

  return async function register(app: FastifyInstance): Promise<void> {
    const prune = setInterval(() => {
      try {
        sessions.store.pruneSessions(sessions.limits);
      } catch (err: unknown) {
        log.warn({ err: errorMessage(err) }, 'sessions not pruned');
      }
    }, 10 * 60_000);
    prune.unref();
    app.addHook('onClose', async () => {
      clearInterval(prune);
      sessions.store.close();
    });

    // JSON only: a cross-site form cannot send it without the browser asking first (CORS), so a login cannot be forged.
    app.post('/api/login', async (req, reply) => {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return reply.code(415).send({ code: 'E_INPUT', error: 'send the login as application/json' });
      const body = (req.body ?? {}) as Record<string, unknown>;
      const username = typeof body.username === 'string' ? body.username.trim().toLowerCase() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      if (!loginNameSchema.safeParse(username).success || password === '') return reply.code(400).send({ code: 'E_INPUT', error: 'username and password are required' });
      const wait = throttle.blocked(username, req.ip);
      if (wait > 0) {
        logins.inc(1, 'throttled');
        forgotten.inc(throttle.stats.forgotten - forgotten.get());
        return reply.code(429).header('retry-after', String(wait)).send({ code: 'E_LOGIN_THROTTLED', error: `too many failed logins: try again in ${Math.ceil(wait / 60)} min` });
      }
      const user = await sessions.store.verifyPassword(username, password);
      if (user === undefined) {
        throttle.failed(username, req.ip);
        forgotten.inc(throttle.stats.forgotten - forgotten.get());
        logins.inc(1, 'failed');
        log.warn({ user: username, ip: req.ip }, 'login refused');
        return reply.code(401).send({ code: 'E_LOGIN', error: 'wrong username or password' });
      }
      throttle.succeeded(username, req.ip);
      logins.inc(1, 'ok');
      const { token, csrf } = sessions.store.createSession(user.name);
      try {
        await deps.audit.append({ who: `user:${user.name}`, action: 'user.login', target: user.name, detail: { ip: req.ip } });
      } catch (err: unknown) {
        log.error({ err: errorMessage(err) }, 'audit entry not written');
      }
      return reply.setCookie(SESSION_COOKIE, token, cookieOptions(req)).send({ user: userView(user), csrf });
    });

    app.post('/api/logout', async (req, reply) => {
      const token = sessionToken(req);
      if (token !== undefined) {
        // Logging out needs the session's CSRF token, like every other write.
        const r = sessions.check(req, 'wall:read');
        if (!r.ok && r.code === 'E_CSRF') return reply.code(403).send({ code: r.code, error: r.error });
        sessions.store.endSession(token);
      }
      return reply.clearCookie(SESSION_COOKIE, cookieOptions(req)).code(204).send();
    });

    /** Who is logged in (and the CSRF token for their writes); 200 with `user: null` when nobody is. */
    app.get('/api/session', async (req, reply) => {
      const token = sessionToken(req);
      const session = token === undefined ? undefined : sessions.store.session(token, sessions.limits);
      void reply.header('cache-control', 'no-store');
      if (session === undefined) return { user: null, anonymousWall: sessions.anonymousWall };
      return { user: userView(session.user), csrf: session.csrf, anonymousWall: sessions.anonymousWall, expiresAt: Math.min(session.lastSeen + sessions.limits.idleMs, session.createdAt + sessions.limits.absoluteMs) };
    });

  };
}

function staticFiles(deps: ConsoleRoutesDeps, log: Logger) {
  return async function register(app: FastifyInstance): Promise<void> {
    if (!deps.console.enabled) return;
    const root = deps.console.dir ?? defaultConsoleDir();
    if (!existsSync(join(root, 'index.html'))) {
      log.warn({ dir: root }, 'console not built: run npm run build');
      app.get('/', async (_req, reply: FastifyReply) => reply.code(503).type('text/plain; charset=utf-8').send(`The console is not built (${root}): run npm run build.\n`));
      return;
    }
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: ['index.html'],
      // Hashed assets may be kept; the pages themselves are asked for again each time.
      setHeaders: (res, path) => {
        res.setHeader('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      },
    });
  };
}
