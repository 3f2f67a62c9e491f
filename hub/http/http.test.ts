import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AgentStateTable } from '../agents/agent-state.ts';
import { siteViews } from './http.ts';
import { PointsToday } from '../agents/points-today.ts';
import { Registry } from '../agents/registry.ts';

const NATIONAL = fileURLToPath(new URL('../../data/vn-communes-2025.csv', import.meta.url));

describe('/api/sites site views', () => {
  it('serves communes without district or coordinates (2025 list) with lat/lon null beside those with both', async () => {
    const registry = await Registry.open(join(mkdtempSync(join(tmpdir(), 'ioc-hub-http-')), 'registry.json'), { scrypt: { N: 1024, r: 8, p: 1 } });
    await registry.importCommunesCsv(NATIONAL, { province: '25' });
    await registry.upsertSite({ slug: 'phuong-tich-son', name: 'Phường Tích Sơn', code: '99999', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'vinh-yen', areaName: 'Thành phố Vĩnh Yên', lat: 21.3, lon: 105.6 });
    await registry.enroll('xa-lap-thach', 'pi-1');
    const views = siteViews({ registry, agentState: new AgentStateTable(), pointsToday: new PointsToday() });
    expect(views).toHaveLength(149);
    const lapThach = views.find((v) => v.slug === 'xa-lap-thach');
    expect(lapThach).toMatchObject({ name: 'Xã Lập Thạch', province: 'phu-tho', area: '', areaName: '', lat: null, lon: null, online: false });
    expect(lapThach?.agents.map((a) => a.agent)).toEqual(['pi-1']);
    // round-trips through JSON as null (not dropped), so a console can tell "no coordinates" from a missing field
    expect(JSON.parse(JSON.stringify(lapThach))).toMatchObject({ lat: null, lon: null });
    expect(views.find((v) => v.slug === 'phuong-tich-son')).toMatchObject({ area: 'vinh-yen', lat: 21.3, lon: 105.6 });
  });
});
