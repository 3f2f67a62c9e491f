import { describe, expect, it } from 'vitest';
import { hashToken } from '../agents/token.ts';
import { ServiceAccounts, filterAllowed } from './service-accounts.ts';

describe('service accounts', () => {
  it('allows only filters at or below the granted ones', () => {
    expect(filterAllowed('ioc/v1/alerts/#', ['ioc/v1/alerts/#'])).toBe(true);
    expect(filterAllowed('ioc/v1/alerts/xa-a/+', ['ioc/v1/alerts/#'])).toBe(true);
    expect(filterAllowed('ioc/v1/#', ['ioc/v1/alerts/#'])).toBe(false);
    expect(filterAllowed('#', ['ioc/v1/alerts/#'])).toBe(false);
    expect(filterAllowed('ioc/v1/+/+/telemetry', ['ioc/v1/alerts/#'])).toBe(false);
  });

  it('verifies tokens and API scopes', async () => {
    const accounts = new ServiceAccounts([
      { name: 'node-red', tokenHash: await hashToken('secret-1', { N: 1024, r: 8, p: 1 }), subscribe: ['ioc/v1/alerts/#'], api: ['alerts:write'] },
      { name: 'grafana', tokenHash: await hashToken('secret-2', { N: 1024, r: 8, p: 1 }), subscribe: ['ioc/v1/alerts/#'], api: [] },
    ]);
    expect((await accounts.authorizeApi('Bearer node-red:secret-1', 'alerts:write'))?.name).toBe('node-red');
    expect(await accounts.authorizeApi('Bearer node-red:wrong', 'alerts:write')).toBeUndefined();
    expect(await accounts.authorizeApi('Bearer grafana:secret-2', 'alerts:write')).toBeUndefined();
    expect(await accounts.authorizeApi(undefined, 'alerts:write')).toBeUndefined();
  });

  it('gives a client id to one account only: exactly, or with an instance suffix no longer name claims', async () => {
    const tokenHash = await hashToken('t', { N: 1024, r: 8, p: 1 });
    const accounts = new ServiceAccounts(['node', 'node-red'].map((name) => ({ name, tokenHash, subscribe: ['ioc/v1/alerts/#'], api: [] })));
    expect(accounts.ownerOfClientId('service:node')).toBe('node');
    expect(accounts.ownerOfClientId('service:node-1a2b3c')).toBe('node');
    expect(accounts.ownerOfClientId('service:node-red')).toBe('node-red');
    expect(accounts.ownerOfClientId('service:node-red-1a2b3c')).toBe('node-red');
    expect(accounts.ownerOfClientId('service:nodered')).toBeUndefined();
    expect(accounts.ownerOfClientId('service:grafana')).toBeUndefined();
    expect(accounts.ownerOfClientId('xa-a/pi-1')).toBeUndefined();
  });
});
