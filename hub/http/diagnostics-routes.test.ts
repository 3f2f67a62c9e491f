// The diagnostics routes through fastify's inject (no port, no agent): what each CommandService failure answers,
// that the audit keeps a long result cut and a timeout as such, and that nothing is answered as done when its audit
// entry could not be written. test/remote-diagnostics.test.ts runs them against a real hub and agent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../protocol/index.ts';
import { CommandError } from '../agents/commands.ts';
import { generateToken, hashToken } from '../agents/token.ts';
import { ApiAuth } from '../auth/api-auth.ts';
import { AuditLog } from '../auth/audit-log.ts';
import { ServiceAccounts } from '../auth/service-accounts.ts';
import { silentLogger } from '../logger.ts';
import { Counter } from '../metrics.ts';
import { AUDIT_RESULT_MAX_CHARS, diagnosticsRoutes } from './diagnostics-routes.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-diag-routes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function appWith(send: () => Promise<CommandResult>, auditPath = join(dir, 'audit.jsonl')) {
  const token = generateToken();
  const accounts = new ServiceAccounts([{ name: 'ops', tokenHash: await hashToken(token, { N: 1024, r: 8, p: 1 }), subscribe: [], api: ['diagnostics:run'] }]);
  const audit = new AuditLog(auditPath);
  const counters: Counter[] = [];
  const app = fastify();
  await app.register(diagnosticsRoutes({ commands: { send }, knownAgent: () => true, auth: new ApiAuth(accounts, undefined), audit, logger: silentLogger(), addCounter: (c) => counters.push(c) }));
  const post = (body: unknown) => app.inject({ method: 'POST', url: '/api/agents/xa-a/pi-1/diagnostics', headers: { authorization: `Bearer ops:${token}` }, payload: body as Record<string, unknown> });
  return { app, audit, post, counter: (name: string) => counters.find((c) => c.name === name) };
}

describe('diagnostics routes', () => {
  it('answer a timeout 504, busy 503, offline 409, each audited with its outcome', async () => {
    for (const [code, status, outcome] of [
      ['E_COMMAND_TIMEOUT', 504, 'timeout'],
      ['E_COMMANDS_BUSY', 503, 'busy'],
      ['E_AGENT_OFFLINE', 409, 'offline'],
    ] as const) {
      const { post, audit, counter } = await appWith(() => Promise.reject(new CommandError(code, `said ${code}`)));
      const r = await post({ command: 'logs', args: { lines: 5 } });
      expect(r.statusCode).toBe(status);
      expect(r.json()).toMatchObject({ ok: false, code, error: `said ${code}`, args: { lines: 5 } });
      const last = (await audit.tail(1))[0];
      expect(last).toMatchObject({ who: 'service:ops', action: 'diagnostics.logs', target: 'xa-a/pi-1', detail: { outcome, code, args: { lines: 5 } } });
      expect(counter('ioc_hub_diagnostics_total')?.get(outcome)).toBe(1);
    }
  });

  it('keep a long result whole in the answer and cut in the audit (counted)', async () => {
    const result = { lines: Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(100)}`), truncated: true };
    const { post, audit, counter } = await appWith(() => Promise.resolve({ id: 'c-1', ok: true, at: Date.now(), result }));
    const r = await post({ command: 'logs', args: { lines: 100 } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ ok: true, result });
    const kept = (await audit.tail(1))[0]?.detail?.result as { truncated: boolean; json: string };
    expect(kept.truncated).toBe(true);
    expect(kept.json.length).toBe(AUDIT_RESULT_MAX_CHARS + 1);
    expect(counter('ioc_hub_diagnostics_results_cut_total')?.get()).toBe(1);
    expect(counter('ioc_hub_diagnostics_output_cut_total')?.get()).toBe(1);
  });

  it('answer 500 when the audit entry cannot be written: nothing counts as done unrecorded', async () => {
    // a folder that does not exist (root writes through any mode): the append fails
    const { post, counter } = await appWith(() => Promise.resolve({ id: 'c-2', ok: true, at: Date.now(), result: {} }), join(dir, 'missing', 'audit.jsonl'));
    const r = await post({ command: 'probe-now' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toMatchObject({ code: 'E_AUDIT' });
    expect(counter('ioc_hub_diagnostics_audit_failures_total')?.get()).toBe(1);
  });
});
