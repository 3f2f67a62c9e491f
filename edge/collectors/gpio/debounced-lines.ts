// A set of debounced input lines for a collector: opens each (a line that cannot be opened does not stop the
// others), reopens failed ones when asked, logs each distinct failure once, and says per line whether it works.
import { EdgeError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { Debouncer } from './debounce.ts';
import type { Bias, LineSpec } from './line-spec.ts';
import type { InputPin, PinOpener, PinValue } from './pin.ts';

export interface LineEntry {
  spec: LineSpec;
  /** The `pin` tag / log id. */
  tag: string;
  activeLow: boolean;
  bias: Bias;
  legacyPin: number | undefined;
}

export interface LineState<E extends LineEntry> {
  entry: E;
  /** Debounced level; undefined while the line is unavailable. */
  value: PinValue | undefined;
  /** Why it is unavailable. */
  error: EdgeError | undefined;
}

interface Slot<E extends LineEntry> {
  entry: E;
  pin: InputPin | undefined;
  debouncer: Debouncer | undefined;
  error: EdgeError | undefined;
  /** The failure message logged last: the same one again is not logged. */
  logged: string | undefined;
  opening: Promise<void> | undefined;
}

export interface DebouncedLinesOptions<E extends LineEntry> {
  open: PinOpener;
  debounceMs: number;
  logger: Logger;
  /** For logs: `gpio input`, `queue button`. */
  what: string;
  /** A new debounced level and the time its edge was seen. */
  onStable: (entry: E, value: PinValue, at: number) => void;
}

export class DebouncedLines<E extends LineEntry> {
  private readonly slots: Slot<E>[];
  private closed = false;

  constructor(
    entries: readonly E[],
    private readonly opts: DebouncedLinesOptions<E>,
  ) {
    this.slots = entries.map((entry) => ({ entry, pin: undefined, debouncer: undefined, error: undefined, logged: undefined, opening: undefined }));
  }

  /** Opens every line (in parallel); never rejects. */
  async start(): Promise<void> {
    for (const s of this.slots) {
      if (s.entry.legacyPin !== undefined) {
        this.opts.logger.warn({ pin: s.entry.legacyPin, line: `GPIO${s.entry.legacyPin}` }, `${this.opts.what}: \`pin: ${s.entry.legacyPin}\` is deprecated, write \`line: GPIO${s.entry.legacyPin}\``);
      }
    }
    await Promise.all(this.slots.map((s) => this.openSlot(s)));
  }

  /** Tries again to open the lines that failed (a line another program held may be free now). */
  retryFailed(): void {
    for (const s of this.slots) if (s.pin === undefined) void this.openSlot(s);
  }

  states(): LineState<E>[] {
    return this.slots.map((s) => {
      const error = s.pin === undefined ? s.error : s.pin.lost;
      if (error !== undefined) this.logOnce(s, error);
      else if (s.pin !== undefined) s.logged = undefined;
      return { entry: s.entry, value: error === undefined ? s.debouncer?.value : undefined, error };
    });
  }

  /** The open pins (tests look at their processes). */
  pins(): InputPin[] {
    return this.slots.flatMap((s) => (s.pin === undefined ? [] : [s.pin]));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.opening));
    await Promise.all(
      this.slots.map(async (s) => {
        s.debouncer?.stop();
        const pin = s.pin;
        s.pin = undefined;
        await pin?.close();
      }),
    );
  }

  private openSlot(s: Slot<E>): Promise<void> {
    s.opening ??= this.doOpen(s).finally(() => {
      s.opening = undefined;
    });
    return s.opening;
  }

  private async doOpen(s: Slot<E>): Promise<void> {
    if (this.closed || s.pin !== undefined) return;
    let pin: InputPin;
    try {
      pin = await this.opts.open(s.entry.spec, { activeLow: s.entry.activeLow, bias: s.entry.bias });
    } catch (err: unknown) {
      s.error = err instanceof EdgeError ? err : new EdgeError('E_GPIO', errorMessage(err), { cause: err });
      this.logOnce(s, s.error);
      return;
    }
    if (this.closed) {
      await pin.close();
      return;
    }
    const d = new Debouncer(await pin.read(), this.opts.debounceMs, (v, at) => this.opts.onStable(s.entry, v, at));
    pin.watch((v, at) => d.input(v, at));
    s.pin = pin;
    s.debouncer = d;
    if (s.error !== undefined) this.opts.logger.info({ line: s.entry.tag, where: pin.where }, `${this.opts.what} available again`);
    else this.opts.logger.info({ line: s.entry.tag, where: pin.where }, `${this.opts.what} open`);
    s.error = undefined;
    s.logged = undefined;
  }

  private logOnce(s: Slot<E>, err: EdgeError): void {
    if (s.logged === err.message) return;
    s.logged = err.message;
    this.opts.logger.error({ err, code: err.code, line: s.entry.tag }, `${this.opts.what} unavailable`);
  }
}
