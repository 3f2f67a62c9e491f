import { describe, expect, it } from 'vitest';
import { alertTopic, type AlertRecord } from '../../protocol/index.ts';
import { notifyConfigSchema } from './notify-config.ts';
import { NotificationPolicy } from './notify-policy.ts';

const T = Date.parse('2025-07-01T03:00:00Z');

function alert(id: string, site: string, labels: Record<string, string>): AlertRecord {
  return { id, site, rule: 'agent-offline', severity: 'warning', state: 'firing', since: T, updatedAt: T, summary: { vi: 'Mất kết nối', en: 'Offline' }, labels };
}

const config = notifyConfigSchema.parse({
  routes: [
    { areas: ['vinh-yen'], email: ['kythuat.vinhyen@ioc.test'] },
    { provinces: ['phu-tho'], email: ['kythuat.phutho@ioc.test'] },
  ],
  defaultRoute: { email: ['ioc@ioc.test'] },
});

function notify(a: AlertRecord): { to: string[]; text: string } {
  const policy = new NotificationPolicy(config, () => T);
  const [n] = policy.onMessage(alertTopic(a.site, a.id), JSON.stringify(a), false);
  return { to: n?.to ?? [], text: n?.text ?? '' };
}

describe('routing with and without districts', () => {
  it('routes a commune of a registry with districts by its area', () => {
    const n = notify(alert('a1', 'phuong-tich-son', { area: 'vinh-yen', province: 'vinh-phuc' }));
    expect(n.to).toEqual(['kythuat.vinhyen@ioc.test']);
    expect(n.text).toContain('Điểm / site: phuong-tich-son (vinh-yen, vinh-phuc)');
  });

  it('routes a commune of the 2025 list (no area label, or an empty one) by its province, never by an area route', () => {
    for (const labels of [{ province: 'phu-tho' }, { area: '', province: 'phu-tho' }] as Record<string, string>[]) {
      const n = notify(alert('a2', 'xa-lap-thach', labels));
      expect(n.to).toEqual(['kythuat.phutho@ioc.test']);
      expect(n.text).toContain('Điểm / site: xa-lap-thach (phu-tho)\n');
    }
  });

  it('routes a province-wide incident (its site is the province) by province, and falls back to the default route', () => {
    const incident = notify(alert('i1', 'phu-tho', { province: 'phu-tho', scope: 'province', sites: '30' }));
    expect(incident.to).toEqual(['kythuat.phutho@ioc.test']);
    expect(incident.text).toContain('Điểm / site: phu-tho\n');
    expect(notify(alert('a3', 'xa-x', {})).to).toEqual(['ioc@ioc.test']);
  });

  it('lists the parts of an incident (its communes, or the agents of a hub-link incident), the first 40 of them', () => {
    const area = notify({ ...alert('i2', 'vinh-yen', { area: 'vinh-yen', province: 'vinh-phuc', scope: 'area', sites: '2' }), parts: [{ site: 'xa-a', rule: 'site-offline', id: 'x-1' }, { site: 'xa-b', rule: 'site-offline', id: 'x-2' }] });
    expect(area.to).toEqual(['kythuat.vinhyen@ioc.test']);
    expect(area.text).toContain('Gồm / parts (2): xa-a, xa-b\n');
    const hub = notify({ ...alert('h1', 'ioc-hub', { scope: 'hub', cause: 'agents-dropped' }), parts: Array.from({ length: 45 }, (_, i) => ({ site: `xa-${i}`, agent: 'pi-1' })) });
    expect(hub.to).toEqual(['ioc@ioc.test']);
    expect(hub.text).toMatch(/Gồm \/ parts \(45\): xa-0\/pi-1, xa-1\/pi-1, .*xa-39\/pi-1, …\n/);
    expect(notify(alert('a4', 'xa-x', {})).text).not.toContain('parts');
  });

  it('refuses an empty area or province in a route', () => {
    expect(notifyConfigSchema.safeParse({ routes: [{ areas: [''] }] }).success).toBe(false);
    expect(notifyConfigSchema.safeParse({ routes: [{ provinces: [''] }] }).success).toBe(false);
  });
});
