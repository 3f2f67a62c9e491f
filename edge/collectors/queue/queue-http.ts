// The queue's HTTP source: the ticket dispenser / queue software posts events here (fastify; build() apart from listen()).
import { fastify, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../logger.ts';
import { issueLines } from '../../../common/zod-issues.ts';
import { queueEventSchema, type QueueEventInput, type QueueModel, type ApplyResult } from './queue-model.ts';

/** Events in one request body. */
export const MAX_EVENTS_PER_REQUEST = 100;

/** Body of POST /v1/queue/events: one event, or `{events: [...]}`. */
export const queueRequestSchema = z.union([queueEventSchema, z.strictObject({ events: z.array(queueEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) })]);

export interface QueueHttpOptions {
  model: QueueModel;
  /** Called with each applied event (the collector turns them into `queue_event` points). */
  onApplied: (result: Extract<ApplyResult, { ok: true }>) => void;
  logger: Logger;
  /** Request body limit, bytes. */
  bodyLimit?: number;
}

interface ErrorBody {
  error: { code: string; message: string; issues?: string[] };
}

function issuesOf(err: z.ZodError): string[] {
  return issueLines(err.issues, '(body)');
}

export function buildQueueApp(opts: QueueHttpOptions): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 64 * 1024, connectionTimeout: 10_000, requestTimeout: 10_000 });
  const log = opts.logger;

  // Malformed JSON, wrong content type, body too large: one error shape, never a crash.
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.warn({ err }, 'queue request failed');
    const body: ErrorBody = { error: { code: status === 500 ? 'E_INTERNAL' : 'E_BAD_REQUEST', message: status === 500 ? 'internal error' : err.message } };
    void reply.status(status).send(body);
  });

  app.post('/v1/queue/events', async (req, reply) => {
    const parsed = queueRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const body: ErrorBody = { error: { code: 'E_BAD_EVENT', message: 'invalid queue event', issues: issuesOf(parsed.error) } };
      return await reply.status(400).send(body);
    }
    const events: QueueEventInput[] = 'events' in parsed.data ? parsed.data.events : [parsed.data];
    let accepted = 0;
    const rejected: { index: number; code: string; message: string }[] = [];
    events.forEach((ev, index) => {
      const result = opts.model.apply(ev);
      if (result.ok) {
        accepted += 1;
        opts.onApplied(result);
      } else {
        rejected.push({ index, code: result.code, message: result.message });
      }
    });
    if (accepted === 0 && rejected.length > 0) {
      const first = rejected[0];
      const body: ErrorBody = { error: { code: first?.code ?? 'E_BAD_EVENT', message: first?.message ?? 'rejected', issues: rejected.map((r) => `events.${r.index}: ${r.message}`) } };
      return await reply.status(409).send(body);
    }
    return await reply.status(202).send({ accepted, rejected });
  });

  app.get('/v1/queue', async () => {
    const snap = opts.model.snapshot();
    return { office: snap.office, counters: Object.fromEntries(snap.counters) };
  });

  app.get('/healthz', async () => ({ ok: true }));
  return app;
}
