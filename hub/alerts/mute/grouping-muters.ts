// Members of a derived alert are muted while it stands for them: a province incident (`grouped`) or a composite
// at their site (`composite`); a member that could still join one waits `storm.groupWait` first (`group-wait`).
import { alertKey } from '../alert.ts';
import type { AlertTable } from '../alert-table.ts';
import type { Grouping } from '../grouping.ts';
import type { Muter } from './muter.ts';

export function groupedMuter(grouping: Grouping, table: AlertTable): Muter {
  return {
    mutes(a) {
      if (a.derived) return undefined;
      const key = grouping.incidentKeyOf(a);
      return key !== undefined && table.get(key)?.active === true ? 'grouped' : undefined;
    },
  };
}

export function compositeMuter(grouping: Grouping, table: AlertTable): Muter {
  return {
    mutes: (a) => (!a.derived && grouping.compositesOf(a.rule).some((name) => table.get(alertKey(name, a.site, ''))?.active === true) ? 'composite' : undefined),
  };
}

export const groupWaitMuter: Muter = {
  mutes: (a, now) => (!a.derived && a.holdMs > 0 && now - (a.firingAt ?? now) < a.holdMs ? 'group-wait' : undefined),
};
