// Service accounts (Node-RED, dashboards…): scrypt-hashed tokens allowed to subscribe to given topics and call
// given API scopes, and a broker policy wrapper that lets them in beside the agents. Refuse by default stays.
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ALL_ALERTS_FILTER, slugSchema } from '../../protocol/index.ts';
import { AuthRefusedError, CONNACK, type BrokerPolicyHooks, type PublishVerdict } from '../broker/broker-hooks.ts';
import type { DeepReadonly } from '../../common/deep-freeze.ts';
import { HubError } from '../errors.ts';
import { decoyHash, sha256, verifyToken } from '../agents/token.ts';

/** `alerts:write` includes `alerts:read` (who acknowledges must see what). */
export const API_SCOPES = ['alerts:write', 'alerts:read', 'sites:read', 'audit:read', 'agents:read', 'diagnostics:run', 'agents:write', 'releases:read', 'releases:write', 'config:read', 'config:write'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export function hasScope(account: Pick<ServiceAccount, 'api'>, scope: ApiScope): boolean {
  return account.api.includes(scope) || (scope === 'alerts:read' && account.api.includes('alerts:write')) || (scope === 'config:read' && account.api.includes('config:write'));
}

export const serviceAccountSchema = z.strictObject({
  name: slugSchema,
  /** `scrypt$…` from `ioc-hub services token --name NAME`. */
  tokenHash: z.string().startsWith('scrypt$'),
  /** Topic filters it may subscribe to (and any narrower filter below them). */
  subscribe: z.array(z.string().min(1)).default([ALL_ALERTS_FILTER]),
  /** API scopes: `alerts:write` = acknowledge, silence (and read alerts); `alerts:read`, `sites:read`, `audit:read`, `agents:read` (fleet inventory), `diagnostics:run` (remote diagnostics on agents, hub/http/diagnostics-routes.ts), `agents:write` (enroll, rotate, revoke). */
  api: z.array(z.enum(API_SCOPES)).default([]),
});
export type ServiceAccount = DeepReadonly<z.output<typeof serviceAccountSchema>>;

/** MQTT username of a service account (a colon never appears in a `{site}/{agent}` identity). */
export const SERVICE_USERNAME_PREFIX = 'service:';

export class ServiceAccounts {
  private readonly byName: ReadonlyMap<string, ServiceAccount>;
  private readonly verified = new Map<string, string>();
  /** Checked for an unknown name, so that its refusal takes the time of a wrong token. */
  private readonly decoy: string;

  constructor(accounts: readonly ServiceAccount[]) {
    this.byName = new Map(accounts.map((a) => [a.name, a]));
    this.decoy = decoyHash(accounts[0]?.tokenHash);
  }

  /**
   * The account a client id belongs to: `service:NAME`, or `service:NAME-SUFFIX` for several instances
   * when no account with a longer name claims the id (so `service:node` can never use, nor take over,
   * `service:node-red-…`). Undefined when no account claims it.
   */
  ownerOfClientId(clientId: string): string | undefined {
    if (!clientId.startsWith(SERVICE_USERNAME_PREFIX)) return undefined;
    const rest = clientId.slice(SERVICE_USERNAME_PREFIX.length);
    let owner: string | undefined;
    for (const name of this.byName.keys()) {
      if ((rest === name || rest.startsWith(`${name}-`)) && name.length > (owner?.length ?? -1)) owner = name;
    }
    return owner;
  }

  get size(): number {
    return this.byName.size;
  }

  async verify(name: string, token: string): Promise<ServiceAccount | undefined> {
    if (token.length === 0 || token.length > 1024) return undefined;
    const account = this.byName.get(name);
    if (account === undefined) {
      await verifyToken(token, this.decoy);
      return undefined;
    }
    const key = sha256(`${name}:${token}`);
    if (this.verified.get(key) === account.tokenHash) return account;
    if (!(await verifyToken(token, account.tokenHash))) return undefined;
    if (this.verified.size > 1000) this.verified.clear();
    this.verified.set(key, account.tokenHash);
    return account;
  }

  /** `Authorization: Bearer NAME:TOKEN` → the account, when it holds the scope. */
  async authorizeApi(header: string | undefined, scope: ApiScope): Promise<ServiceAccount | undefined> {
    const m = /^Bearer ([a-z0-9-]{1,64}):(\S+)$/.exec(header ?? '');
    if (m === null) return undefined;
    const account = await this.verify(m[1] ?? '', m[2] ?? '');
    return account !== undefined && hasScope(account, scope) ? account : undefined;
  }
}

export function filterAllowed(filter: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => {
    if (a === filter) return true;
    if (!a.endsWith('/#')) return false;
    const prefix = a.slice(0, -1);
    return filter.startsWith(prefix) && filter.length > prefix.length;
  });
}

/** Wraps the agents' policy: `service:NAME` users are checked here, everyone else goes to the inner policy. */
export class ServiceBrokerPolicy implements BrokerPolicyHooks {
  private readonly services = new WeakMap<Client, ServiceAccount>();
  private readonly log: Logger;

  constructor(
    private readonly inner: BrokerPolicyHooks,
    private readonly accounts: ServiceAccounts,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'service-policy' });
  }

  async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    if (username?.startsWith(SERVICE_USERNAME_PREFIX) !== true) return this.inner.authenticate(client, username, password);
    const name = username.slice(SERVICE_USERNAME_PREFIX.length);
    // The client id must be the account's own (exactly, or with an instance suffix no other account claims),
    // so that one service cannot knock another off.
    if (this.accounts.ownerOfClientId(client.id) !== name) throw new AuthRefusedError(CONNACK.notAuthorized, 'client id must be the username, or the username and -INSTANCE');
    const account = password === undefined ? undefined : await this.accounts.verify(name, password.toString('utf8'));
    if (account === undefined) {
      this.log.warn({ clientId: client.id }, 'service connection refused');
      throw new AuthRefusedError(CONNACK.badUsernameOrPassword, 'unknown service or wrong token');
    }
    this.services.set(client, account);
  }

  async authorizePublish(client: Client | null, packet: PublishPacket): Promise<PublishVerdict> {
    if (client !== null && this.services.has(client)) throw new HubError('E_PUBLISH_DENIED', `service ${client.id} may not publish`);
    return this.inner.authorizePublish(client, packet);
  }

  async authorizeSubscribe(client: Client, sub: Subscription): Promise<Subscription | null> {
    const account = this.services.get(client);
    if (account === undefined) return this.inner.authorizeSubscribe(client, sub);
    if (filterAllowed(sub.topic, account.subscribe)) return sub;
    this.log.warn({ clientId: client.id, topic: sub.topic }, 'service subscription refused');
    return null;
  }
}
