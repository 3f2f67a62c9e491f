// Mutes what a silence of the API matches; it names the silence's kind (`silence`, or `maintenance` for a
// maintenance window created through the API).
import type { Silences } from '../silences.ts';
import type { Muter } from './muter.ts';

export function silenceMuter(silences: Silences): Muter {
  return {
    mutes: (a, now) => silences.match({ site: a.site, rule: a.rule, severity: a.severity, labels: a.labels }, now)?.kind,
  };
}
