// Alert outputs of the hub: MQTT ioc/v1/alerts/{site}/{id} (retained while active, cleared on resolve, then a
// final non-retained resolved record) and the InfluxDB `alert` measurement; replayed episodes to that measurement only.
import type { Logger } from 'pino';
import { alertTopic, type AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import type { HubPoint } from '../write/sink.ts';
import type { AlertOutputs } from './engine-options.ts';

export interface AlertOutputDeps {
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
  store(points: HubPoint[]): Promise<void>;
  logger: Logger;
}

export function alertPoint(r: AlertRecord): HubPoint {
  return {
    measurement: 'alert',
    tags: { site: r.site, rule: r.rule, severity: r.severity },
    fields: { state: r.state, ...(r.value === undefined ? {} : { value: r.value }) },
    timestamp: r.updatedAt,
  };
}

/**
 * A replayed episode in the `alert` measurement: firing at its start and resolved at its end (reading time), with
 * `late=true`, so a state timeline shows it where it happened.
 */
export function historyPoints(r: AlertRecord): HubPoint[] {
  const tags = { site: r.site, rule: r.rule, severity: r.severity };
  const value: Record<string, number> = r.value === undefined ? {} : { value: r.value };
  return [
    { measurement: 'alert', tags, fields: { state: 'firing', ...value, late: true }, timestamp: r.since },
    { measurement: 'alert', tags, fields: { state: 'resolved', ...value, late: true }, timestamp: r.endsAt ?? r.updatedAt },
  ];
}

export function hubAlertOutputs(deps: AlertOutputDeps): AlertOutputs {
  const log = deps.logger.child({ component: 'alert-outputs' });
  const fail = (what: string) => (err: unknown) => log.warn({ err: errorMessage(err) }, what);
  const store = (r: AlertRecord): void => void deps.store([alertPoint(r)]).catch(fail('alert point not written'));
  return {
    active(r) {
      deps.publish(alertTopic(r.site, r.id), JSON.stringify(r), true).catch(fail('alert not published'));
      store(r);
    },
    resolved(r) {
      const topic = alertTopic(r.site, r.id);
      // Clear the retained record first, then tell live subscribers it resolved.
      deps
        .publish(topic, '', true)
        .then(() => deps.publish(topic, JSON.stringify(r), false))
        .catch(fail('alert resolution not published'));
      store(r);
    },
    history(r) {
      // Not published: a replayed episode is history, and Node-RED pages only what comes on MQTT.
      void deps.store(historyPoints(r)).catch(fail('replayed alert points not written'));
    },
  };
}
