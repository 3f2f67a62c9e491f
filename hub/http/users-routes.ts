// People's logins over the API, as `ioc-hub users add/passwd/list/disable/enable` does them from the command line:
// for an admin's console session only (scope `users:write`, which no role but admin and no service token holds;
// writes need the session's CSRF token), each write recorded in the audit log. A password made up by the hub is
// answered once; only its scrypt hash is kept. The last enabled admin cannot be disabled (nobody could manage the
// logins any more but from the command line).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AccountStore, User } from '../auth/accounts.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { errorCode, errorMessage } from '../errors.ts';

export interface UsersRoutesDeps {
  /** Undefined when accounts.db could not be opened: every route answers 503 with `error`. */
  store: Pick<AccountStore, 'addUser' | 'setPassword' | 'setDisabled' | 'listUsers' | 'user'> | undefined;
  storeError?: string | undefined;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
}

export const userView = (u: User) => ({ name: u.name, displayName: u.displayName, role: u.role, disabled: u.disabled, createdAt: u.createdAt, passwordChangedAt: u.passwordChangedAt });

/** A made-up password (as the CLI makes one): 16 characters of base64url. */
const madePassword = (): string => randomBytes(12).toString('base64url');

export function usersRoutes(deps: UsersRoutesDeps) {
  const log = deps.logger.child({ component: 'users-api' });
  const audit = async (who: ApiPrincipal, action: string, target: string, detail?: Record<string, unknown>): Promise<void> => {
    try {
      await deps.audit.append({ who: `user:${who.name}`, action, target, detail: { via: 'api', ...detail } });
    } catch (err: unknown) {
      log.error({ action, target, err: errorMessage(err) }, 'audit entry not written');
    }
  };

  /** The store's refusals (E_USAGE: a bad name, role or password; E_ACCOUNTS: exists / no such user) as 400 / 404 / 409. */
  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    const code = errorCode(err);
    const message = errorMessage(err);
    if (code === 'E_USAGE') return reply.code(400).send({ code: 'E_INPUT', error: message });
    if (code === 'E_ACCOUNTS' && message.startsWith('no user')) return reply.code(404).send({ code: 'E_NO_USER', error: message.replace(' (see `users list`)', '') });
    if (code === 'E_ACCOUNTS' && message.includes(' exists')) return reply.code(409).send({ code: 'E_USER_EXISTS', error: message.replace(' (use `users passwd` to change the password)', '') });
    throw err;
  };

  return async function register(app: FastifyInstance): Promise<void> {
    const admin = async (req: Parameters<ApiAuth['require']>[0], reply: FastifyReply): Promise<{ who: ApiPrincipal; store: NonNullable<UsersRoutesDeps['store']> } | undefined> => {
      const who = await deps.auth.require(req, reply, 'users:write');
      if (who === undefined) return undefined;
      if (deps.store === undefined) {
        await reply.code(503).send({ code: 'E_ACCOUNTS', error: `logins are unavailable: ${deps.storeError ?? 'no accounts file'}` });
        return undefined;
      }
      return { who, store: deps.store };
    };

    app.get('/api/users', async (req, reply) => {
      const a = await admin(req, reply);
      if (a === undefined) return reply;
      void reply.header('cache-control', 'no-store');
      return { users: a.store.listUsers().map(userView) };
    });

    app.post('/api/users', async (req, reply) => {
      const a = await admin(req, reply);
      if (a === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const given = typeof body.password === 'string' && body.password !== '' ? body.password : undefined;
      const password = given ?? madePassword();
      let user: User;
      try {
        user = await a.store.addUser({
          name: typeof body.name === 'string' ? body.name.trim().toLowerCase() : '',
          role: typeof body.role === 'string' ? body.role : '',
          password,
          ...(typeof body.displayName === 'string' && body.displayName.trim() !== '' ? { displayName: body.displayName } : {}),
        });
      } catch (err: unknown) {
        return fail(reply, err);
      }
      await audit(a.who, 'user.add', user.name, { role: user.role, displayName: user.displayName });
      void reply.header('cache-control', 'no-store');
      return reply.code(201).send({ user: userView(user), ...(given === undefined ? { password } : {}) });
    });

    app.post('/api/users/:name/password', async (req, reply) => {
      const a = await admin(req, reply);
      if (a === undefined) return reply;
      const { name } = req.params as { name: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const given = typeof body.password === 'string' && body.password !== '' ? body.password : undefined;
      const password = given ?? madePassword();
      try {
        await a.store.setPassword(name, password);
      } catch (err: unknown) {
        return fail(reply, err);
      }
      await audit(a.who, 'user.passwd', name);
      void reply.header('cache-control', 'no-store');
      return { user: userView(a.store.user(name)), ...(given === undefined ? { password } : {}) };
    });

    for (const action of ['disable', 'enable'] as const) {
      app.post(`/api/users/:name/${action}`, async (req, reply) => {
        const a = await admin(req, reply);
        if (a === undefined) return reply;
        const { name } = req.params as { name: string };
        const disabled = action === 'disable';
        let target: User;
        try {
          target = a.store.user(name);
        } catch (err: unknown) {
          return fail(reply, err);
        }
        if (disabled && target.role === 'admin' && !target.disabled && a.store.listUsers().filter((u) => u.role === 'admin' && !u.disabled).length <= 1) {
          return reply.code(409).send({ code: 'E_LAST_ADMIN', error: `${name} is the last enabled admin: enable or add another admin first` });
        }
        a.store.setDisabled(name, disabled);
        await audit(a.who, disabled ? 'user.disable' : 'user.enable', name);
        return { user: userView(a.store.user(name)) };
      });
    }
  };
}
