// Exponential back-off with full jitter and a cap (AWS architecture blog, "Exponential Backoff And Jitter").

export interface BackoffOptions {
  /** Base delay of the first attempt, ms. */
  minMs: number;
  /** Cap of the exponential ceiling, ms. */
  maxMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Delay before attempt `attempt` (0-based): uniform in [0, min(maxMs, minMs * 2^attempt)). */
export function fullJitterDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.floor(random() * ceiling);
}

/** Stateful helper: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  next(): number {
    const delay = fullJitterDelay(this.attempt, this.opts);
    this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
