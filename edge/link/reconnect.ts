// Reconnects of the link: exponential back-off with full jitter capped at maxMs, so 3,000 agents cut off
// by a hub restart come back spread out; a refused CONNACK (bad token) is logged and retried with the
// same capped back-off; repeated failures are logged once a minute.
import { Backoff } from '../backoff.ts';
import type { Logger } from '../logger.ts';

export interface ReconnectOptions {
  minMs: number;
  maxMs: number;
  /** Randomness of the jitter (tests). */
  random?: () => number;
  log: Logger;
  /** Wall clock, ms (tests). */
  now?: () => number;
}

const FAILURE_LOG_INTERVAL_MS = 60_000;
/** A connection must last this long before the back-off starts again from its minimum (no flapping loop). */
export const STABLE_CONNECTION_MS = 30_000;

export class Reconnector {
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastFailureLog = 0;
  private connectedAt = 0;

  constructor(opts: ReconnectOptions) {
    this.backoff = new Backoff({ minMs: opts.minMs, maxMs: opts.maxMs, ...(opts.random ? { random: opts.random } : {}) });
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /** Counts and logs a failed attempt (at once the first time, then once per interval). */
  failed(err: unknown): void {
    this.failures += 1;
    const now = this.now();
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
    const refused = code === 4 || code === 5;
    const data = { err, code, failures: this.failures };
    if (this.failures === 1 || now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      this.lastFailureLog = now;
      if (refused) this.log.error(data, 'hub refused the connection: check the agent token and identity');
      else this.log.warn(data, 'hub connection failed');
    } else {
      this.log.debug(data, 'hub connection failed');
    }
  }

  connected(): void {
    if (this.failures > 0) this.log.info({ failures: this.failures }, 'hub connection restored');
    else this.log.info({}, 'connected to hub');
    this.failures = 0;
    this.connectedAt = this.now();
  }

  /** The connection closed; one that had lasted STABLE_CONNECTION_MS starts the back-off afresh. */
  lost(wasConnected: boolean): void {
    if (!wasConnected) return;
    if (this.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.backoff.reset();
    this.log.warn({}, 'hub connection lost');
  }

  /** Runs `connect` after the next back-off delay, unless an attempt is already scheduled. */
  schedule(connect: () => void): void {
    if (this.timer !== undefined) return;
    const wait = this.backoff.next();
    this.log.debug({ wait, attempt: this.backoff.attempts }, 'reconnect scheduled');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      connect();
    }, wait);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
