// Event-loop delay of the hub (perf_hooks.monitorEventLoopDelay): the longest stall and the p99 over the last
// 10 s (ten 1-s buckets), for /metrics. What a time-sliced engine promises is visible here.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class LoopDelayMonitor {
  private readonly h: IntervalHistogram;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxNs: number[] = [];
  private readonly p99Ns: number[] = [];

  constructor(
    private readonly buckets = 10,
    private readonly bucketMs = 1000,
  ) {
    this.h = monitorEventLoopDelay({ resolution: 10 });
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.h.enable();
    this.timer = setInterval(() => {
      this.maxNs.push(this.h.count > 0 ? this.h.max : 0);
      this.p99Ns.push(this.h.count > 0 ? this.h.percentile(99) : 0);
      if (this.maxNs.length > this.buckets) this.maxNs.shift();
      if (this.p99Ns.length > this.buckets) this.p99Ns.shift();
      this.h.reset();
    }, this.bucketMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.h.disable();
  }

  /** Longest delay over the last `buckets` × `bucketMs`, s. */
  maxSeconds(): number {
    return Math.max(0, ...this.maxNs, this.h.count > 0 ? this.h.max : 0) / 1e9;
  }

  /** Worst per-second p99 over the same window, s. */
  p99Seconds(): number {
    return Math.max(0, ...this.p99Ns, this.h.count > 0 ? this.h.percentile(99) : 0) / 1e9;
  }
}
