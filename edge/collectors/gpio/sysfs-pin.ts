// The fallback for a machine without /dev/gpiochip* or without the gpiod tools: the deprecated sysfs interface.
// Since kernel 6.6 (Raspberry Pi OS Bookworm) sysfs numbers start at the chip's base (512 on a Pi 4, 571 for the
// header of a Pi 5), so the number is base + offset from /sys/class/gpio/gpiochip*/{base,label,ngpio}, never the
// raw BCM number. Edges come from polling `value` (Node has no poll(2) on POLLPRI without a native addon); sysfs
// has no bias: set pulls in config.txt (`gpio=17=ip,pu`).
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EdgeError, errorCode, errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { describeLine, lineTag, type LineSpec } from './line-spec.ts';
import { EdgeFanout } from './edge-fanout.ts';
import type { InputPin, PinOptions, PinValue } from './pin.ts';

export const SYSFS_GPIO_DIR = '/sys/class/gpio';

/** Labels of the chip that carries the 40-pin header: Pi 5 (RP1), Pi 4, Pi 1–3 and Zero. */
export const PI_HEADER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface SysfsChip {
  /** `gpiochip512`: named after its base, not after /dev/gpiochipN. */
  dir: string;
  base: number;
  ngpio: number;
  label: string;
  /** The character-device names of the same chip (`gpiochip0`), from `device/`, where the kernel has them. */
  cdevNames: string[];
}

async function readTrim(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/** The chips sysfs lists, with base, ngpio and label. */
export async function listSysfsChips(sysfsDir: string): Promise<SysfsChip[]> {
  const names = (await readdir(sysfsDir)).filter((n) => /^gpiochip\d+$/.test(n));
  const chips: SysfsChip[] = [];
  for (const dir of names) {
    const p = join(sysfsDir, dir);
    try {
      const [base, ngpio, label] = await Promise.all([readTrim(join(p, 'base')), readTrim(join(p, 'ngpio')), readTrim(join(p, 'label'))]);
      const cdevNames = await readdir(join(p, 'device')).then(
        (ns) => ns.filter((n) => /^gpiochip\d+$/.test(n)),
        () => [],
      );
      chips.push({ dir, base: Number(base), ngpio: Number(ngpio), label, cdevNames });
    } catch {
      // A chip whose attributes cannot be read cannot be used; the others can.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** The sysfs number of a configured line: its chip's base + its offset. */
export function sysfsNumber(chips: readonly SysfsChip[], spec: LineSpec): { number: number; chip: SysfsChip } {
  const want = spec.chip?.replace(/^\/dev\//, '');
  const listed = chips.map((c) => `${c.dir} (${c.label}, base ${c.base}, ${c.ngpio} lines)`).join(', ') || 'none';
  let chip: SysfsChip | undefined;
  let offset: number;
  if (typeof spec.line === 'number') {
    offset = spec.line;
    chip = chips.find((c) => want !== undefined && (c.cdevNames.includes(want) || c.label === want));
  } else {
    // sysfs has no line names; a Pi's header lines are named GPIO<n> at offset n of the pinctrl chip.
    const m = /^GPIO(\d+)$/.exec(spec.line);
    if (m === null) throw new EdgeError('E_GPIO_UNAVAILABLE', `sysfs GPIO has no line names: give ${spec.line} as chip + offset`);
    offset = Number(m[1]);
    chip = want !== undefined ? chips.find((c) => c.cdevNames.includes(want) || c.label === want) : chips.find((c) => (PI_HEADER_LABELS as readonly string[]).includes(c.label));
  }
  if (chip === undefined) throw new EdgeError('E_GPIO_UNAVAILABLE', `no sysfs GPIO chip for ${describeLine(spec)}; chips: ${listed}`);
  if (offset >= chip.ngpio) throw new EdgeError('E_GPIO_UNAVAILABLE', `${describeLine(spec)}: ${chip.label} has only ${chip.ngpio} lines`);
  return { number: chip.base + offset, chip };
}

export interface SysfsPinOptions {
  logger: Logger;
  sysfsDir?: string;
  /** Period of reading `value`. */
  pollMs?: number;
  /** How long to wait for udev to make gpioN/ usable after the export. */
  exportWaitMs?: number;
  /** Wait after setting the line up, before its first reading. */
  settleMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function parseValue(s: string): PinValue | undefined {
  return s === '0' ? 0 : s === '1' ? 1 : undefined;
}

/** Exports and unexports in progress per sysfs dir: one at a time, each export waiting for its gpioN/ to be usable. */
const exporting = new Map<string, Promise<unknown>>();

function oneAtATime<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const run = (exporting.get(dir) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  exporting.set(dir, tail);
  void tail.then(() => {
    if (exporting.get(dir) === tail) exporting.delete(dir);
  });
  return run;
}

/** Exports the line (base + offset), sets it to input and polls its value until close(). */
export function openSysfsPin(spec: LineSpec, opts: PinOptions, sopts: SysfsPinOptions): Promise<InputPin> {
  const dir = sopts.sysfsDir ?? SYSFS_GPIO_DIR;
  return oneAtATime(dir, () => exportAndOpen(dir, spec, opts, sopts));
}

async function exportAndOpen(dir: string, spec: LineSpec, opts: PinOptions, sopts: SysfsPinOptions): Promise<InputPin> {
  const { number, chip } = sysfsNumber(await listSysfsChips(dir), spec);
  const what = `${describeLine(spec)} (sysfs gpio${number} = ${chip.label} base ${chip.base} + ${number - chip.base})`;
  const lineDir = join(dir, `gpio${number}`);
  let exported = false;
  // Already exported (an agent killed before its unexport): take it over.
  if (!(await exists(lineDir))) {
    try {
      await writeFile(join(dir, 'export'), String(number));
      exported = true;
    } catch (err: unknown) {
      if (errorCode(err) === 'EBUSY') throw new EdgeError('E_GPIO_BUSY', `${what} is in use by another driver or program (EBUSY)`, { cause: err });
      if (errorCode(err) === 'EACCES') throw new EdgeError('E_GPIO_UNAVAILABLE', `${what}: permission denied on ${dir}/export: run the agent in the gpio group`, { cause: err });
      throw new EdgeError('E_GPIO_UNAVAILABLE', `${what}: export failed: ${errorMessage(err)}`, { cause: err });
    }
  }
  const valuePath = join(lineDir, 'value');
  const deadline = Date.now() + (sopts.exportWaitMs ?? 2000);
  for (;;) {
    try {
      // udev gives the gpio group access a moment after the export.
      await writeFile(join(lineDir, 'direction'), 'in');
      await writeFile(join(lineDir, 'active_low'), opts.activeLow ? '1' : '0');
      break;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw new EdgeError('E_GPIO_UNAVAILABLE', `${what}: cannot set it up after the export: ${errorMessage(err)}`, { cause: err });
      await sleep(20);
    }
  }
  if (opts.bias !== 'as-is') sopts.logger.warn({ line: lineTag(spec), bias: opts.bias }, 'sysfs GPIO cannot set a bias: set the pull in config.txt');
  // Let the input settle after the switch to input (a pull charging a long cable) before the first reading.
  await sleep(sopts.settleMs ?? 50);
  const first = parseValue(await readTrim(valuePath));
  if (first === undefined) throw new EdgeError('E_GPIO', `${what}: unreadable value`);
  return new SysfsPin(lineTag(spec), `sysfs gpio${number} (${chip.label} base ${chip.base})`, first, valuePath, join(dir, 'unexport'), exported ? number : undefined, sopts);
}

class SysfsPin implements InputPin {
  private readonly edges: EdgeFanout;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  lost: EdgeError | undefined = undefined;

  constructor(
    readonly id: string,
    readonly where: string,
    private value: PinValue,
    private readonly valuePath: string,
    private readonly unexportPath: string,
    private readonly exportedNumber: number | undefined,
    private readonly sopts: SysfsPinOptions,
  ) {
    this.edges = new EdgeFanout(value);
    this.schedule(sopts.pollMs ?? 20);
  }

  async read(): Promise<PinValue> {
    return this.edges.level;
  }

  watch(onChange: (value: PinValue, at: number) => void): void {
    this.edges.watch(onChange);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.poll(), ms);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const pollMs = this.sopts.pollMs ?? 20;
    try {
      const v = parseValue(await readTrim(this.valuePath));
      if (v === undefined) throw new Error('value is neither 0 nor 1');
      if (this.lost !== undefined) this.sopts.logger.info({ line: this.id }, 'gpio line back');
      this.lost = undefined;
      if (v !== this.value && !this.closed) {
        this.value = v;
        this.edges.emit(v, Date.now());
      }
      this.schedule(pollMs);
    } catch (err: unknown) {
      if (this.lost === undefined) this.sopts.logger.warn({ err, line: this.id }, 'gpio line lost (sysfs value unreadable)');
      this.lost = new EdgeError('E_GPIO_UNAVAILABLE', `${this.where}: ${errorMessage(err)}`, { cause: err });
      this.schedule(Math.max(pollMs, 1000));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.edges.clear();
    const n = this.exportedNumber;
    if (n === undefined) return;
    // Released once the kernel has removed gpioN/ (bounded: close() must end).
    const lineDir = dirname(this.valuePath);
    await oneAtATime(dirname(this.unexportPath), async () => {
      await writeFile(this.unexportPath, String(n)).catch(() => undefined);
      for (let i = 0; i < 50 && (await exists(lineDir)); i++) await sleep(10);
    });
  }
}
