// Debounces a bouncing digital input: a new level counts once it has held for `ms`.
import type { PinValue } from './pin.ts';

export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private raw: PinValue;
  private rawAt = 0;
  /** Edges seen on the line, bounces included. */
  rawEdges = 0;

  /** `onStable` gets the new level and the time of the raw edge that began it (epoch ms). */
  constructor(
    private stable: PinValue,
    private readonly ms: number,
    private readonly onStable: (value: PinValue, at: number) => void,
  ) {
    this.raw = stable;
  }

  get value(): PinValue {
    return this.stable;
  }

  /**
   * Feed every raw edge here, with the time it happened. Edges can arrive late and bunched (a pipe, a busy
   * event loop): a level counts by the edges' own times when the next edge shows it held `ms`, or by the
   * timer when no edge follows.
   */
  input(value: PinValue, at: number = Date.now()): void {
    this.rawEdges += 1;
    if (value !== this.raw) {
      if (this.raw !== this.stable && at - this.rawAt >= this.ms) this.settle();
      // A repeated level (two rising edges around a bounce too short to read) does not restart the level's time.
      this.rawAt = at;
      this.raw = value;
    }
    clearTimeout(this.timer);
    if (this.ms <= 0) {
      this.settle();
      return;
    }
    // From the arrival, not from `at`: an edge that came late may still be followed by its bounce.
    this.timer = setTimeout(() => this.settle(), this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    this.timer = undefined;
    if (this.raw === this.stable) return;
    this.stable = this.raw;
    this.onStable(this.stable, this.rawAt);
  }
}
