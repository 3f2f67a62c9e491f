// Digital input pins behind a narrow interface: `onoff` on a Raspberry Pi, a FakePin in tests and on machines without GPIO.
import { EdgeError } from '../errors.ts';

export type PinValue = 0 | 1;

export interface InputPin {
  /** BCM GPIO number. */
  readonly pin: number;
  read(): Promise<PinValue>;
  /** Every raw edge (not debounced; see Debouncer). */
  watch(onChange: (value: PinValue) => void): void;
  close(): Promise<void> | void;
}

export interface PinOptions {
  /** Input is 1 when the line is low (buttons and contacts to ground with a pull-up). */
  activeLow: boolean;
}

export type PinOpener = (pin: number, opts: PinOptions) => Promise<InputPin>;

/** A pin the test drives: `set()` makes an edge. */
export class FakePin implements InputPin {
  private value: PinValue;
  private readonly listeners: ((v: PinValue) => void)[] = [];
  closed = false;
  constructor(
    readonly pin: number,
    initial: PinValue = 0,
  ) {
    this.value = initial;
  }
  async read(): Promise<PinValue> {
    return this.value;
  }
  watch(onChange: (value: PinValue) => void): void {
    this.listeners.push(onChange);
  }
  set(value: PinValue): void {
    if (this.closed || value === this.value) return;
    this.value = value;
    for (const l of this.listeners) l(value);
  }
  close(): void {
    this.closed = true;
    this.listeners.length = 0;
  }
}

/** Opens pins that are FakePins, remembered by number so a test can drive them. */
export class FakePinBoard {
  readonly pins = new Map<number, FakePin>();
  readonly open: PinOpener = async (pin) => {
    const p = new FakePin(pin);
    this.pins.set(pin, p);
    return p;
  };
  get(pin: number): FakePin {
    const p = this.pins.get(pin);
    if (p === undefined) throw new Error(`pin ${pin} not opened`);
    return p;
  }
}

interface OnoffGpio {
  read(): Promise<PinValue>;
  watch(cb: (err: Error | null | undefined, value: PinValue) => void): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: { accessible: boolean; new (gpio: number, direction: 'in', edge: 'both', options: { activeLow: boolean }): OnoffGpio };
}

/** Opens a real pin with `onoff` (sysfs GPIO). Fails with E_GPIO_UNAVAILABLE where there is no GPIO. */
export const openOnoffPin: PinOpener = async (pin, opts) => {
  let mod: OnoffModule;
  try {
    mod = (await import('onoff')) as unknown as OnoffModule;
  } catch (err: unknown) {
    throw new EdgeError('E_GPIO_UNAVAILABLE', 'the optional package onoff is not installed: GPIO inputs need a Raspberry Pi with onoff', { cause: err });
  }
  if (!mod.Gpio.accessible) {
    throw new EdgeError('E_GPIO_UNAVAILABLE', `GPIO is not accessible on this machine (no /sys/class/gpio): cannot open pin ${pin}; GPIO collectors need a Raspberry Pi`);
  }
  let gpio: OnoffGpio;
  try {
    gpio = new mod.Gpio(pin, 'in', 'both', { activeLow: opts.activeLow });
  } catch (err: unknown) {
    throw new EdgeError('E_GPIO', `cannot open GPIO ${pin}`, { cause: err });
  }
  return {
    pin,
    read: async () => await gpio.read(),
    watch: (onChange) =>
      gpio.watch((err, value) => {
        if (err === null || err === undefined) onChange(value);
      }),
    close: () => gpio.unexport(),
  };
};
