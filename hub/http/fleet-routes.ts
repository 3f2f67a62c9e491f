// The fleet's writes over the API, as `ioc-hub enroll` / `agents rotate` / `agents revoke` do them from the command
// line: enroll an agent (its token answered once, only its HMAC kept), rotate its token, revoke it. Allowed to an
// operator's or admin's console session (with the CSRF token) and to a service account holding `agents:write`;
// each one is recorded in the audit log. They take effect in this hub at once: the registry's change log is applied
// right after the write, so fleet-sync closes a revoked (or rotated) agent's live connection without waiting for a
// poll.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isSlug } from '../../protocol/index.ts';
import type { Registry } from '../agents/registry.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { nearest } from '../alerts/incidents.ts';
import { edgeConfigYaml } from '../cli/edge-config-template.ts';
import { HubError, errorCode, errorMessage } from '../errors.ts';

export interface FleetRoutesDeps {
  registry: Pick<Registry, 'enroll' | 'rotate' | 'revoke' | 'getSite' | 'getAgent' | 'listSites' | 'syncNow'>;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
  /** The hub's MQTT listener, for the agent.yaml answered with a new token. */
  mqtt: { host: string; port: number; tls?: { port: number; caFile?: string | undefined } | undefined };
}

/** How the audit log names who acted: `service:NAME`, `user:LOGIN` (as the alert routes do). */
const auditWho = (p: ApiPrincipal): string => `${p.kind === 'user' ? 'user' : 'service'}:${p.name}`;

const STATUS: Readonly<Record<string, number>> = { E_UNKNOWN_SITE: 400, E_BAD_SLUG: 400, E_UNKNOWN_AGENT: 404 };

/**
 * The MQTT address a Pi should use: the one asked for, else the hub's listener — reached by the name the browser
 * used for the console when the listener is on every interface (0.0.0.0), as the CLI uses 127.0.0.1.
 */
export function agentHubUrl(mqtt: FleetRoutesDeps['mqtt'], requestHost: string, asked?: string): string {
  if (asked !== undefined) return asked;
  const bare = requestHost.replace(/:\d+$/, '');
  const host = mqtt.host === '0.0.0.0' || mqtt.host === '::' ? (bare === '' ? '127.0.0.1' : bare) : mqtt.host;
  return mqtt.tls === undefined ? `mqtt://${host}:${mqtt.port}` : `mqtts://${host}:${mqtt.tls.port}`;
}

const HUB_URL = /^mqtts?:\/\/[^/\s]{1,253}$/;
const HUB_URL_HELP = 'hubUrl: mqtt://host:1883 or mqtts://host:8883 (the address the Pi connects to)';

/** The `hubUrl` of a request body: undefined when not given, false when it is not an MQTT address. */
function askedHubUrl(body: Record<string, unknown>): string | undefined | false {
  const v = body.hubUrl;
  if (v === undefined || v === '') return undefined;
  return typeof v === 'string' && HUB_URL.test(v) ? v : false;
}

export function fleetRoutes(deps: FleetRoutesDeps) {
  const log = deps.logger.child({ component: 'fleet-api' });

  /** Site and agent of a request, or the 400 that names what is wrong (the nearest site of the registry too). */
  const identify = (site: unknown, agent: unknown, mustExist: boolean): { site: string; agent: string } | string => {
    if (typeof site !== 'string' || site === '') return 'site: the site slug is required';
    if (typeof agent !== 'string' || !isSlug(agent)) return `agent: invalid agent id ${JSON.stringify(agent ?? '')}: 1-64 of a-z, 0-9, -`;
    if (deps.registry.getSite(site) === undefined) {
      const near = nearest(site, new Set(deps.registry.listSites().map((s) => s.slug)));
      return `site: unknown site (not in the registry) "${site}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
    }
    if (mustExist && deps.registry.getAgent(site, agent) === undefined) return `${site}/${agent} is not enrolled (or already revoked)`;
    return { site, agent };
  };

  /** 400 for a bad site or agent id, 404 for an agent not enrolled. */
  const refuse = (reply: FastifyReply, error: string): FastifyReply =>
    error.startsWith('site:') || error.startsWith('agent:') ? reply.code(400).send({ code: 'E_INPUT', error }) : reply.code(404).send({ code: 'E_UNKNOWN_AGENT', error });

  const audit = async (who: ApiPrincipal, action: string, target: string, detail?: Record<string, unknown>): Promise<void> => {
    try {
      await deps.audit.append({ who: auditWho(who), action, target, ...(detail === undefined ? {} : { detail }) });
    } catch (err: unknown) {
      log.error({ action, target, err: errorMessage(err) }, 'audit entry not written');
    }
  };

  /** Applied in this hub now (fleet-sync closes connections); a failure is retried by the next poll. */
  const applyNow = async (): Promise<void> => {
    try {
      await deps.registry.syncNow();
    } catch (err: unknown) {
      log.warn({ err: errorMessage(err) }, 'registry change not applied at once: the next poll applies it');
    }
  };

  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    const code = errorCode(err);
    if (err instanceof HubError && code !== undefined && STATUS[code] !== undefined) return reply.code(STATUS[code] ?? 400).send({ code, error: err.message });
    throw err;
  };

  const answerToken = (req: FastifyRequest, reply: FastifyReply, enrolled: { site: string; agent: string; token: string }, asked: string | undefined): Record<string, unknown> => {
    const hubUrl = agentHubUrl(deps.mqtt, req.headers.host ?? '', asked);
    const config = edgeConfigYaml({ ...enrolled, hubUrl, clientCertificate: deps.mqtt.tls?.caFile !== undefined });
    // The token is in this answer and nowhere else: no cache may keep it.
    void reply.header('cache-control', 'no-store');
    return { site: enrolled.site, agent: enrolled.agent, token: enrolled.token, hubUrl, config };
  };

  return async function register(app: FastifyInstance): Promise<void> {
    app.post('/api/agents', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'agents:write');
      if (who === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const asked = askedHubUrl(body);
      if (asked === false) return reply.code(400).send({ code: 'E_INPUT', error: HUB_URL_HELP });
      const id = identify(body.site, body.agent, false);
      if (typeof id === 'string') return refuse(reply, id);
      const again = deps.registry.getAgent(id.site, id.agent) !== undefined;
      let enrolled;
      try {
        enrolled = await deps.registry.enroll(id.site, id.agent);
      } catch (err: unknown) {
        return fail(reply, err);
      }
      await applyNow(); // re-enrolling an enrolled agent is a rotation: its live connection closes
      await audit(who, again ? 'agent.rotate' : 'agent.enroll', `${id.site}/${id.agent}`, { via: 'api' });
      log.info({ agent: `${id.site}/${id.agent}`, by: who.name }, again ? 'agent re-enrolled (token rotated)' : 'agent enrolled');
      return answerToken(req, reply.code(again ? 200 : 201), enrolled, asked);
    });

    app.post('/api/agents/:site/:agent/rotate', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'agents:write');
      if (who === undefined) return reply;
      const p = req.params as { site: string; agent: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const asked = askedHubUrl(body);
      if (asked === false) return reply.code(400).send({ code: 'E_INPUT', error: HUB_URL_HELP });
      const id = identify(p.site, p.agent, true);
      if (typeof id === 'string') return refuse(reply, id);
      let enrolled;
      try {
        enrolled = await deps.registry.rotate(id.site, id.agent);
      } catch (err: unknown) {
        return fail(reply, err);
      }
      await applyNow();
      await audit(who, 'agent.rotate', `${id.site}/${id.agent}`, { via: 'api' });
      log.warn({ agent: `${id.site}/${id.agent}`, by: who.name }, 'agent token rotated');
      return answerToken(req, reply, enrolled, asked);
    });

    app.post('/api/agents/:site/:agent/revoke', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'agents:write');
      if (who === undefined) return reply;
      const p = req.params as { site: string; agent: string };
      const id = identify(p.site, p.agent, true);
      if (typeof id === 'string') return refuse(reply, id);
      try {
        await deps.registry.revoke(id.site, id.agent);
      } catch (err: unknown) {
        return fail(reply, err);
      }
      await applyNow();
      await audit(who, 'agent.revoke', `${id.site}/${id.agent}`, { via: 'api' });
      log.warn({ agent: `${id.site}/${id.agent}`, by: who.name }, 'agent revoked');
      return { site: id.site, agent: id.agent, revoked: true };
    });
  };
}
