// An Accumulator that keeps every reading, for collector tests.
import type { FieldValue } from '../../protocol/index.ts';
import type { Accumulator } from '../collectors/types.ts';

export interface Reading {
  m: string;
  fields: Record<string, FieldValue>;
  tags: Record<string, string> | undefined;
  t: number;
}

export class RecordingAccumulator implements Accumulator {
  readonly readings: Reading[] = [];
  add(m: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t: number = Date.now()): void {
    this.readings.push({ m, fields, tags, t });
  }
  only(): Reading {
    if (this.readings.length !== 1) throw new Error(`expected one reading, got ${this.readings.length}`);
    const [r] = this.readings;
    if (r === undefined) throw new Error('no reading');
    return r;
  }
}
