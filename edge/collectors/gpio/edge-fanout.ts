// Hands a line's edges to its watchers; edges that come before the first watcher (during open) wait for it,
// so a door opened while the agent starts is still an event.
import type { PinValue } from './pin.ts';

/** Edges kept for a watcher that is not there yet; beyond this the oldest go (the level stays right). */
const PENDING_MAX = 64;

export class EdgeFanout {
  private readonly listeners: ((v: PinValue, at: number) => void)[] = [];
  private readonly pending: [PinValue, number][] = [];
  private delivered: PinValue;

  constructor(initial: PinValue) {
    this.delivered = initial;
  }

  /** The level as of the last edge handed to the watchers (or the opening level): what a new watcher starts from. */
  get level(): PinValue {
    return this.delivered;
  }

  /** The level read at (re)open, when no edge is waiting. */
  setLevel(v: PinValue): void {
    if (this.pending.length === 0) this.delivered = v;
  }

  emit(v: PinValue, at: number): void {
    if (this.listeners.length === 0) {
      this.pending.push([v, at]);
      if (this.pending.length > PENDING_MAX) this.pending.shift();
      return;
    }
    this.delivered = v;
    for (const l of this.listeners) l(v, at);
  }

  watch(onChange: (v: PinValue, at: number) => void): void {
    this.listeners.push(onChange);
    for (const [v, at] of this.pending.splice(0)) {
      this.delivered = v;
      for (const l of this.listeners) l(v, at);
    }
  }

  clear(): void {
    this.listeners.length = 0;
    this.pending.length = 0;
  }
}
