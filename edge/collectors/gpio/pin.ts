// Digital input lines behind a narrow interface: the gpiod tools (character device) or sysfs on a Raspberry Pi
// (open-line.ts picks), a FakePin in tests.
import type { EdgeError } from '../../errors.ts';
import type { Bias, LineSpec } from './line-spec.ts';
import { lineTag } from './line-spec.ts';

export type PinValue = 0 | 1;

export interface InputPin {
  /** The line as configured, for logs (`GPIO17`, `gpiochip0:17`). */
  readonly id: string;
  /** Where it was found and through what: `gpiochip0 17 via gpiomon v1.6.3`, `sysfs gpio529`. */
  readonly where: string;
  /** The line's current level (last read or last edge). */
  read(): Promise<PinValue>;
  /** Every raw edge (not debounced; see Debouncer), with the time it was seen (epoch ms). */
  watch(onChange: (value: PinValue, at: number) => void): void;
  /**
   * Why the line delivers no edges right now (its monitor exited: line taken by another program, chip gone);
   * undefined while it works. The pin reopens the line by itself.
   */
  readonly lost: EdgeError | undefined;
  close(): Promise<void> | void;
}

export interface PinOptions {
  /** Input is 1 when the line is low (buttons and contacts to ground with a pull-up). */
  activeLow: boolean;
  bias: Bias;
}

export type PinOpener = (spec: LineSpec, opts: PinOptions) => Promise<InputPin>;

/** A pin the test drives: `set()` makes an edge. */
export class FakePin implements InputPin {
  private value: PinValue;
  private readonly listeners: ((v: PinValue, at: number) => void)[] = [];
  closed = false;
  lost: EdgeError | undefined = undefined;
  readonly where = 'fake';
  constructor(
    readonly id: string,
    initial: PinValue = 0,
  ) {
    this.value = initial;
  }
  async read(): Promise<PinValue> {
    return this.value;
  }
  watch(onChange: (value: PinValue, at: number) => void): void {
    this.listeners.push(onChange);
  }
  set(value: PinValue): void {
    if (this.closed || value === this.value) return;
    this.value = value;
    const at = Date.now();
    for (const l of this.listeners) l(value, at);
  }
  close(): void {
    this.closed = true;
    this.listeners.length = 0;
  }
}

/** Opens pins that are FakePins, remembered by their tag (`GPIO17`, `gpiochip0:17`) so a test can drive them. */
export class FakePinBoard {
  readonly pins = new Map<string, FakePin>();
  readonly open: PinOpener = async (spec) => {
    const id = lineTag(spec);
    const p = new FakePin(id);
    this.pins.set(id, p);
    return p;
  };
  get(id: string): FakePin {
    const p = this.pins.get(id);
    if (p === undefined) throw new Error(`pin ${id} not opened`);
    return p;
  }
}
