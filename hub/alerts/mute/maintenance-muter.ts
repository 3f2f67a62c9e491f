// Mutes the sites, areas and rules of the maintenance windows of the rules file while the window is open.
import type { RulesFile } from '../rules-file.ts';
import type { Muter } from './muter.ts';

export function maintenanceMuter(windows: RulesFile['maintenance']): Muter {
  const open = windows.map((m) => ({ ...m, from: Date.parse(m.startsAt), to: Date.parse(m.endsAt) }));
  return {
    mutes(a, now) {
      for (const m of open) {
        if (now < m.from || now >= m.to) continue;
        if (m.sites !== undefined && !m.sites.includes(a.site)) continue;
        if (m.areas !== undefined && !m.areas.includes(a.labels.area ?? '')) continue;
        if (m.rules !== undefined && !m.rules.includes(a.rule)) continue;
        return 'maintenance';
      }
      return undefined;
    },
  };
}
