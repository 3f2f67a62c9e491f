// The agent data contract as a check: which points of an agent's batch the hub may store.
// Per point, not per batch: one bad reading (a clock jump, a wrong type) never costs the rest.
import { MEASUREMENTS, RESERVED_TAG_KEYS, type FieldType, type MeasurementSpec } from './measurements.ts';
import { LIMITS, type FieldValue, type Point } from './schemas.ts';

/** Why a point was refused: stable values, used as a metric label. */
export const CONTRACT_VIOLATIONS = [
  'unknown_measurement',
  'hub_measurement',
  'unknown_tag',
  'unknown_field',
  'field_type',
  'control_char',
  'too_long',
  'not_finite',
  'clock_future',
  'clock_past',
  'tag_escape',
] as const;
export type ContractViolation = (typeof CONTRACT_VIOLATIONS)[number];

/** Accepted reading times, epoch ms, relative to the hub's clock. */
export interface TimeWindow {
  /** Oldest accepted `t` (raw retention ago: older would be dropped by InfluxDB anyway). */
  min: number;
  /** Newest accepted `t` (a few minutes ahead of the hub: clocks drift). */
  max: number;
}

/** C0 and C1 control characters and DEL: a newline in a tag value would start a new line-protocol line. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/**
 * A tag value ending in a backslash: InfluxDB 1.x line protocol cannot carry it (the backslash escapes the comma or
 * space after it, and the point fails to parse after its batch was acknowledged). test/line-protocol-influx.test.ts
 * shows it, and that a backslash anywhere else in a tag value is stored as sent.
 */
export const TAG_ESCAPE = /\\$/;

const SPECS: ReadonlyMap<string, MeasurementSpec> = new Map(Object.entries(MEASUREMENTS));
const AGENT_TAGS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(MEASUREMENTS).map(([m, spec]) => [m, new Set(spec.tags.filter((t) => !RESERVED_TAG_KEYS.has(t)))]),
);

export function fieldTypeOf(value: FieldValue): FieldType {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
}

/** The field's declared type for an agent, or undefined when an agent may not write it. */
export function agentFieldType(spec: MeasurementSpec, field: string): FieldType | undefined {
  if (spec.owner === 'hub') return undefined;
  return Object.hasOwn(spec.fields, field) ? spec.fields[field] : spec.otherFields;
}

/**
 * Checks one point of an agent (already through `pointSchema`). Undefined: the point may be stored.
 * `window` is optional so that the edge's own tests can check shape without a clock.
 */
export function checkAgentPoint(p: Point, window?: TimeWindow): ContractViolation | undefined {
  const spec = SPECS.get(p.m);
  if (spec === undefined) return 'unknown_measurement';
  if (spec.owner === 'hub') return 'hub_measurement';
  if (window !== undefined) {
    if (p.t > window.max) return 'clock_future';
    if (p.t < window.min) return 'clock_past';
  }
  const allowedTags = AGENT_TAGS.get(p.m);
  for (const [k, v] of Object.entries(p.tags ?? {})) {
    if (allowedTags === undefined || !allowedTags.has(k)) return 'unknown_tag';
    if (v.length > LIMITS.maxTagValueLength) return 'too_long';
    if (CONTROL_CHARS.test(v)) return 'control_char';
    if (TAG_ESCAPE.test(v)) return 'tag_escape';
  }
  for (const [k, v] of Object.entries(p.fields)) {
    const type = agentFieldType(spec, k);
    if (type === undefined) return 'unknown_field';
    if (fieldTypeOf(v) !== type) return 'field_type';
    if (typeof v === 'number' && !Number.isFinite(v)) return 'not_finite';
    if (typeof v === 'string') {
      if (v.length > LIMITS.maxStringFieldLength) return 'too_long';
      if (CONTROL_CHARS.test(v)) return 'control_char';
    }
  }
  return undefined;
}

export interface ContractOutcome {
  accepted: Point[];
  /** Refused points by reason. */
  refused: Map<ContractViolation, number>;
  /** Earliest / latest `t` among points refused for the clock (for the clock-problem report). */
  clockRefused?: { future: number; past: number; minT: number; maxT: number };
}

/** Splits a batch's points into those the contract accepts and counts of the refused ones by reason. */
export function applyContract(points: readonly Point[], window: TimeWindow): ContractOutcome {
  const accepted: Point[] = [];
  const refused = new Map<ContractViolation, number>();
  let clock: ContractOutcome['clockRefused'];
  for (const p of points) {
    const why = checkAgentPoint(p, window);
    if (why === undefined) {
      accepted.push(p);
      continue;
    }
    refused.set(why, (refused.get(why) ?? 0) + 1);
    clock = noteClockRefusal(clock, why, p.t);
  }
  return clock === undefined ? { accepted, refused } : { accepted, refused, clockRefused: clock };
}

/** The clock-problem report after one more refusal: counted and its `t` taken in when `why` is a clock reason. */
export function noteClockRefusal(clock: ContractOutcome['clockRefused'], why: ContractViolation, t: number): ContractOutcome['clockRefused'] {
  if (why !== 'clock_future' && why !== 'clock_past') return clock;
  const c = clock ?? { future: 0, past: 0, minT: t, maxT: t };
  if (why === 'clock_future') c.future += 1;
  else c.past += 1;
  c.minT = Math.min(c.minT, t);
  c.maxT = Math.max(c.maxT, t);
  return c;
}
