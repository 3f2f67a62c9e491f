import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS, fleetFilterOf, fleetTable, fleetViews } from './fleet.ts';
import type { Site } from './registry.ts';
import type { FleetRecord } from './registry-store.ts';

const now = Date.parse('2026-12-01T10:00:00.000Z');
const sites = new Map<string, Site>([
  ['xa-a', { slug: 'xa-a', name: 'Xã A', code: '1', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' }],
  ['xa-b', { slug: 'xa-b', name: 'Xã B', code: '2', province: 'vinh-phuc', provinceName: 'Tỉnh Vĩnh Phúc', area: 'tam-dao', areaName: 'Huyện Tam Đảo' }],
]);
const records: FleetRecord[] = [
  { site: 'xa-a', agent: 'pi-1', createdAt: 'c', tokenRev: 1, report: { site: 'xa-a', agent: 'pi-1', version: '0.3.0', lastSeen: now - 1000, connected: true, inventory: { boardModel: 'Raspberry Pi 4 Model B Rev 1.5', diskTotalBytes: 32 * 2 ** 30, diskFreeBytes: 20 * 2 ** 30, uptimeS: 90_061, usb: [{ vendorId: '0764', productId: '0501', product: 'UPS' }] } } },
  { site: 'xa-a', agent: 'pi-2', createdAt: 'c', tokenRev: 2, rotatedAt: 'r', report: { site: 'xa-a', agent: 'pi-2', version: '0.2.0', lastSeen: now - STALE_AFTER_MS - 1, connected: true } },
  { site: 'xa-b', agent: 'pi-1', createdAt: 'c', tokenRev: 1, report: undefined },
  { site: 'xa-b', agent: 'pi-9', createdAt: 'c', tokenRev: 1, revokedAt: 'gone', report: { site: 'xa-b', agent: 'pi-9', lastSeen: now, connected: true } },
];
const siteOf = (slug: string): Site | undefined => sites.get(slug);
const ids = (v: { site: string; agent: string }[]): string[] => v.map((x) => `${x.site}/${x.agent}`);

describe('the fleet listing', () => {
  it('is online from the last known connection while it is fresh (the CLI), or from the hub’s live state', () => {
    const views = fleetViews(records, siteOf, {}, undefined, now);
    expect(views.map((v) => [v.agent, v.online])).toEqual([
      ['pi-1', true],
      ['pi-2', false], // connected, but not seen for longer than STALE_AFTER_MS: a hub that stopped without saying
      ['pi-1', false],
    ]);
    const live = fleetViews(records, siteOf, {}, (site, agent) => (site === 'xa-a' && agent === 'pi-2' ? { connected: true, lastSeen: now } : undefined), now);
    expect(live.find((v) => v.agent === 'pi-2')?.online).toBe(true);
    expect(views[0]).toMatchObject({ province: 'phu-tho', version: '0.3.0', boardModel: 'Raspberry Pi 4 Model B Rev 1.5', usb: [{ vendorId: '0764', productId: '0501', product: 'UPS' }], kernel: null, lastSeen: new Date(now - 1000).toISOString() });
  });

  it('filters by site, province, area, version, offline, and leaves the revoked out unless asked', () => {
    expect(ids(fleetViews(records, siteOf, { province: 'vinh-phuc' }, undefined, now))).toEqual(['xa-b/pi-1']);
    expect(ids(fleetViews(records, siteOf, { province: 'vinh-phuc', revoked: true }, undefined, now))).toEqual(['xa-b/pi-1', 'xa-b/pi-9']);
    expect(fleetViews(records, siteOf, { revoked: true }, undefined, now).find((v) => v.agent === 'pi-9')?.online).toBe(false);
    expect(ids(fleetViews(records, siteOf, { area: 'tam-dao' }, undefined, now))).toEqual(['xa-b/pi-1']);
    expect(ids(fleetViews(records, siteOf, { site: 'xa-a', version: '0.2.0' }, undefined, now))).toEqual(['xa-a/pi-2']);
    expect(ids(fleetViews(records, siteOf, { offline: true }, undefined, now))).toEqual(['xa-a/pi-2', 'xa-b/pi-1']);
  });

  it('reads its filter from a query string and refuses a bad one', () => {
    expect(fleetFilterOf({ province: 'phu-tho', offline: 'true', revoked: '0' })).toEqual({ province: 'phu-tho', offline: true, revoked: false });
    expect(fleetFilterOf({ offline: 'maybe' })).toBe('offline: true or false');
    expect(fleetFilterOf({ site: ['a', 'b'] })).toBe('site: one value of 1-64 characters');
  });

  it('prints a tab-separated table with a header', () => {
    const lines = fleetTable(fleetViews(records, siteOf, { revoked: true }, undefined, now)).trim().split('\n').map((l) => l.split('\t'));
    expect(lines[0]).toEqual(['SITE', 'AGENT', 'ONLINE', 'LAST_SEEN', 'VERSION', 'CONFIG', 'OS', 'KERNEL', 'BOARD', 'SERIAL', 'DISK_FREE', 'UPTIME', 'USB']);
    expect(lines[1]).toEqual(['xa-a', 'pi-1', 'yes', new Date(now - 1000).toISOString(), '0.3.0', '-', '-', '-', 'Raspberry Pi 4 Model B Rev 1.5', '-', '20.0/32.0G', '1d1h', '0764:0501 UPS']);
    expect(lines[4]?.slice(0, 3)).toEqual(['xa-b', 'pi-9', 'revoked']);
    expect(lines.every((l) => l.length === 13)).toBe(true);
  });
});
