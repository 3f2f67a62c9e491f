import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxdProcess } from '../../testkit/influxd.ts';
import { CQ_PREFIX, META_RETENTION_POLICY, backfillRollups, continuousQueries, ensureInfluxSchema, influxClient, rollupSelect, ROLLUPS, siteInfoPoints, writeSiteInfo } from './influx-schema.ts';
import type { Site } from '../agents/registry.ts';

const opts = { database: 'ioc', sourceRp: 'raw' };
/** A commune of the 2025 list: no district, no coordinates. */
const commune2025: Site = { slug: 'xa-lap-thach', name: 'Xã Lập Thạch', code: '08761', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' };
const site: Site = { slug: 'phuong-tich-son', name: 'Phường Tích Sơn', code: '08707', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'vinh-yen', areaName: 'Thành phố Vĩnh Yên', lat: 21.30943, lon: 105.60867 };

describe('rollup definitions', () => {
  it('downsample every numeric measurement into the rollup RP, keeping all tags', () => {
    const q = rollupSelect(ROLLUPS[0] ?? { rp: 'x', duration: '1d', every: '1m', resampleFor: '2m' }, opts);
    expect(q).toBe('SELECT mean(*) INTO "ioc"."rollup_1m".:MEASUREMENT FROM "ioc"."raw"./^(agent|net_probe|queue|equipment|host)$/ GROUP BY time(1m), *');
  });

  it('name CQs after their definition, so a changed definition gets a new name', () => {
    const a = continuousQueries(opts).map((c) => c.name);
    expect(a).toHaveLength(2);
    for (const n of a) expect(n.startsWith(CQ_PREFIX)).toBe(true);
    expect(continuousQueries({ ...opts, sourceRp: 'other' }).map((c) => c.name)).not.toEqual(a);
    expect(continuousQueries(opts).map((c) => c.name)).toEqual(a);
  });

  it('site_info is one point per site at a fixed time (restarts overwrite it)', () => {
    expect(siteInfoPoints([site])).toEqual([
      { measurement: 'site_info', tags: { site: site.slug, province: 'vinh-phuc', area: 'vinh-yen' }, fields: { name: site.name, lat: site.lat, lon: site.lon, area_name: site.areaName }, timestamp: 0 },
    ]);
  });

  it('site_info of a commune without district or coordinates has no area tag and no lat/lon', () => {
    expect(siteInfoPoints([commune2025])).toEqual([{ measurement: 'site_info', tags: { site: 'xa-lap-thach', province: 'phu-tho' }, fields: { name: 'Xã Lập Thạch', area_name: '' }, timestamp: 0 }]);
  });
});

describe('against a real influxd', () => {
  let influxd: InfluxdProcess;
  beforeAll(async () => {
    influxd = await InfluxdProcess.start();
    await influxd.query('CREATE DATABASE ioc WITH DURATION 90d NAME raw');
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  const rows = async (q: string): Promise<unknown[][]> => {
    const r = (await influxd.query(q, 'ioc')).results[0];
    if (r?.error !== undefined) throw new Error(r.error);
    return r?.series?.flatMap((s) => s.values ?? []) ?? [];
  };

  it('creates RPs and CQs, is idempotent, and replaces a stale CQ of ours only', async () => {
    const client = influxClient({ url: influxd.url, database: 'ioc', timeoutMs: 5000 });
    await influxd.query('CREATE CONTINUOUS QUERY "cq_rollup_1m_deadbeef" ON "ioc" BEGIN SELECT mean(*) INTO "ioc"."raw".:MEASUREMENT FROM "ioc"."raw"."host" GROUP BY time(5m), * END');
    await influxd.query('CREATE CONTINUOUS QUERY "someone_elses" ON "ioc" BEGIN SELECT count(*) INTO "ioc"."raw"."x" FROM "ioc"."raw"."host" GROUP BY time(5m) END');
    const first = await ensureInfluxSchema(client, opts);
    expect(first.created).toHaveLength(2);
    expect(first.dropped).toEqual(['cq_rollup_1m_deadbeef']);
    const second = await ensureInfluxSchema(client, opts);
    expect(second).toEqual({ ...first, created: [], dropped: [] });

    const rps = (await rows('SHOW RETENTION POLICIES ON "ioc"')).map((r) => [r[0], r[1], r[4]]);
    expect(rps).toEqual(
      expect.arrayContaining([
        ['raw', '2160h0m0s', true],
        ['rollup_1m', '9600h0m0s', false],
        ['rollup_1h', '43800h0m0s', false],
        [META_RETENTION_POLICY, '0s', false],
      ]),
    );
    const cqs = (await rows('SHOW CONTINUOUS QUERIES')).map((r) => r[0]);
    expect(cqs.sort()).toEqual([...continuousQueries(opts).map((c) => c.name), 'someone_elses'].sort());
  });

  it('backfills rollups with means of numeric fields (strings and booleans skipped)', async () => {
    const client = influxClient({ url: influxd.url, database: 'ioc', timeoutMs: 5000 });
    const t = Math.floor((Date.now() - 3 * 60_000) / 60_000) * 60_000; // both points in one 1m bucket
    const body = [`net_probe,site=a,agent=pi-1,target=hub up=1,rtt_ms=20,result="ok" ${t}`, `net_probe,site=a,agent=pi-1,target=hub up=0,result="timeout" ${t + 1000}`, `agent,site=a,agent=pi-1 online=true,uptime_s=5 ${t}`].join('\n');
    const res = await fetch(`${influxd.url}/write?db=ioc&precision=ms`, { method: 'POST', body });
    expect(res.status).toBe(204);
    const written = await backfillRollups(client, opts, '1h');
    expect(written.rollup_1m).toBeGreaterThan(0);
    expect(await rows('SELECT "mean_up", "mean_rtt_ms" FROM "rollup_1m"."net_probe" WHERE "site" = \'a\' AND "target" = \'hub\'')).toEqual([[expect.any(Number), 0.5, 20]]);
    const agentCols = (await influxd.query('SELECT * FROM "rollup_1h"."agent"', 'ioc')).results[0]?.series?.[0]?.columns ?? [];
    expect(agentCols).toContain('mean_uptime_s');
    expect(agentCols).not.toContain('mean_online');
  });

  it('writes site_info into the meta RP, the same point at every start', async () => {
    const conn = { url: influxd.url, database: 'ioc', timeoutMs: 5000 };
    await writeSiteInfo(conn, [site]);
    await writeSiteInfo(conn, [{ ...site, name: 'renamed' }]);
    expect(await rows('SELECT "name", "lat", "lon", "area_name" FROM "meta"."site_info"')).toEqual([[0, 'renamed', site.lat, site.lon, site.areaName]]);
  });

  it('replaces the site_info of a site whose district went away (legacy list → 2025 list), keeping one series', async () => {
    const conn = { url: influxd.url, database: 'ioc', timeoutMs: 5000 };
    const before: Site = { slug: 'thi-tran-lap-thach', name: 'Thị trấn Lập Thạch', code: '08761', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'lap-thach', areaName: 'Huyện Lập Thạch', lat: 21.38, lon: 105.48 };
    await writeSiteInfo(conn, [before]);
    await writeSiteInfo(conn, [{ ...before, name: 'Xã Lập Thạch', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' }]);
    const body = await influxd.query('SELECT "name", "lat", "area_name" FROM "meta"."site_info" WHERE "site" = \'thi-tran-lap-thach\' GROUP BY "province", "area"', 'ioc');
    const series = body.results[0]?.series ?? [];
    expect(series.map((s) => [s.tags, s.values])).toEqual([[{ province: 'phu-tho', area: '' }, [[0, 'Xã Lập Thạch', 21.38, '']]]]);
  });

  it('stores site_info of a commune without district or coordinates beside one with both', async () => {
    const conn = { url: influxd.url, database: 'ioc', timeoutMs: 5000 };
    await writeSiteInfo(conn, [site, commune2025]);
    const body = await influxd.query('SELECT last("name") AS "name", last("lat") AS "lat" FROM "meta"."site_info" WHERE "site" =~ /^(phuong-tich-son|xa-lap-thach)$/ GROUP BY "site", "area"', 'ioc');
    const series = body.results[0]?.series ?? [];
    expect(series.map((s) => [s.tags, s.values?.[0]?.slice(1)])).toEqual([
      [{ site: 'xa-lap-thach', area: '' }, ['Xã Lập Thạch', null]],
      [{ site: 'phuong-tich-son', area: 'vinh-yen' }, ['Phường Tích Sơn', site.lat]],
    ]);
  });
});
