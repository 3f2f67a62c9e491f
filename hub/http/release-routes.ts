// Release bundles over HTTP, and the rollout API. An agent fetches `/releases/{version}/manifest.json` and the
// archive beside it with its own credentials (`Authorization: Bearer SITE/AGENT:TOKEN`, checked as its MQTT
// CONNECT is: registry.verify); operators read and drive rollouts on `/api/releases` and `/api/rollouts` with the
// `releases:read` / `releases:write` scopes. Every start and stop is in the audit log.
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from '../agents/registry.ts';
import type { ReleaseStore } from '../agents/release-store.ts';
import type { RolloutRunner } from '../agents/rollouts.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { HubError, errorMessage } from '../errors.ts';
import { Counter, type HubMetrics } from '../metrics.ts';

export interface ReleaseRoutesDeps {
  store: ReleaseStore;
  runner: Pick<RolloutRunner, 'kick'>;
  registry: Pick<Registry, 'verify'>;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
  metrics: Pick<HubMetrics, 'addCounter'>;
}

const AGENT_BEARER = /^Bearer ([a-z0-9-]{1,64})\/([a-z0-9-]{1,64}):(\S{1,1024})$/;


const who = (p: ApiPrincipal): string => `${p.kind === 'user' ? 'user' : 'service'}:${p.name}`;

export function releaseRoutes(deps: ReleaseRoutesDeps): FastifyPluginAsync {
  const log = deps.logger.child({ component: 'releases' });
  const releaseDownloads = new Counter('ioc_hub_release_downloads_total', 'Release files served to agents (manifest, archive) and refusals (unauthorized, missing)', 'result');
  const releaseBytesServed = new Counter('ioc_hub_release_bytes_served_total', 'Bytes of release archives served to agents');
  deps.metrics.addCounter(releaseDownloads);
  deps.metrics.addCounter(releaseBytesServed);
  return async (app) => {
    app.get('/releases/:version/:file', async (req, reply) => {
      const m = AGENT_BEARER.exec(req.headers.authorization ?? '');
      if (m === null || !(await deps.registry.verify(m[1] ?? '', m[2] ?? '', m[3] ?? ''))) {
        releaseDownloads.inc(1, 'unauthorized');
        return reply.code(401).send({ code: 'E_AUTH', error: "an agent's credentials are required (Authorization: Bearer SITE/AGENT:TOKEN)" });
      }
      const { version, file } = req.params as { version: string; file: string };
      const rec = deps.store.getRelease(version);
      if (rec !== undefined && file === 'manifest.json') {
        releaseDownloads.inc(1, 'manifest');
        return reply.type('application/json').send(Buffer.from(rec.manifest, 'utf8'));
      }
      const archive = rec !== undefined && file === rec.archive ? deps.store.archivePath(rec) : undefined;
      if (archive === undefined) {
        releaseDownloads.inc(1, 'missing');
        return reply.code(404).send({ code: 'E_RELEASE', error: `no release file ${version}/${file}` });
      }
      releaseDownloads.inc(1, 'archive');
      releaseBytesServed.inc(archive.size);
      log.info({ site: m[1], agent: m[2], version, bytes: archive.size }, 'release archive served');
      return reply.type('application/gzip').header('content-length', archive.size).send(createReadStream(archive.path));
    });

    app.get('/api/releases', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'releases:read')) === undefined) return reply;
      return { releases: deps.store.listReleases().map((r) => ({ version: r.version, archive: r.archive, size: r.size, sha256: r.sha256, addedAt: new Date(r.addedAt).toISOString(), addedBy: r.addedBy })) };
    });

    app.get('/api/rollouts/current', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'releases:read')) === undefined) return reply;
      const status = deps.store.status();
      if (status === undefined) return reply.code(404).send({ code: 'E_ROLLOUT', error: 'no rollout yet' });
      return status;
    });

    app.post('/api/rollouts', async (req, reply) => {
      const principal = await deps.auth.require(req, reply, 'releases:write');
      if (principal === undefined) return reply;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const version = typeof body.version === 'string' ? body.version : '';
      const canary = Array.isArray(body.canary) ? body.canary.filter((s): s is string => typeof s === 'string') : [];
      const percent = typeof body.percent === 'number' ? body.percent : 100;
      const maxFailures = typeof body.maxFailures === 'number' ? body.maxFailures : 0;
      if (version === '' || !(percent > 0 && percent <= 100) || !Number.isInteger(maxFailures) || maxFailures < 0) {
        return reply.code(400).send({ code: 'E_USAGE', error: 'body: {version, canary?: [site…], percent?: 1–100, maxFailures?: integer ≥ 0}' });
      }
      try {
        const status = deps.store.startRollout({ version, canary, percent, maxFailures, by: who(principal) });
        await appendAudit(deps, log, who(principal), 'release.rollout.start', `rollout ${status.rollout.id}`, { version, canary, percent, maxFailures, agents: status.agents.length });
        deps.runner.kick();
        return reply.code(201).send(status);
      } catch (err: unknown) {
        if (err instanceof HubError) return reply.code(409).send({ code: err.code, error: err.message });
        throw err;
      }
    });

    app.post('/api/rollouts/current/stop', async (req, reply) => {
      const principal = await deps.auth.require(req, reply, 'releases:write');
      if (principal === undefined) return reply;
      const stopped = deps.store.stopRollout(`stopped by ${who(principal)}`);
      if (stopped === undefined) return reply.code(409).send({ code: 'E_ROLLOUT', error: 'no rollout is running' });
      await appendAudit(deps, log, who(principal), 'release.rollout.stop', `rollout ${stopped.id}`, { version: stopped.version });
      return stopped;
    });
  };
}

async function appendAudit(deps: ReleaseRoutesDeps, log: Logger, whom: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
  try {
    await deps.audit.append({ who: whom, action, target, detail });
  } catch (err: unknown) {
    log.error({ action, target, err: errorMessage(err) }, 'audit entry not written');
  }
}
