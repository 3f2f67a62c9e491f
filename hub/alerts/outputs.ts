// Alert outputs of the hub: MQTT ioc/v1/alerts/{site}/{id} (retained while active, cleared on resolve, then a
// final non-retained resolved record) and the InfluxDB `alert` measurement.
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
  };
}
