// Grafana's InfluxQL interpolation, reproduced for tests that run the generated queries against a real influxd:
// $timeFilter, $__interval, $interval, $__range…, $__from/$__to and template variables in every form Grafana accepts.
import { localDayStart, VN_UTC_OFFSET_MIN } from '../common/local-day.ts';

export interface MacroContext {
  /** Range start as in Grafana's time picker: `now-6h`, `now-30d`, `now/d` (start of today in `utcOffsetMinutes`). */
  from: string;
  /** `$__interval` (Grafana derives it from range / max data points), e.g. `10s`. */
  interval: string;
  /** Template variable values (single-valued, as the dashboards use them). */
  vars: Readonly<Record<string, string>>;
  /** For `now/d`; default 420 (Asia/Ho_Chi_Minh). */
  utcOffsetMinutes?: number;
  /** Clock for `now/d` and `$__from`; default Date.now(). */
  now?: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(d);
  const unit = m?.[2];
  if (m === null || unit === undefined) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * (UNIT_MS[unit] ?? 0);
}

/** Range start in epoch ms. */
export function rangeStart(ctx: MacroContext): number {
  const now = ctx.now ?? Date.now();
  if (ctx.from === 'now/d') {
    return localDayStart(now, ctx.utcOffsetMinutes ?? VN_UTC_OFFSET_MIN);
  }
  const m = /^now-(\d+(?:ms|s|m|h|d|w|y))$/.exec(ctx.from);
  if (m === null || m[1] === undefined) throw new Error(`unsupported range start: ${ctx.from}`);
  return now - durationMs(m[1]);
}

/** What Grafana puts for $timeFilter: relative starts stay relative to now(), rounded ones become absolute. */
export function timeFilterFor(ctx: MacroContext): string {
  const rel = /^now-(\d+(?:ms|s|m|h|d|w|y))$/.exec(ctx.from);
  if (rel !== null && rel[1] !== undefined) return `time >= now() - ${rel[1]}`;
  return `time >= ${rangeStart(ctx)}ms and time <= ${ctx.now ?? Date.now()}ms`;
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** Replaces every Grafana macro and variable; throws on a `$name` it does not know (Grafana would leave it, and InfluxDB would fail). */
export function interpolateInfluxQL(query: string, ctx: MacroContext): string {
  const now = ctx.now ?? Date.now();
  const start = rangeStart(ctx);
  const intervalMs = durationMs(ctx.interval);
  const rangeMs = now - start;
  const builtins: Record<string, string> = {
    timeFilter: timeFilterFor(ctx),
    __timeFilter: timeFilterFor(ctx),
    __interval: ctx.interval,
    interval: ctx.interval,
    __interval_ms: String(intervalMs),
    __range: `${Math.round(rangeMs / 1000)}s`,
    __range_s: String(Math.round(rangeMs / 1000)),
    __range_ms: String(rangeMs),
    __from: String(start),
    __to: String(now),
  };
  const value = (name: string, format: string | undefined): string => {
    const builtin = builtins[name];
    if (builtin !== undefined) return builtin;
    const v = ctx.vars[name];
    if (v === undefined) throw new Error(`unknown Grafana variable $${name} in: ${query}`);
    if (format === undefined || format === 'raw') return v;
    if (format === 'regex') return escapeRegex(v);
    if (format === 'sqlstring') return `'${v.replace(/'/g, "''")}'`;
    throw new Error(`unsupported variable format :${format}`);
  };
  return query
    .replace(/\$\{(\w+)(?::(\w+))?\}/g, (_m, name: string, format: string | undefined) => value(name, format))
    .replace(/\[\[(\w+)(?::(\w+))?\]\]/g, (_m, name: string, format: string | undefined) => value(name, format))
    .replace(/\$(\w+)/g, (_m, name: string) => value(name, undefined));
}
