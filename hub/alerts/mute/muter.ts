// Why a firing alert is not announced: one muter per reason, asked in order (as Alertmanager's notify pipeline asks
// its silencer, time muter and inhibitor); the first that mutes names the reason (`suppressedBy` in the API).
import type { Alert } from '../alert.ts';

export type MuteReason = 'silence' | 'maintenance' | 'site-offline' | 'hub-link' | 'grouped' | 'composite' | 'group-wait';

export interface Muter {
  /** The reason this alert is muted at `now`, or undefined. */
  mutes(a: Alert, now: number): MuteReason | undefined;
}

/** The first reason of the muters, in their order. */
export function mutedBy(muters: readonly Muter[], a: Alert, now: number): MuteReason | undefined {
  for (const m of muters) {
    const reason = m.mutes(a, now);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
