// Listeners told when what the alert API shows changed (an alert announced, acknowledged or resolved, a replayed
// episode recorded, a silence added or removed): the console's live updates (hub/http/events-routes.ts) hang here.
import type { AlertRecord } from '../../protocol/index.ts';
import type { AlertOutputs } from './engine-options.ts';

export type AlertChange =
  | { kind: 'active' | 'resolved' | 'history'; id: string; site: string; state: AlertRecord['state'] }
  | { kind: 'silences' };

export class AlertChanges {
  private readonly listeners: ((change: AlertChange) => void)[] = [];

  /** Called synchronously after each change; a listener that throws does not stop the others or the engine. */
  on(listener: (change: AlertChange) => void): void {
    this.listeners.push(listener);
  }

  emit(change: AlertChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // a listener's failure is its own (it counts and logs what it must)
      }
    }
  }

  /** The outputs as given, each call also told to the listeners. */
  wrap(outputs: AlertOutputs): AlertOutputs {
    const tell = (kind: 'active' | 'resolved' | 'history', r: AlertRecord): void => this.emit({ kind, id: r.id, site: r.site, state: r.state });
    return {
      active: (r) => {
        outputs.active(r);
        tell('active', r);
      },
      resolved: (r) => {
        outputs.resolved(r);
        tell('resolved', r);
      },
      history: (r) => {
        outputs.history?.(r);
        tell('history', r);
      },
    };
  }
}
