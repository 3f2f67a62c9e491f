// Remote diagnostics over HTTP: `POST /api/agents/:site/:agent/diagnostics` `{command, args}` checks the
// arguments (protocol/diagnostics.ts), sends the command to the agent through the CommandService and answers with
// its result; `GET /api/diagnostics?site=&agent=&limit=` reads them back. Both need `diagnostics:run` (a service
// token, or a technician's, operator's or admin's session, whose POST carries its CSRF token). Every request that
// names a command — run, refused for its arguments, for an unknown or offline agent, timed out — is appended to the
// audit log as `diagnostics.<command>` (who, when, which agent, args, outcome, result or error, duration), the
// result cut to AUDIT_RESULT_MAX_CHARS, before the answer.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { DIAG_HUB_TIMEOUT_MS, DIAGNOSTIC_COMMANDS, isDiagnosticCommand, parseDiagnosticArgs, SLUG_PATTERN, type CommandResult } from '../../protocol/index.ts';
import { CommandError, type CommandService } from '../agents/commands.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import type { AuditEntry, AuditLog } from '../auth/audit-log.ts';
import type { ApiPrincipal } from '../auth/sessions.ts';
import { errorMessage } from '../errors.ts';
import { Counter } from '../metrics.ts';

/** What of a result the audit keeps (the answer carries it whole, up to the agent's own 64 KiB bound). */
export const AUDIT_RESULT_MAX_CHARS = 4096;
/** Audit entries GET /api/diagnostics scans (newest first), and its largest `limit`. */
const SCAN_ENTRIES = 5000;
const MAX_LIMIT = 500;

export type DiagnosticOutcome = 'ok' | 'failed' | 'refused' | 'unknown_agent' | 'offline' | 'timeout' | 'busy' | 'stopped';

export interface DiagnosticsRoutesDeps {
  commands: Pick<CommandService, 'send'>;
  /** Is this agent enrolled (and not revoked). */
  knownAgent(site: string, agent: string): boolean;
  auth: ApiAuth;
  audit: AuditLog;
  logger: Logger;
  /** Takes the route's counters (/metrics). */
  addCounter?: (c: Counter) => void;
  now?: () => number;
}

const STATUS: Readonly<Record<DiagnosticOutcome, number>> = { ok: 200, failed: 200, refused: 400, unknown_agent: 404, offline: 409, timeout: 504, busy: 503, stopped: 503 };
const OUTCOME_OF: Readonly<Record<CommandError['code'], DiagnosticOutcome>> = { E_AGENT_OFFLINE: 'offline', E_COMMAND_TIMEOUT: 'timeout', E_COMMANDS_BUSY: 'busy', E_COMMANDS_STOPPED: 'stopped' };
const SLUG = SLUG_PATTERN;

const auditWho = (p: ApiPrincipal): string => `${p.kind === 'user' ? 'user' : 'service'}:${p.name}`;

/** A result as the audit keeps it: whole when short, else its JSON cut (marked). */
export function boundedResult(result: unknown): unknown {
  const text = JSON.stringify(result) ?? 'null';
  return text.length <= AUDIT_RESULT_MAX_CHARS ? result : { truncated: true, bytes: text.length, json: `${text.slice(0, AUDIT_RESULT_MAX_CHARS)}…` };
}

export function diagnosticsRoutes(deps: DiagnosticsRoutesDeps) {
  const log = deps.logger.child({ component: 'diagnostics' });
  const now = deps.now ?? Date.now;
  const outcomes = new Counter('ioc_hub_diagnostics_total', 'Remote diagnostics asked through the API, by outcome: ok, failed (the agent said so), refused (arguments), unknown_agent, offline, timeout, busy, stopped', 'outcome');
  const auditFailures = new Counter('ioc_hub_diagnostics_audit_failures_total', 'Diagnostics whose audit entry could not be written (the answer was 500)');
  const resultsCut = new Counter('ioc_hub_diagnostics_results_cut_total', 'Diagnostics whose result was cut to the audit bound');
  const outputCut = new Counter('ioc_hub_diagnostics_output_cut_total', "Diagnostics whose output the agent cut to its bound (16 KiB of a program's output, 40 KiB of log lines)");
  deps.addCounter?.(outcomes);
  deps.addCounter?.(outputCut);
  deps.addCounter?.(auditFailures);
  deps.addCounter?.(resultsCut);

  return async function register(app: FastifyInstance): Promise<void> {
    app.post('/api/agents/:site/:agent/diagnostics', async (req, reply) => {
      const who = await deps.auth.require(req, reply, 'diagnostics:run');
      if (who === undefined) return reply;
      const { site, agent } = req.params as { site: string; agent: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const command = typeof body.command === 'string' ? body.command : '';
      const rawArgs = body.args ?? {};
      const started = now();
      const answer = async (outcome: DiagnosticOutcome, r: { args?: unknown; result?: CommandResult; error?: string; code?: string }): Promise<FastifyReply> => {
        const durationMs = now() - started;
        outcomes.inc(1, outcome);
        const name = isDiagnosticCommand(command) ? command : 'unknown';
        const result = r.result?.result;
        const kept = result === undefined ? undefined : boundedResult(result);
        if (kept !== result) resultsCut.inc();
        if (typeof result === 'object' && result !== null && (result as { truncated?: unknown }).truncated === true) outputCut.inc();
        const error = r.error ?? r.result?.error;
        const detail = {
          by: who.displayName,
          ...(name === 'unknown' ? { command: command.slice(0, 64) } : {}),
          args: boundedResult(r.args ?? rawArgs),
          outcome,
          durationMs,
          ...(kept === undefined ? {} : { result: kept }),
          ...(error === undefined ? {} : { error }),
          ...(r.code === undefined ? {} : { code: r.code }),
        };
        const target = `${site.slice(0, 64)}/${agent.slice(0, 64)}`;
        try {
          await deps.audit.append({ who: auditWho(who), action: `diagnostics.${name}`, target, detail });
        } catch (err: unknown) {
          // Nothing runs unrecorded: the answer says the record failed (the command itself may have run).
          auditFailures.inc();
          log.error({ target, command: name, err: errorMessage(err) }, 'diagnostics audit entry not written');
          return reply.code(500).send({ code: 'E_AUDIT', error: `the diagnostic's audit entry could not be written: ${errorMessage(err)}` });
        }
        log.info({ who: auditWho(who), target, command: name, outcome, durationMs }, 'diagnostic');
        const ok = outcome === 'ok';
        return reply.code(STATUS[outcome]).send({
          ok,
          site,
          agent,
          command: name,
          ...(r.args === undefined ? {} : { args: r.args }),
          durationMs,
          ...(result === undefined ? {} : { result }),
          ...(error === undefined ? {} : { error }),
          ...(r.code === undefined ? {} : { code: r.code }),
        });
      };
      if (!SLUG.test(site) || !SLUG.test(agent)) return answer('refused', { code: 'E_INPUT', error: 'site and agent must be slugs (a-z, 0-9, -)' });
      if (!isDiagnosticCommand(command)) return answer('refused', { code: 'E_INPUT', error: `command must be one of ${DIAGNOSTIC_COMMANDS.join(', ')}, not ${JSON.stringify(command.slice(0, 64))}` });
      const parsed = parseDiagnosticArgs(command, rawArgs);
      if (!parsed.ok) return answer('refused', { code: 'E_INPUT', error: `${command}: ${parsed.error}` });
      if (!deps.knownAgent(site, agent)) return answer('unknown_agent', { args: parsed.args, code: 'E_UNKNOWN_AGENT', error: `no enrolled agent ${site}/${agent}` });
      try {
        const result = await deps.commands.send(site, agent, command, parsed.args, { timeoutMs: DIAG_HUB_TIMEOUT_MS[command] });
        return await answer(result.ok ? 'ok' : 'failed', { args: parsed.args, result });
      } catch (err: unknown) {
        if (err instanceof CommandError) return answer(OUTCOME_OF[err.code], { args: parsed.args, code: err.code, error: err.message });
        return answer('failed', { args: parsed.args, code: 'E_PUBLISH', error: `the command could not be sent: ${errorMessage(err)}` });
      }
    });

    app.get('/api/diagnostics', async (req, reply) => {
      if ((await deps.auth.require(req, reply, 'diagnostics:run')) === undefined) return reply;
      const q = (req.query ?? {}) as Record<string, unknown>;
      const site = typeof q.site === 'string' && q.site !== '' ? q.site : undefined;
      const agent = typeof q.agent === 'string' && q.agent !== '' ? q.agent : undefined;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return reply.code(400).send({ code: 'E_INPUT', error: `limit: an integer from 1 to ${MAX_LIMIT}` });
      const entries = (await deps.audit.tail(SCAN_ENTRIES)).filter((e) => isDiagnosticEntry(e, site, agent));
      return { diagnostics: entries.slice(-limit).reverse() };
    });
  };
}

function isDiagnosticEntry(e: AuditEntry, site: string | undefined, agent: string | undefined): boolean {
  if (!e.action.startsWith('diagnostics.')) return false;
  const [s, a] = (e.target ?? '').split('/');
  return (site === undefined || s === site) && (agent === undefined || a === agent);
}
