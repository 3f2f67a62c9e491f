// Logs a repeated problem once per interval per key, counting what was suppressed in between.
import type { Logger } from 'pino';

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * Whether a line for `key` is due now: the number of lines suppressed since the last one, or undefined
   * (then this one is counted as suppressed). `force` makes it due whatever the interval (a first failure).
   */
  due(key: string, force = false): number | undefined {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && !force && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (entry === undefined && this.last.size >= this.maxKeys) this.last.clear();
    this.last.set(key, { at: t, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }

  warn(key: string, data: Record<string, unknown>, msg: string): void {
    const suppressed = this.due(key);
    if (suppressed !== undefined) this.logger.warn({ ...data, suppressed }, msg);
  }

  error(key: string, data: Record<string, unknown>, msg: string): void {
    const suppressed = this.due(key);
    if (suppressed !== undefined) this.logger.error({ ...data, suppressed }, msg);
  }
}
