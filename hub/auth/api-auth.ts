// Who may call the hub's HTTP API: `Authorization: Bearer NAME:TOKEN` of a service account holding the scope, or
// (without that header) a person's session cookie whose role holds it (sessions.ts; writes need its CSRF token).
// A refusal takes as long for an unknown name as for a wrong token, so answers do not tell which names exist.
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { generateToken, hashToken, verifyToken, type ScryptParams } from '../agents/token.ts';
import { hasScope, type ApiScope, type ServiceAccount, type ServiceAccounts } from './service-accounts.ts';
import type { ApiPrincipal, ConsoleScope, SessionAuth } from './sessions.ts';

const BEARER = /^Bearer ([a-z0-9-]{1,64}):(\S{1,1024})$/;

export type ApiAuthResult = { ok: true; account: ServiceAccount } | { ok: false; status: 401; code: 'E_AUTH'; error: string };

export class ApiAuth {
  private dummy: Promise<{ hash: string; ms: number }> | undefined;

  constructor(
    private readonly accounts: Pick<ServiceAccounts, 'verify'>,
    /** Scrypt parameters of the configured tokens (the dummy check costs the same). */
    private readonly params: ScryptParams | undefined,
    /** People's sessions (the console); none: bearer tokens only. */
    readonly sessions?: SessionAuth,
  ) {}

  async check(header: string | undefined, scope: ApiScope): Promise<ApiAuthResult> {
    const m = BEARER.exec(header ?? '');
    if (m === null) return { ok: false, status: 401, code: 'E_AUTH', error: `a service token with ${scope} is required (Authorization: Bearer NAME:TOKEN)` };
    const token = m[2] ?? '';
    const started = performance.now();
    const account = await this.accounts.verify(m[1] ?? '', token);
    if (account === undefined) {
      await this.equalize(token, started);
      return { ok: false, status: 401, code: 'E_AUTH', error: `a service token with ${scope} is required (Authorization: Bearer NAME:TOKEN)` };
    }
    // 401 as for a bad token: the client needs another credential, not another try.
    if (!hasScope(account, scope)) return { ok: false, status: 401, code: 'E_AUTH', error: `a service token with ${scope} is required (service account ${account.name} lacks it)` };
    return { ok: true, account };
  }

  /**
   * Fastify pre-handler form: answers 401/403 itself, or returns who asks. With an `Authorization` header the
   * service token decides; without one, the session cookie (or the anonymous wall, for `wall:read`).
   */
  async require(req: FastifyRequest, reply: FastifyReply, scope: ConsoleScope): Promise<ApiPrincipal | undefined> {
    const header = req.headers.authorization;
    if (header === undefined && this.sessions !== undefined) {
      const r = this.sessions.check(req, scope);
      if (r.ok) return r.principal;
      const error = r.code === 'E_AUTH' && r.status === 401 ? `a service token with ${scope} is required (Authorization: Bearer NAME:TOKEN), or a login (${r.error})` : r.error;
      await reply.code(r.status).send({ code: r.code, error });
      return undefined;
    }
    if (scope === 'users:write') {
      await reply.code(403).send({ code: 'E_AUTH', error: "people's logins are managed from an admin's console session only (no service token)" });
      return undefined;
    }
    // A service account reads the wall's data with sites:read.
    const r = await this.check(header, scope === 'wall:read' ? 'sites:read' : scope);
    if (r.ok) return { kind: 'service', name: r.account.name, displayName: r.account.name };
    await reply.code(r.status).send({ code: r.code, error: r.error });
    return undefined;
  }

  /** An unknown name is refused at once by the lookup: spend what a wrong token would cost (one scrypt). */
  private async equalize(token: string, started: number): Promise<void> {
    const d = await this.dummyHash();
    if (performance.now() - started < d.ms / 2) await verifyToken(token, d.hash);
  }

  private dummyHash(): Promise<{ hash: string; ms: number }> {
    this.dummy ??= (async () => {
      const hash = await hashToken(generateToken(), this.params);
      let ms = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await verifyToken('x', hash);
        ms = Math.min(ms, performance.now() - t0);
      }
      return { hash, ms };
    })();
    return this.dummy;
  }

  /** Computes the dummy check ahead of the first request. */
  warm(): Promise<void> {
    return this.dummyHash().then(() => undefined);
  }
}

/** The costliest scrypt parameters among the configured token hashes (`scrypt$N$r$p$salt$hash`), if any. */
export function scryptParamsOf(hashes: readonly string[]): ScryptParams | undefined {
  let best: ScryptParams | undefined;
  for (const h of hashes) {
    const [kind, n, r, p] = h.split('$');
    const params = { N: Number(n), r: Number(r), p: Number(p) };
    if (kind !== 'scrypt' || !Number.isInteger(params.N) || !Number.isInteger(params.r) || !Number.isInteger(params.p)) continue;
    if (best === undefined || params.N * params.r * params.p > best.N * best.r * best.p) best = params;
  }
  return best;
}
