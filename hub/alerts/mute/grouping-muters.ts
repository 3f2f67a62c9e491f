// Members of a derived alert are muted while it stands for them: an incident of their group (`grouped`), a composite
// at their site (`composite`), the hub's own incident for the site-offline alerts of the agents that dropped with it
// (`hub-link`); a member that could still join one waits its group wait first (`group-wait`).
import { alertKey } from '../alert.ts';
import type { AlertTable } from '../alert-table.ts';
import type { Grouping } from '../grouping.ts';
import type { SelfCheck } from '../self-check.ts';
import type { Muter } from './muter.ts';

export function hubLinkMuter(selfCheck: SelfCheck): Muter {
  return {
    mutes: (a) => (selfCheck.claims(a) ? 'hub-link' : undefined),
  };
}

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
