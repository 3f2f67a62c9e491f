// Reads MQTT fixed headers off a byte stream to learn each packet's declared size before its bytes are
// buffered: the broker refuses a packet larger than its limit from the header alone.

export type FramingVerdict =
  | { readonly ok: true }
  /** A packet declares more than the limit in force when its header was read. */
  | { readonly ok: false; readonly reason: 'packet_too_large'; readonly declared: number; readonly limit: number }
  /** The remaining-length varint runs past four bytes (MQTT 3.1.1 §2.2.3). */
  | { readonly ok: false; readonly reason: 'malformed_header' };

const OK: FramingVerdict = { ok: true };

/**
 * Follows packet boundaries chunk by chunk. `limit()` is read at each new fixed header, so the limit
 * can change once the connection is authenticated. State is a few numbers: nothing is kept of the bytes.
 */
export class PacketFraming {
  /** Bytes of the current packet's body still to skip. */
  private remaining = 0;
  /** Inside a fixed header: 0 = expecting the type byte; 1..4 = varint bytes read so far. */
  private headerBytes = 0;
  private declared = 0;
  private multiplier = 1;
  private failed: FramingVerdict | undefined;
  packets = 0;

  constructor(private readonly limit: () => number) {}

  feed(chunk: Buffer): FramingVerdict {
    if (this.failed !== undefined) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (this.headerBytes === 0) {
        this.headerBytes = 1;
        this.declared = 0;
        this.multiplier = 1;
        continue;
      }
      this.declared += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if ((byte & 0x80) !== 0) {
        if (++this.headerBytes > 4) return (this.failed = { ok: false, reason: 'malformed_header' });
        continue;
      }
      this.headerBytes = 0;
      this.packets++;
      const limit = this.limit();
      if (this.declared > limit) return (this.failed = { ok: false, reason: 'packet_too_large', declared: this.declared, limit });
      this.remaining = this.declared;
    }
    return OK;
  }
}
