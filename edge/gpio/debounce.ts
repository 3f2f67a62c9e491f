// Debounces a bouncing digital input: a new level counts once it has held for `ms`.
import type { PinValue } from './pin.ts';

export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private raw: PinValue;
  /** Edges seen on the line, bounces included. */
  rawEdges = 0;

  constructor(
    private stable: PinValue,
    private readonly ms: number,
    private readonly onStable: (value: PinValue) => void,
  ) {
    this.raw = stable;
  }

  get value(): PinValue {
    return this.stable;
  }

  /** Feed every raw edge here. */
  input(value: PinValue): void {
    this.rawEdges += 1;
    this.raw = value;
    clearTimeout(this.timer);
    if (this.ms <= 0) {
      this.settle();
      return;
    }
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
    this.onStable(this.stable);
  }
}
