import { describe, expect, it } from 'vitest';
import { connectPacket, publishPacket } from '../../testkit/raw-mqtt.ts';
import { PacketFraming } from './mqtt-framing.ts';

const connect = connectPacket('a/b', 'a/b', 'x');
const publish = (bytes: number): Buffer => publishPacket('ioc/v1/a/b/telemetry', Buffer.alloc(bytes));

describe('PacketFraming', () => {
  it('follows packets across chunk boundaries, one byte at a time too', () => {
    const stream = Buffer.concat([connect, publish(100), publish(3000), Buffer.from([0xc0, 0x00])]);
    const whole = new PacketFraming(() => 4096);
    expect(whole.feed(stream)).toEqual({ ok: true });
    expect(whole.packets).toBe(4);
    const bytewise = new PacketFraming(() => 4096);
    for (const b of stream) expect(bytewise.feed(Buffer.from([b])).ok).toBe(true);
    expect(bytewise.packets).toBe(4);
  });

  it('refuses from the header alone a packet that declares more than the limit', () => {
    const f = new PacketFraming(() => 4096);
    expect(f.feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toEqual({ ok: false, reason: 'packet_too_large', declared: 268_435_455, limit: 4096 });
    expect(f.feed(Buffer.alloc(10)).ok).toBe(false); // stays refused
  });

  it('reads the limit at each header, so it can grow after authentication', () => {
    let limit = 256;
    const f = new PacketFraming(() => limit);
    expect(f.feed(connect).ok).toBe(true);
    limit = 8192;
    expect(f.feed(publish(5000)).ok).toBe(true);
    limit = 256;
    expect(f.feed(publish(5000))).toMatchObject({ ok: false, reason: 'packet_too_large' });
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketFraming(() => 1e9).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toEqual({ ok: false, reason: 'malformed_header' });
  });
});
