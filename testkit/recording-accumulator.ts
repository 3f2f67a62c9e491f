// An Accumulator that keeps every reading, for collector tests.
import { checkAgentPoint, pointSchema, type FieldValue } from '../protocol/index.ts';
import type { Accumulator } from '../edge/collectors/types.ts';

export interface Reading {
  m: string;
  fields: Record<string, FieldValue>;
  tags: Record<string, string> | undefined;
  t: number;
  /** 'event' for acc.event(). */
  channel: 'telemetry' | 'event';
}

export class RecordingAccumulator implements Accumulator {
  readonly readings: Reading[] = [];
  add(m: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = Date.now()): void {
    assertContract(m, fields, tags, t);
    this.readings.push({ m, fields, tags, t, channel: 'telemetry' });
  }
  event(m: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = Date.now()): void {
    assertContract(m, fields, tags, t);
    this.readings.push({ m, fields, tags, t, channel: 'event' });
  }
  /** Readings of one measurement. */
  of(m: string): Reading[] {
    return this.readings.filter((r) => r.m === m);
  }
  only(): Reading {
    if (this.readings.length !== 1) throw new Error(`expected one reading, got ${this.readings.length}`);
    const [r] = this.readings;
    if (r === undefined) throw new Error('no reading');
    return r;
  }
}

/** Every collector test checks its readings against the agent data contract the hub enforces (protocol/contract.ts). */
function assertContract(m: string, fields: Record<string, FieldValue>, tags: Record<string, string> | undefined, t: number): void {
  const parsed = pointSchema.safeParse(tags === undefined ? { m, t, fields } : { m, t, tags, fields });
  const why = parsed.success ? checkAgentPoint(parsed.data) : `schema: ${parsed.error.issues[0]?.message ?? ''}`;
  if (why !== undefined) throw new Error(`reading outside the agent data contract (${why}): ${JSON.stringify({ m, tags, fields })}`);
}
