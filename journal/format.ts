// The journal's on-disk format, as pure functions on buffers (no file I/O):
//   NNNNNNNNNNNNNNNN.seg  records: [u32 dataLen][u32 crc32(id..data)][f64 id][f64 at][data]
//   NNNNNNNNNNNNNNNN.ack  resolutions of that segment's records: [f64 id][u8 kind][u32 crc32(id,kind)]
//                         kind 1 = acked, 2 = dropped (age/count bound)
import { crc32 } from 'node:zlib';

export const HEADER = 24;
export const ACK_RECORD = 13;
export const KIND_ACK = 1;
export const KIND_DROP = 2;
export const MAX_RECORD = 64 * 1024 * 1024;

export function segName(no: number, ext: 'seg' | 'ack'): string {
  return `${String(no).padStart(16, '0')}.${ext}`;
}

export const SEG_FILE = /^\d{16}\.seg$/;
export const ACK_FILE = /^\d{16}\.ack$/;

/** One record, header and data, ready to write. */
export function encodeRecord(id: number, at: number, data: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + data.length);
  buf.writeUInt32LE(data.length, 0);
  buf.writeDoubleLE(id, 8);
  buf.writeDoubleLE(at, 16);
  data.copy(buf, HEADER);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** One resolution (ack or drop) of a record. */
export function encodeResolution(id: number, kind: number): Buffer {
  const rec = Buffer.allocUnsafe(ACK_RECORD);
  rec.writeDoubleLE(id, 0);
  rec.writeUInt8(kind, 8);
  rec.writeUInt32LE(crc32(rec.subarray(0, 9)), 9);
  return rec;
}

export interface ScannedRecord {
  readonly id: number;
  readonly at: number;
  readonly offset: number;
  readonly size: number;
}

/** The intact records of a segment file's bytes, and where the intact part ends (a torn or corrupt tail starts there). */
export function scanRecords(data: Buffer): { records: ScannedRecord[]; end: number } {
  let offset = 0;
  const records: ScannedRecord[] = [];
  while (offset + HEADER <= data.length) {
    const len = data.readUInt32LE(offset);
    if (len > MAX_RECORD || offset + HEADER + len > data.length) break;
    const crc = data.readUInt32LE(offset + 4);
    if (crc32(data.subarray(offset + 8, offset + HEADER + len)) !== crc) break;
    records.push({ id: data.readDoubleLE(offset + 8), at: data.readDoubleLE(offset + 16), offset, size: len });
    offset += HEADER + len;
  }
  return { records, end: offset };
}

/** The ids an ack file resolves, and where its intact part ends. */
export function scanResolutions(acks: Buffer): { resolved: Set<number>; end: number } {
  const resolved = new Set<number>();
  let end = 0;
  while (end + ACK_RECORD <= acks.length) {
    const rec = acks.subarray(end, end + ACK_RECORD);
    if (crc32(rec.subarray(0, 9)) !== rec.readUInt32LE(9)) break;
    resolved.add(rec.readDoubleLE(0));
    end += ACK_RECORD;
  }
  return { resolved, end };
}
