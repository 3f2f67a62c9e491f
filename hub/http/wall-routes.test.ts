import { fastify } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AlertView } from '../alerts/alert-queries.ts';
import type { SiteView } from './http.ts';
import type { SiteState } from './site-state.ts';
import { wallRoutes, wallView, type WallRoutesDeps } from './wall-routes.ts';

const NOW = Date.parse('2026-12-01T03:00:00Z');
const site = (slug: string, state: SiteState): SiteView => ({ slug, name: `Xã ${slug}`, area: '', areaName: '', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', lat: null, lon: null, online: state !== 'down', lastSeen: null, agents: [], pointsToday: 0, state, stateReason: 'fresh' });
const alert = (id: string, s: string): AlertView => ({ id, site: s, rule: 'portal-down', severity: 'warning', state: 'firing', since: NOW, updatedAt: NOW, summary: { vi: 'v', en: 'e' }, labels: {}, announced: true }) as AlertView;
const base = (over: Partial<WallRoutesDeps> = {}): WallRoutesDeps => ({
  auth: { require: async () => ({ kind: 'anonymous', name: 'anonymous', displayName: 'anonymous', role: 'wall' }) },
  sites: () => [site('a', 'up'), site('b', 'degraded'), site('c', 'backfilling'), site('d', 'down'), site('e', 'blind'), site('f', 'maintenance')],
  config: { freshFor: 300_000, downFor: 900_000, maxIncidents: 1 },
  now: () => NOW,
  ...over,
});

describe('wallView', () => {
  it('counts the states and the communes online (up, degraded, backfilling); figures it cannot have are null', async () => {
    const v = await wallView(base());
    expect(v.counts).toEqual({ up: 1, degraded: 1, down: 1, blind: 1, backfilling: 1, maintenance: 1 });
    expect(v.figures).toMatchObject({ communes: 6, online: 3, openIncidents: null, ticketsToday: null, avgWaitS: null, portalReachable: null, figuresAt: null });
    expect(v.sites[0]).toEqual({ slug: 'a', name: 'Xã a', area: '', areaName: '', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', lat: null, lon: null, state: 'up', stateReason: 'fresh', lastSeen: null });
    expect(v).toMatchObject({ asOf: NOW, bounds: { freshForMs: 300_000, downForMs: 900_000 } });
  });

  it('counts every open incident and lists maxIncidents of them with the site name', async () => {
    const v = await wallView(base({ siteAlerts: { snapshot: () => () => ({ siteDown: false, warnings: 0, maintenance: false }), alerts: () => [alert('1', 'b'), alert('2', 'a'), { ...alert('3', 'a'), state: 'pending' }] } }));
    expect(v.figures.openIncidents).toBe(2);
    expect(v.incidents).toEqual([{ id: '1', site: 'b', siteName: 'Xã b', rule: 'portal-down', severity: 'warning', state: 'firing', since: NOW, summary: { vi: 'v', en: 'e' }, sites: ['b'] }]);
  });
});

describe('GET /api/wall', () => {
  it('asks for wall:read and answers what wallView gives, not cached', async () => {
    const scopes: string[] = [];
    const app = fastify();
    await app.register(wallRoutes(base({ auth: { require: async (_req, reply, scope) => { scopes.push(scope); await reply.code(401).send({ code: 'E_AUTH' }); return undefined; } } })));
    expect((await app.inject({ method: 'GET', url: '/api/wall' })).statusCode).toBe(401);
    expect(scopes).toEqual(['wall:read']);
    const open = fastify();
    await open.register(wallRoutes(base()));
    const res = await open.inject({ method: 'GET', url: '/api/wall' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((res.json() as { sites: unknown[] }).sites).toHaveLength(6);
  });
});
