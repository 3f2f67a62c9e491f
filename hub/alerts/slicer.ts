// Runs long jobs (feeding points to rules, evaluating every alert) in slices of a few milliseconds, yielding to
// the event loop between slices, so that no amount of series can hold the broker, ingest or HTTP back.

/** A job is an iterator: each `next()` does one small unit of work (one point, one alert). */
export type Job = Iterator<unknown, unknown, undefined>;

export interface SlicerOptions {
  /** Longest a slice may run before it yields, ms. */
  budgetMs?: number;
  /** Monotonic clock in ms (tests: a fake one). */
  clock?: () => number;
  /** Runs the next slice later (default: setImmediate, after pending I/O). */
  schedule?: (fn: () => void) => void;
  /** Told how long each slice ran, ms. */
  onSlice?: (ms: number) => void;
  onError?: (err: unknown) => void;
}

export class Slicer {
  private readonly queue: Job[] = [];
  private scheduled = false;
  private running = false;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly budgetMs: number;
  private readonly clock: () => number;
  private readonly schedule: (fn: () => void) => void;
  /** Longest slice so far, ms (wall clock: includes time the OS gave to other processes). */
  maxSliceMs = 0;
  /** Most CPU one slice used, ms (process CPU time: what the slice itself cost, whatever the machine's load). */
  maxSliceCpuMs = 0;
  slices = 0;

  constructor(private readonly opts: SlicerOptions = {}) {
    this.budgetMs = opts.budgetMs ?? 5;
    this.clock = opts.clock ?? (() => performance.now());
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
  }

  /** Jobs waiting or running. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues a job and starts working at once: small jobs finish before `enqueue` returns, what is left of a
   * long one runs in later slices.
   */
  enqueue(job: Job): void {
    if (this.stopped) return;
    this.queue.push(job);
    if (!this.running && !this.scheduled) this.runSlice();
  }

  /** Resolves once every queued job is done. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops queued work (stop of the hub: state is saved as it is). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.wake();
  }

  private runSlice(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.running = true;
    const start = this.clock();
    const cpu = process.cpuUsage();
    try {
      while (this.queue.length > 0) {
        const job = this.queue[0];
        if (job === undefined) break;
        let done: boolean | undefined;
        try {
          done = job.next().done;
        } catch (err: unknown) {
          done = true;
          this.opts.onError?.(err);
        }
        if (done === true) this.queue.shift();
        if (this.clock() - start >= this.budgetMs) break;
      }
    } finally {
      this.running = false;
      const ms = this.clock() - start;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      this.slices++;
      if (ms > this.maxSliceMs) this.maxSliceMs = ms;
      if (cpuMs > this.maxSliceCpuMs) this.maxSliceCpuMs = cpuMs;
      this.opts.onSlice?.(ms);
    }
    if (this.queue.length > 0) {
      this.scheduled = true;
      this.schedule(() => this.runSlice());
    } else {
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
