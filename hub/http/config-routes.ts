// HTTP API of remote configuration (agents/config-store.ts): reads need `config:read`, writes `config:write`, from
// a service token or an operator's/admin's session (writes carry its CSRF token). A set or rollback is stored as a
// revision with who and when, appended to the audit log, and delivered by the running hub (config-delivery.ts). A
// config that would not validate on an agent is refused (422) naming the agent and the field; nothing is stored.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { formatScope, lineDiff, parseScope, type ConfigStore } from '../agents/config-store.ts';
import { HubError, errorMessage } from '../errors.ts';

export interface ConfigRoutesDeps {
  store: ConfigStore;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
}

const auditWho = (p: ApiPrincipal): string => `${p.kind === 'user' ? 'user' : 'service'}:${p.name}`;

const STATUS: Readonly<Record<string, number>> = { E_CONFIG_INVALID: 422, E_CONFIG_SCOPE: 400, E_REGISTRY_LOCKED: 503 };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

export function configRoutes(deps: ConfigRoutesDeps) {
  const log = deps.logger.child({ component: 'config-api' });
  return async function register(app: FastifyInstance): Promise<void> {
    const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
      if (err instanceof HubError && STATUS[err.code] !== undefined) return reply.code(STATUS[err.code] ?? 400).send({ code: err.code, error: err.message });
      throw err;
    };
    const audit = async (who: ApiPrincipal, action: string, target: string, detail: Record<string, unknown>): Promise<void> => {
      try {
        await deps.audit.append({ who: auditWho(who), action, target, detail });
      } catch (err: unknown) {
        log.error({ action, target, err: errorMessage(err) }, 'audit entry not written');
      }
    };

    app.get('/api/config/agents', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'config:read')) === undefined) return reply;
      return { agents: deps.store.states() };
    });

    app.get('/api/config/agents/:site/:agent', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'config:read')) === undefined) return reply;
      const { site, agent } = req.params as { site: string; agent: string };
      const state = deps.store.states().find((s) => s.site === site && s.agent === agent);
      if (state === undefined) return reply.code(404).send({ code: 'E_CONFIG_SCOPE', error: `${site}/${agent} has no config from the hub` });
      return { ...state, config: deps.store.rendered(site, agent, state.rev), events: deps.store.events({ site, agent, limit: 50 }) };
    });

    app.get('/api/config/revisions', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'config:read')) === undefined) return reply;
      const q = (req.query ?? {}) as Record<string, unknown>;
      try {
        const scope = str(q.scope);
        return { revisions: deps.store.revisions(scope === undefined ? undefined : parseScope(scope), Math.min(int(q.limit) ?? 50, 500)) };
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.get('/api/config/diff', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'config:read')) === undefined) return reply;
      const q = (req.query ?? {}) as Record<string, unknown>;
      const [site = '', agent = ''] = (str(q.agent) ?? '').split('/');
      const from = int(q.from);
      const to = int(q.to);
      const a = from === undefined ? '' : (deps.store.rendered(site, agent, from) ?? '');
      const b = deps.store.rendered(site, agent, to);
      if (b === undefined) return reply.code(404).send({ code: 'E_CONFIG_SCOPE', error: `no config of ${site}/${agent} at ${to === undefined ? 'its desired revision' : `revision ${to}`}` });
      return { diff: lineDiff(a, b) };
    });

    app.post('/api/config/revisions', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'config:write');
      if (who === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      try {
        const scope = parseScope(str(body.scope) ?? '');
        const template = typeof body.template === 'string' ? body.template : '';
        const comment = str(body.comment)?.slice(0, 500);
        const r = deps.store.set({ scope, template, who: auditWho(who), ...(comment === undefined ? {} : { comment }) });
        await audit(who, 'config.set', formatScope(scope), { rev: r.rev, agents: r.agents.length, ...(comment === undefined ? {} : { comment }) });
        return await reply.code(201).send({ rev: r.rev, agents: r.agents.map((a) => `${a.site}/${a.agent}`) });
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.post('/api/config/rollback', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'config:write');
      if (who === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      try {
        const scope = parseScope(str(body.scope) ?? '');
        const to = int(body.to);
        const comment = str(body.comment)?.slice(0, 500);
        const r = deps.store.rollback({ scope, who: auditWho(who), ...(to === undefined ? {} : { to }), ...(comment === undefined ? {} : { comment }) });
        await audit(who, 'config.rollback', formatScope(scope), { rev: r.rev, to: r.from, agents: r.agents.length, ...(comment === undefined ? {} : { comment }) });
        return await reply.code(201).send({ rev: r.rev, from: r.from, agents: r.agents.map((a) => `${a.site}/${a.agent}`) });
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });
  };
}
