// Durations in config ("90s", "5m", "2h", "1d") as milliseconds, with a zod schema that parses them.
import { z } from 'zod';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = UNIT_MS[m[2] ?? ''];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** "30s", "5m", "2h", "1d" or a number of milliseconds. */
export const durationSchema = z.union([z.int().min(0), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a duration such as 30s, 5m, 2h or 1d' });
    return z.NEVER;
  }
  return ms;
});
