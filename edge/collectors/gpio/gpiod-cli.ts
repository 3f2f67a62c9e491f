// The command lines and the output of Debian's `gpiod` tools, libgpiod 1.6 (Debian bookworm, Raspberry Pi OS
// Bookworm) and 2.x (Debian trixie and later): the two have different options and print different lines.
// Pure functions: gpiod-pin.ts runs the tools, the tests feed these the tools' recorded output.
import type { Bias } from './line-spec.ts';

export interface GpiodVersion {
  major: 1 | 2;
  /** As printed: `v1.6.3`. */
  text: string;
}

/** The first line of `gpiomon --version`: `gpiomon (libgpiod) v1.6.3`. */
export function parseGpiodVersion(out: string): GpiodVersion | undefined {
  const m = /\(libgpiod\) (v(\d+)\.\d+[^\s]*)/.exec(out);
  if (m === null) return undefined;
  const major = Number(m[2]);
  if (major === 1 || major === 2) return { major, text: m[1] ?? '' };
  // A libgpiod 3 may change the CLI again: better "unsupported" than a misread line.
  return undefined;
}

/** Consumer name of our line requests (2.x lets us set it; 1.6 always says `gpiomon`/`gpioget`). */
export const CONSUMER = 'ioc-edge';

export interface LineRequest {
  /** Chip as gpiod takes it: `gpiochip0`. */
  chip: string;
  offset: number;
  activeLow: boolean;
  bias: Bias;
}

function biasArgs(v: GpiodVersion, bias: Bias): string[] {
  if (bias === 'as-is') return [];
  // 1.6 spells it `disable`, 2.x `disabled`; 2.x has no `as-is` (leaving the bias alone is its default).
  if (v.major === 1) return ['-B', bias];
  return ['-b', bias === 'disable' ? 'disabled' : bias];
}

/**
 * `gpiomon` for one line. 1.6: `-b` makes stdout line-buffered: without it, piped output would sit in stdio's
 * 4 KiB buffer and no edge would arrive for minutes. 2.x flushes after every read, and its `--banner` line says
 * the request succeeded (in 2.x `-b` is the bias!).
 */
export function gpiomonArgs(v: GpiodVersion, r: LineRequest): string[] {
  if (v.major === 1) return ['-b', ...(r.activeLow ? ['-l'] : []), ...biasArgs(v, r.bias), r.chip, String(r.offset)];
  return ['--banner', '-C', CONSUMER, '-c', r.chip, ...(r.activeLow ? ['-l'] : []), ...biasArgs(v, r.bias), String(r.offset)];
}

/** `gpioget` for one line: prints its level (active-low applied). */
export function gpiogetArgs(v: GpiodVersion, r: LineRequest): string[] {
  if (v.major === 1) return [...(r.activeLow ? ['-l'] : []), ...biasArgs(v, r.bias), r.chip, String(r.offset)];
  return ['--numeric', '-C', CONSUMER, '-c', r.chip, ...(r.activeLow ? ['-l'] : []), ...biasArgs(v, r.bias), String(r.offset)];
}

/** `gpioget`'s output: `1` (1.6, and 2.x with `--numeric`), or 2.x's `"GPIO17"=active`. */
export function parseGpiogetValue(out: string): 0 | 1 | undefined {
  const t = out.trim();
  if (t === '0' || /=inactive$/.test(t)) return 0;
  if (t === '1' || /=active$/.test(t)) return 1;
  return undefined;
}

/** The program and arguments that find a line by name: 1.6 `gpiofind NAME`, 2.x `gpioinfo NAME`. */
export function findLineCommand(v: GpiodVersion, name: string): { cmd: string; args: string[] } {
  // `--` so a name is never read as an option; 2.x also needs --by-name for names that look like numbers.
  if (v.major === 1) return { cmd: 'gpiofind', args: ['--', name] };
  return { cmd: 'gpioinfo', args: ['--by-name', '--', name] };
}

/** `gpiofind`'s `gpiochip0 17`, or 2.x `gpioinfo NAME`'s `gpiochip0 17\t"GPIO17"  \tinput`. */
export function parseFoundLine(out: string): { chip: string; offset: number } | undefined {
  const m = /^(\S+) (\d+)(?:\s|$)/.exec(out.trim());
  if (m === null) return undefined;
  return { chip: m[1] ?? '', offset: Number(m[2]) };
}

/** One edge from `gpiomon`: the new level (rising = 1; with `-l` the kernel swaps the edges for us). */
export interface GpiomonEdge {
  value: 0 | 1;
  offset: number | undefined;
  /** The kernel's timestamp (CLOCK_MONOTONIC), seconds. */
  kernelS: number;
}

// 1.6: printf("event: %s offset: %u timestamp: [%8ld.%09ld]\n") with " RISING EDGE" / "FALLING EDGE".
const V1_EDGE = /^event:\s+(RISING|FALLING) EDGE offset: (\d+) timestamp: \[\s*(\d+)\.(\d+)\]/;
// 2.x: "<s>.<ns>\trising\t" then the line id (`gpiochip0 17 "GPIO17"` when -c is given).
const V2_EDGE = /^(\d+)\.(\d+)\s+(rising|falling)\s+(?:(\S+) (\d+))?/;

/** One line of `gpiomon`'s default output; undefined for anything else (2.x's banner, blank lines). */
export function parseGpiomonLine(v: GpiodVersion, line: string): GpiomonEdge | undefined {
  if (v.major === 1) {
    const m = V1_EDGE.exec(line);
    if (m === null) return undefined;
    return { value: m[1] === 'RISING' ? 1 : 0, offset: Number(m[2]), kernelS: Number(`${m[3]}.${m[4]}`) };
  }
  const m = V2_EDGE.exec(line);
  if (m === null) return undefined;
  return { value: m[3] === 'rising' ? 1 : 0, offset: m[5] === undefined ? undefined : Number(m[5]), kernelS: Number(`${m[1]}.${m[2]}`) };
}

/** 2.x's `--banner` line, printed once the line is requested. */
export function isGpiomonBanner(line: string): boolean {
  return line.startsWith('Monitoring line');
}

export type GpioFailureReason = 'busy' | 'no-line' | 'no-chip' | 'permission' | 'failed';

/** What went wrong, from a tool's stderr (`gpiomon: error waiting for events: Device or resource busy`). */
export function classifyGpiodError(stderr: string): GpioFailureReason {
  if (/Device or resource busy|EBUSY/i.test(stderr)) return 'busy';
  if (/Permission denied|EACCES|Operation not permitted/i.test(stderr)) return 'permission';
  if (/cannot find GPIO chip|unable to open chip|No such device/i.test(stderr)) return 'no-chip';
  if (/cannot find line|out of range|Invalid argument|No such file or directory|invalid GPIO offset/i.test(stderr)) return 'no-line';
  return 'failed';
}
