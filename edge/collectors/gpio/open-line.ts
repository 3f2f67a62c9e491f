// Opens input lines the way this machine can: the GPIO character device through the gpiod tools when
// /dev/gpiochip* and `gpiomon` are there, else sysfs (with the chip's base), else a clear reason why not.
import { readdir, access } from 'node:fs/promises';
import { EdgeError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { detectGpiodTools, openGpiodPin, type GpiodPinOptions, type GpiodTools } from './gpiod-pin.ts';
import type { PinOpener } from './pin.ts';
import { openSysfsPin, SYSFS_GPIO_DIR } from './sysfs-pin.ts';

export interface GpioEnvironment {
  logger: Logger;
  /** Where the character devices are (`/dev`). */
  devDir?: string;
  /** `/sys/class/gpio`. */
  sysfsDir?: string;
  /** Environment of the tools (its PATH finds them); default process.env. */
  env?: NodeJS.ProcessEnv;
  gpiod?: Omit<GpiodPinOptions, 'logger'>;
  sysfsPollMs?: number;
  /** Wait before a sysfs line's first reading (see SysfsPinOptions.settleMs). */
  sysfsSettleMs?: number;
}

export type GpioBackend = { kind: 'gpiod'; tools: GpiodTools; chips: string[] } | { kind: 'sysfs'; why: string } | { kind: 'none'; error: EdgeError };

/** Which way GPIO works here, and why. */
export async function detectGpioBackend(genv: GpioEnvironment): Promise<GpioBackend> {
  const devDir = genv.devDir ?? '/dev';
  const sysfsDir = genv.sysfsDir ?? SYSFS_GPIO_DIR;
  const chips = await readdir(devDir).then(
    (ns) => ns.filter((n) => /^gpiochip\d+$/.test(n)).sort(),
    () => [],
  );
  const tools = await detectGpiodTools(genv.env ?? process.env);
  if (chips.length > 0 && !(tools instanceof EdgeError)) return { kind: 'gpiod', tools, chips };
  const why = chips.length === 0 ? `no GPIO character device (${devDir}/gpiochip*)` : tools instanceof EdgeError ? tools.message : 'no gpiod tools';
  const hasSysfs = await access(sysfsDir).then(
    () => true,
    () => false,
  );
  if (hasSysfs) return { kind: 'sysfs', why };
  const msg = chips.length === 0 ? `no GPIO on this machine: ${why} and no ${sysfsDir}; GPIO inputs need a Raspberry Pi (or another board with GPIO)` : `${why}, and no ${sysfsDir} to fall back to`;
  return { kind: 'none', error: new EdgeError('E_GPIO_UNAVAILABLE', msg) };
}

/** A PinOpener over the backend found at the first open (found again while there is none). */
export function createLineOpener(genv: GpioEnvironment): PinOpener {
  let backend: Promise<GpioBackend> | undefined;
  const log = genv.logger;
  return async (spec, opts) => {
    backend ??= detectGpioBackend(genv).then((b) => {
      if (b.kind === 'gpiod') log.info({ chips: b.chips, gpiod: b.tools.version.text, pdeathsig: b.tools.pdeathsig }, 'GPIO through the character device (gpiod tools)');
      if (b.kind === 'sysfs') log.warn({ why: b.why }, 'GPIO through sysfs (fallback): install the gpiod package for the character device');
      return b;
    });
    const b = await backend;
    if (b.kind === 'none') {
      backend = undefined;
      throw b.error;
    }
    if (b.kind === 'gpiod') return await openGpiodPin(b.tools, spec, opts, { logger: log, ...genv.gpiod });
    return await openSysfsPin(spec, opts, { logger: log, ...(genv.sysfsDir === undefined ? {} : { sysfsDir: genv.sysfsDir }), ...(genv.sysfsPollMs === undefined ? {} : { pollMs: genv.sysfsPollMs }), ...(genv.sysfsSettleMs === undefined ? {} : { settleMs: genv.sysfsSettleMs }) });
  };
}
