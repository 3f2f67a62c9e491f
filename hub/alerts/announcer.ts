// Announcing: a firing alert that no muter holds back goes to the outputs (MQTT, the `alert` measurement, and so
// Node-RED); an announced alert that resolves goes out once more and joins the bounded history of the API; an episode
// of replayed readings joins that history and the `alert` measurement only.
import type { Logger } from 'pino';
import type { AlertRecord } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import { recordOf, type Alert } from './alert.ts';
import type { AlertOutputs } from './engine-options.ts';

export class Announcer {
  /** Resolved alerts that were announced, newest first. */
  history: AlertRecord[] = [];

  constructor(
    private readonly outputs: AlertOutputs,
    private readonly log: Logger,
    private readonly historySize: number,
  ) {}

  announce(a: Alert): void {
    a.announced = true;
    this.active(a);
    this.log.info({ id: a.id, site: a.site, rule: a.rule, severity: a.severity }, 'alert firing');
  }

  /** A visible alert (again, or acknowledged) as it is now. */
  active(a: Alert): void {
    const rec = recordOf(a);
    this.safely(() => this.outputs.active(rec));
  }

  /** An alert left the table resolved: it goes out if it was announced. */
  resolved(a: Alert): void {
    if (!a.announced) return;
    const rec = recordOf(a);
    this.history = [rec, ...this.history].slice(0, this.historySize);
    this.safely(() => this.outputs.resolved(rec));
    this.log.info({ id: a.id, site: a.site, rule: a.rule }, 'alert resolved');
  }

  /**
   * An episode of replayed readings (replay.ts): joins the history as it happened, marked late, and is stored; it is
   * never published as active, so nothing is paged for it.
   */
  replayed(rec: AlertRecord): void {
    this.history = [rec, ...this.history].slice(0, this.historySize);
    this.safely(() => this.outputs.history?.(rec));
    this.log.info({ id: rec.id, site: rec.site, rule: rec.rule, since: rec.since, endsAt: rec.endsAt }, 'replayed alert recorded as history');
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err: unknown) {
      this.log.error({ err: errorMessage(err) }, 'alert output failed');
    }
  }
}
