// Modbus register maps: what to read (address, function, type, word order, scale) and how to decode it. Pure.
import { z } from 'zod';

export const MODBUS_FUNCTIONS = ['holding', 'input', 'coil', 'discrete'] as const;
export const MODBUS_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export type ModbusFunction = (typeof MODBUS_FUNCTIONS)[number];
export type ModbusType = (typeof MODBUS_TYPES)[number];

export const registerSchema = z.strictObject({
  /** Field name in the `equipment` point. */
  field: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'field: lowercase letters, digits, _'),
  /** 0-based protocol address (register 40001 is holding address 0). */
  address: z.int().min(0).max(65_535),
  function: z.enum(MODBUS_FUNCTIONS).default('holding'),
  /** Ignored for coil/discrete (a bit: 0/1). */
  type: z.enum(MODBUS_TYPES).default('uint16'),
  /** 32-bit values: `big` = high word first (most devices), `little` = low word first. */
  wordOrder: z.enum(['big', 'little']).default('big'),
  /** value = raw × scale. */
  scale: z.number().default(1),
  /** Documentation only (V, A, kWh, %, °C). */
  unit: z.string().max(16).optional(),
});
export type RegisterSpec = z.infer<typeof registerSchema>;
export type RegisterSpecInput = z.input<typeof registerSchema>;

export function wordCount(r: Pick<RegisterSpec, 'function' | 'type'>): number {
  if (r.function === 'coil' || r.function === 'discrete') return 1;
  return r.type === 'int16' || r.type === 'uint16' ? 1 : 2;
}

/** Decodes one value from 16-bit words read starting at its address. */
export function decodeWords(words: readonly number[], r: Pick<RegisterSpec, 'type' | 'wordOrder' | 'scale'>): number | undefined {
  const w0 = words[0];
  if (w0 === undefined) return undefined;
  let raw: number;
  if (r.type === 'uint16' || r.type === 'int16') {
    raw = r.type === 'int16' && w0 >= 0x8000 ? w0 - 0x10000 : w0;
  } else {
    const w1 = words[1];
    if (w1 === undefined) return undefined;
    const [hi, lo] = r.wordOrder === 'big' ? [w0, w1] : [w1, w0];
    const buf = Buffer.alloc(4);
    buf.writeUInt16BE(hi & 0xffff, 0);
    buf.writeUInt16BE(lo & 0xffff, 2);
    raw = r.type === 'uint32' ? buf.readUInt32BE(0) : r.type === 'int32' ? buf.readInt32BE(0) : buf.readFloatBE(0);
  }
  if (!Number.isFinite(raw)) return undefined;
  const v = raw * r.scale;
  // Trim float noise (0.1 × 2305 = 230.50000000000003).
  return Number.parseFloat(v.toPrecision(10));
}

/** Encodes a value as the words a device would hold (test servers, golden fixtures). */
export function encodeWords(value: number, r: Pick<RegisterSpec, 'type' | 'wordOrder' | 'scale'>): number[] {
  const raw = r.type === 'float32' ? value / r.scale : Math.round(value / r.scale);
  if (r.type === 'uint16' || r.type === 'int16') return [raw & 0xffff];
  const buf = Buffer.alloc(4);
  if (r.type === 'float32') buf.writeFloatBE(raw, 0);
  else if (r.type === 'int32') buf.writeInt32BE(raw, 0);
  else buf.writeUInt32BE(raw, 0);
  const hi = buf.readUInt16BE(0);
  const lo = buf.readUInt16BE(2);
  return r.wordOrder === 'big' ? [hi, lo] : [lo, hi];
}

export interface ReadSpan {
  function: ModbusFunction;
  address: number;
  length: number;
  registers: RegisterSpec[];
}

/** Groups registers of one function into few reads (gaps ≤ maxGap, ≤ maxLength words or bits each). */
export function planReads(registers: readonly RegisterSpec[], maxGap = 8, maxLength = 100): ReadSpan[] {
  const spans: ReadSpan[] = [];
  for (const fn of MODBUS_FUNCTIONS) {
    const regs = registers.filter((r) => r.function === fn).sort((a, b) => a.address - b.address);
    let cur: ReadSpan | undefined;
    for (const r of regs) {
      const end = r.address + wordCount(r);
      if (cur !== undefined && r.address - (cur.address + cur.length) <= maxGap && end - cur.address <= maxLength) {
        cur.length = Math.max(cur.length, end - cur.address);
        cur.registers.push(r);
      } else {
        cur = { function: fn, address: r.address, length: wordCount(r), registers: [r] };
        spans.push(cur);
      }
    }
  }
  return spans;
}
