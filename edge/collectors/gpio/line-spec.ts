// How a config names one GPIO input line: by line name (`GPIO17`, portable across Pi models), by chip + offset,
// or by the deprecated BCM `pin:` number; the zod fields that the gpio and queue collectors share.
import { z } from 'zod';

/** Pull resistor of an input line (gpiod's `--bias`). `as-is` leaves what the firmware (config.txt) set. */
export const BIASES = ['as-is', 'pull-up', 'pull-down', 'disable'] as const;
export type Bias = (typeof BIASES)[number];

/** A line as the config names it, before it is found on a chip. */
export interface LineSpec {
  /** A chip of /dev (`gpiochip0`), or its label (`pinctrl-rp1`); undefined: search every chip for the name. */
  chip: string | undefined;
  /** A line name (`GPIO17`) or, with `chip`, an offset on that chip. */
  line: string | number;
}

/** Chip a numeric `line:` without `chip:` is on (the 40-pin header on a Pi 1–4 and on a Pi 5 with kernel ≥ 6.6.y). */
export const DEFAULT_CHIP = 'gpiochip0';

const lineNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,31}$/, 'a line name such as GPIO17 (letters, digits, _ . -)');
const chipSchema = z.string().regex(/^[A-Za-z0-9_.:@/-]{1,64}$/, 'a chip such as gpiochip0 or its label pinctrl-rp1');

/** The fields a GPIO input entry has, whatever it is for. */
export const lineEntryShape = {
  /** Line name (`GPIO17`: the header pin on every Pi model) or, with `chip`, the line offset on that chip. */
  line: z.union([z.int().min(0).max(1023), lineNameSchema]).optional(),
  /** Chip of the line (`gpiochip0`, `/dev/gpiochip4` or a label like `pinctrl-rp1`); default: every chip is searched for a name, `gpiochip0` for an offset. */
  chip: chipSchema.optional(),
  /** Deprecated: a BCM number, read as `line: GPIO<pin>` (and kept as the `pin` tag). */
  pin: z.int().min(0).max(63).optional(),
  /** Pull resistor: set it (pull-up for a contact to ground) or leave the firmware's (`as-is`). */
  bias: z.enum(BIASES).default('as-is'),
};

/** A parsed input line: where it is, and the `pin` tag its readings carry. */
export interface ResolvedLineEntry {
  spec: LineSpec;
  /** `pin` tag: `GPIO17`, `gpiochip0:17`, or the BCM number of a deprecated `pin:` entry (so its series go on). */
  tag: string;
  bias: Bias;
  /** Set when the entry used the deprecated `pin:` key: the collector logs a note at start. */
  legacyPin: number | undefined;
}

interface LineEntryInput {
  line?: string | number | undefined;
  chip?: string | undefined;
  pin?: number | undefined;
  bias: Bias;
}

/** Checks that an entry names exactly one line (zod superRefine). */
export function checkLineEntry(e: LineEntryInput, ctx: z.RefinementCtx): void {
  if (e.line === undefined && e.pin === undefined) ctx.addIssue({ code: 'custom', message: 'give `line` (GPIO17, or an offset with `chip`)', path: ['line'] });
  if (e.line !== undefined && e.pin !== undefined) ctx.addIssue({ code: 'custom', message: '`pin` is the old name of `line: GPIO<pin>`: give one of them', path: ['pin'] });
  if (e.pin !== undefined && e.chip !== undefined) ctx.addIssue({ code: 'custom', message: '`pin` is a BCM number: use `line:` with `chip:`', path: ['chip'] });
}

/** The line an entry names, and its tag. Call after checkLineEntry. */
export function resolveLineEntry(e: LineEntryInput): ResolvedLineEntry {
  if (e.pin !== undefined) return { spec: { chip: undefined, line: `GPIO${e.pin}` }, tag: String(e.pin), bias: e.bias, legacyPin: e.pin };
  const line = e.line ?? 0;
  const chip = typeof line === 'number' ? (e.chip ?? DEFAULT_CHIP) : e.chip;
  return { spec: { chip, line }, tag: lineTag({ chip, line }), bias: e.bias, legacyPin: undefined };
}

/** `GPIO17`, or `gpiochip0:17` for an offset. */
export function lineTag(spec: LineSpec): string {
  if (typeof spec.line === 'string') return spec.line;
  return `${(spec.chip ?? DEFAULT_CHIP).replace(/^\/dev\//, '')}:${spec.line}`;
}

/** For logs: `GPIO17`, `GPIO17 on pinctrl-rp1`, `gpiochip4 line 17`. */
export function describeLine(spec: LineSpec): string {
  if (typeof spec.line === 'number') return `${spec.chip ?? DEFAULT_CHIP} line ${spec.line}`;
  return spec.chip === undefined ? spec.line : `${spec.line} on ${spec.chip}`;
}
