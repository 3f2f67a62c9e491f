// HTTP API of the alert engine: list, acknowledge, silence. Writes need a service account with `alerts:write`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AlertError } from './errors.ts';
import type { AlertEngine } from './engine.ts';
import type { ServiceAccount, ServiceAccounts } from './service-accounts.ts';

export interface AlertRoutesDeps {
  engine: AlertEngine;
  accounts: ServiceAccounts;
}

const STATUS: Readonly<Record<string, number>> = { E_ALERT_NOT_FOUND: 404, E_SILENCE_NOT_FOUND: 404, E_ALERT_STATE: 409, E_ALERT_INPUT: 400 };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function alertRoutes(deps: AlertRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const writer = async (req: FastifyRequest, reply: FastifyReply): Promise<ServiceAccount | undefined> => {
      const account = await deps.accounts.authorizeApi(req.headers.authorization, 'alerts:write');
      if (account === undefined) await reply.code(401).send({ code: 'E_AUTH', error: 'a service token with alerts:write is required (Authorization: Bearer NAME:TOKEN)' });
      return account;
    };
    const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
      if (err instanceof AlertError) return reply.code(STATUS[err.code] ?? 400).send({ code: err.code, error: err.message });
      throw err;
    };

    app.get('/api/alerts', async (req) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const state = str(q.state);
      const site = str(q.site);
      return { alerts: deps.engine.list({ ...(state === undefined ? {} : { state }), ...(site === undefined ? {} : { site }), includeResolved: q.resolved === 'true' }) };
    });

    app.get('/api/alerts/:id', async (req, reply) => {
      const { id } = req.params as { id: string };
      const a = deps.engine.get(id);
      return a === undefined ? reply.code(404).send({ code: 'E_ALERT_NOT_FOUND', error: `no alert ${id}` }) : a;
    });

    app.post('/api/alerts/:id/ack', async (req, reply) => {
      const account = await writer(req, reply);
      if (account === undefined) return reply;
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const by = str(body.by)?.slice(0, 128) ?? account.name;
      try {
        return { alert: deps.engine.ack(id, by) };
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.get('/api/silences', async () => ({ silences: deps.engine.listSilences() }));

    app.post('/api/silences', async (req, reply) => {
      const account = await writer(req, reply);
      if (account === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      try {
        return reply.code(201).send({ silence: deps.engine.addSilence({ createdBy: account.name, ...body }) });
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.delete('/api/silences/:id', async (req, reply) => {
      const account = await writer(req, reply);
      if (account === undefined) return reply;
      try {
        deps.engine.deleteSilence((req.params as { id: string }).id);
        return reply.code(204).send();
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });
  };
}
