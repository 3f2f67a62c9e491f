import { describe, expect, it } from 'vitest';
import { ACK_RECORD, encodeRecord, encodeResolution, HEADER, KIND_ACK, KIND_DROP, scanRecords, scanResolutions } from './format.ts';

describe('journal format', () => {
  it('reads back what it encodes, and stops at a torn or corrupt tail', () => {
    const a = encodeRecord(1, 1000, Buffer.from('alpha'));
    const b = encodeRecord(7, 2000, Buffer.from('be'));
    const whole = Buffer.concat([a, b]);
    expect(scanRecords(whole)).toEqual({ records: [{ id: 1, at: 1000, offset: 0, size: 5 }, { id: 7, at: 2000, offset: a.length, size: 2 }], end: whole.length });
    // torn: the second record's last byte is missing
    expect(scanRecords(whole.subarray(0, whole.length - 1)).end).toBe(a.length);
    // corrupt: one data byte of the second record flipped
    const bad = Buffer.from(whole);
    bad[a.length + HEADER] = (bad[a.length + HEADER] ?? 0) ^ 0xff;
    expect(scanRecords(bad).records.map((r) => r.id)).toEqual([1]);
  });

  it('reads resolutions back and stops at a torn one', () => {
    const acks = Buffer.concat([encodeResolution(3, KIND_ACK), encodeResolution(9, KIND_DROP)]);
    expect(scanResolutions(acks)).toEqual({ resolved: new Set([3, 9]), end: 2 * ACK_RECORD });
    expect(scanResolutions(acks.subarray(0, acks.length - 2))).toEqual({ resolved: new Set([3]), end: ACK_RECORD });
  });
});
