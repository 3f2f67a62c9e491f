import { describe, expect, it } from 'vitest';
import { decodeWords, encodeWords, planReads, registerSchema } from './register-map.ts';

const spec = (o: Record<string, unknown>) => registerSchema.parse({ field: 'x', address: 0, ...o });

describe('register decoding (golden words)', () => {
  it('decodes 16-bit values with sign and scale', () => {
    expect(decodeWords([0x0901], spec({ type: 'uint16', scale: 0.1 }))).toBe(230.5);
    expect(decodeWords([0xff9c], spec({ type: 'int16', scale: 0.1 }))).toBe(-10);
    expect(decodeWords([0xff9c], spec({ type: 'uint16' }))).toBe(65436);
  });

  it('decodes 32-bit values in both word orders', () => {
    // 123456 = 0x0001E240; -2 = 0xFFFFFFFE; 230.5f = 0x43668000
    expect(decodeWords([0x0001, 0xe240], spec({ type: 'uint32' }))).toBe(123456);
    expect(decodeWords([0xe240, 0x0001], spec({ type: 'uint32', wordOrder: 'little' }))).toBe(123456);
    expect(decodeWords([0xffff, 0xfffe], spec({ type: 'int32' }))).toBe(-2);
    expect(decodeWords([0x4366, 0x8000], spec({ type: 'float32' }))).toBe(230.5);
    expect(decodeWords([0x8000, 0x4366], spec({ type: 'float32', wordOrder: 'little' }))).toBe(230.5);
    expect(decodeWords([0x4366], spec({ type: 'float32' }))).toBeUndefined();
  });

  it('round-trips encodeWords', () => {
    for (const o of [{ type: 'int32', wordOrder: 'little', scale: 0.01 }, { type: 'float32' }, { type: 'int16', scale: 0.1 }]) {
      const s = spec(o);
      expect(decodeWords(encodeWords(-12.5, s), s)).toBeCloseTo(-12.5, 5);
    }
  });

  it('plans few reads per function', () => {
    const regs = [spec({ field: 'a', address: 0 }), spec({ field: 'b', address: 3, type: 'float32' }), spec({ field: 'c', address: 70 }), spec({ field: 'd', address: 0, function: 'coil' })];
    expect(planReads(regs).map((s) => [s.function, s.address, s.length, s.registers.length])).toEqual([
      ['holding', 0, 5, 2],
      ['holding', 70, 1, 1],
      ['coil', 0, 1, 1],
    ]);
  });
});
