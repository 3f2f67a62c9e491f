// The agent's recent log lines in memory, for the `logs` diagnostic: under systemd the agent logs to stdout only
// (the journal keeps it), so the process keeps its own newest lines. Bounded in lines and in bytes per line;
// what it forgets or cuts is counted.
import type { DestinationStream } from 'pino';

export const LOG_RING_LINES = 500;
export const LOG_LINE_MAX_BYTES = 2048;

export class LogRing {
  private readonly lines: string[] = [];
  private next = 0;
  /** Lines seen since start. */
  total = 0;
  /** Lines longer than the bound, kept cut. */
  cut = 0;

  constructor(readonly capacity = LOG_RING_LINES) {}

  push(chunk: string): void {
    for (const raw of chunk.split('\n')) {
      if (raw === '') continue;
      const line = raw.length > LOG_LINE_MAX_BYTES ? `${raw.slice(0, LOG_LINE_MAX_BYTES)}…` : raw;
      if (line !== raw) this.cut++;
      this.total++;
      if (this.lines.length < this.capacity) this.lines.push(line);
      else this.lines[this.next] = line;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** The newest `n` lines, oldest first. */
  tail(n: number): string[] {
    const ordered = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return ordered.slice(Math.max(0, ordered.length - n));
  }

  get size(): number {
    return this.lines.length;
  }
}

/** A pino destination that writes each line to `out` (stdout) and keeps it in the ring. */
export function teeToRing(ring: LogRing, out: { write(s: string): unknown }): DestinationStream {
  return {
    write(s: string): void {
      out.write(s);
      ring.push(s);
    },
  };
}
