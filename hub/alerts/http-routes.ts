// HTTP API of the alert engine: list (paginated), incidents with their parts, acknowledge, silence. Reads need
// `alerts:read` (or `alerts:write`), writes `alerts:write`, from a service token or a person's session (whose
// writes carry its CSRF token); every write is appended to the audit log before the answer. A silence that names
// a site, area or rule that does not exist is refused (it would silence nothing).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AuditLog } from '../auth/audit-log.ts';
import { errorMessage } from '../errors.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { AlertError } from './errors.ts';
import type { AlertEngine } from './engine.ts';
import { checkSilenceTargets, incidentsOf, ruleNamesOf, type IncidentRules, type SilenceCatalog } from './incidents.ts';
import type { RulesFile } from './rules-file.ts';

export interface AlertRoutesDeps {
  engine: AlertEngine;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
  /** Page size of GET /api/alerts when no `limit` is given, and the largest `limit` accepted. */
  pageSize?: number;
  maxPageSize?: number;
  /** The rules (silence validation, incidents' parts); none: rules are not checked, incidents have no parts. */
  rules?: Pick<RulesFile, 'rules' | 'storm'>;
  incidentRules?: IncidentRules;
  /** The registry's sites and their areas (silence validation); none: not checked. */
  sites?: () => readonly { slug: string; area: string }[];
}

/** How the audit log names who acted: `service:NAME`, `user:LOGIN`. */
const auditWho = (p: ApiPrincipal): string => `${p.kind === 'user' ? 'user' : 'service'}:${p.name}`;

const STATUS: Readonly<Record<string, number>> = { E_ALERT_NOT_FOUND: 404, E_SILENCE_NOT_FOUND: 404, E_ALERT_STATE: 409, E_ALERT_INPUT: 400 };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function alertRoutes(deps: AlertRoutesDeps) {
  const maxPage = deps.maxPageSize ?? 500;
  const defaultPage = Math.min(deps.pageSize ?? 100, maxPage);
  const log = deps.logger.child({ component: 'alert-api' });
  const incidentRules: IncidentRules = deps.incidentRules ?? { composites: new Map(), siteDown: new Set() };
  /** What exists now: the registry's sites and areas, the rules and the rule names of the alerts open now. */
  const catalog = (): SilenceCatalog => {
    const sites = deps.sites?.();
    return {
      ...(sites === undefined ? {} : { sites: new Set(sites.map((s) => s.slug)), areas: new Set(sites.map((s) => s.area).filter((a) => a !== '')) }),
      ...(deps.rules === undefined ? {} : { rules: ruleNamesOf(deps.rules, deps.engine.list().map((a) => a.rule)) }),
    };
  };
  return async function register(app: FastifyInstance): Promise<void> {
    const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
      if (err instanceof AlertError) return reply.code(STATUS[err.code] ?? 400).send({ code: err.code, error: err.message });
      throw err;
    };
    /** The write is done: record it. A failed audit write is logged and counted, the answer stands. */
    const audit = async (who: ApiPrincipal, action: string, target: string, detail?: Record<string, unknown>): Promise<void> => {
      try {
        await deps.audit.append({ who: auditWho(who), action, target, ...(detail === undefined ? {} : { detail }) });
      } catch (err: unknown) {
        log.error({ action, target, err: errorMessage(err) }, 'audit entry not written');
      }
    };

    app.get('/api/alerts', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'alerts:read')) === undefined) return reply;
      const q = (req.query ?? {}) as Record<string, unknown>;
      const state = str(q.state);
      const site = str(q.site);
      const cursor = str(q.cursor);
      const rawLimit = str(q.limit);
      const limit = rawLimit === undefined ? defaultPage : Number(rawLimit);
      if (!Number.isInteger(limit) || limit < 1 || limit > maxPage) return reply.code(400).send({ code: 'E_ALERT_INPUT', error: `limit: an integer from 1 to ${maxPage}` });
      try {
        return deps.engine.page({ ...(state === undefined ? {} : { state }), ...(site === undefined ? {} : { site }), includeResolved: q.resolved === 'true', limit, ...(cursor === undefined ? {} : { cursor }) });
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    // One row per incident with its parts (open alerts; with ?resolved=true the recent history too).
    app.get('/api/incidents', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'alerts:read')) === undefined) return reply;
      const q = (req.query ?? {}) as Record<string, unknown>;
      const all = deps.engine.list({ includeResolved: q.resolved === 'true' }).filter((a) => a.state !== 'pending');
      return { incidents: incidentsOf(all, incidentRules).slice(0, maxPage) };
    });

    // What a silence may name: the rules (sites and areas come from GET /api/sites).
    app.get('/api/alert-rules', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'alerts:read')) === undefined) return reply;
      return { rules: [...(catalog().rules ?? [])].sort() };
    });

    app.get('/api/alerts/:id', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'alerts:read')) === undefined) return reply;
      const { id } = req.params as { id: string };
      const a = deps.engine.get(id);
      return a === undefined ? reply.code(404).send({ code: 'E_ALERT_NOT_FOUND', error: `no alert ${id}` }) : a;
    });

    app.post('/api/alerts/:id/ack', async (req, reply) => {
      const account = await deps.auth.require(req, reply, 'alerts:write');
      if (account === undefined) return reply;
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      // A service (Node-RED) acknowledges for the technician it names; the audit keeps both. A person acknowledges
      // as themself: a `by` in the body is ignored.
      const by = account.kind === 'user' ? account.displayName : (str(body.by)?.slice(0, 128) ?? account.name);
      try {
        const alert = deps.engine.ack(id, by);
        await audit(account, 'alert.ack', id, { by, site: alert.site, rule: alert.rule });
        return { alert };
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.get('/api/silences', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'alerts:read')) === undefined) return reply;
      return { silences: deps.engine.listSilences() };
    });

    app.post('/api/silences', async (req, reply) => {
      const account = await deps.auth.require(req, reply, 'alerts:write');
      if (account === undefined) return reply;
      try {
        // The author is the login; a `createdBy` in the body is ignored.
        checkSilenceTargets(req.body, catalog());
        const silence = deps.engine.addSilence(req.body ?? {}, account.kind === 'user' ? account.displayName : account.name);
        await audit(account, 'silence.create', silence.id, { ...silence });
        return reply.code(201).send({ silence });
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });

    app.delete('/api/silences/:id', async (req, reply) => {
      const account = await deps.auth.require(req, reply, 'alerts:write');
      if (account === undefined) return reply;
      const { id } = req.params as { id: string };
      try {
        deps.engine.deleteSilence(id);
        await audit(account, 'silence.delete', id);
        return reply.code(204).send();
      } catch (err: unknown) {
        return fail(reply, err);
      }
    });
  };
}
