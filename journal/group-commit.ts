// Group commit: writes are counted, and one flush (fsync) runs at most intervalMs after the first unsynced write,
// or at once when everyWrites are unsynced. A commit asked for while one runs is served by one more run after it.
export interface GroupCommitOptions {
  intervalMs: number;
  everyWrites: number;
  /** Makes everything written so far durable. */
  flush: () => Promise<void>;
  onError?: (err: unknown) => void;
}

export class GroupCommit {
  private unsynced = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: GroupCommitOptions) {}

  /** Writes not yet flushed. */
  get pending(): number {
    return this.unsynced;
  }

  /** Counts `n` writes and schedules the flush they need. */
  written(n = 1): void {
    this.unsynced += n;
    if (this.unsynced >= this.opts.everyWrites) {
      this.background();
    } else if (this.timer === undefined && this.running === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.background();
      }, this.opts.intervalMs);
      this.timer.unref();
    }
  }

  /** Resolves once everything written so far is flushed. */
  commit(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running.then(() => (this.again ? this.commit() : undefined));
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.loop().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** No flush runs after this (an unfinished one ends). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private background(): void {
    void this.commit().catch((err: unknown) => this.opts.onError?.(err));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      this.unsynced = 0;
      await this.opts.flush();
    } while (this.again && !this.stopped);
  }
}
