// The hub's probe of its own uplink: every `interval` a TCP connect to each target (the provincial portal, a
// gateway), each with a timeout; the round is up when any target answers. A failed connect is a result, not an
// error: it is counted per target and handed to the self-check (self-check.ts), which decides when the uplink is down.
import { connect } from 'node:net';

export interface UplinkTarget {
  name: string;
  host: string;
  port: number;
}

/** Connects once; resolves on connect, rejects on error, timeout or abort. */
export type TcpConnect = (target: UplinkTarget, timeoutMs: number, signal: AbortSignal) => Promise<void>;

export interface UplinkProbeOptions {
  targets: readonly UplinkTarget[];
  intervalMs: number;
  timeoutMs: number;
  onRound(up: boolean, unreachable: readonly string[]): void;
  connect?: TcpConnect;
}

export const tcpConnect: TcpConnect = (target, timeoutMs, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const socket = connect({ host: target.host, port: target.port });
    const done = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => done(new Error('aborted'));
    const timer = setTimeout(() => done(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err));
  });

export class UplinkProbe {
  /** Failed connects per target. */
  readonly failures = new Map<string, number>();
  rounds = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly opts: UplinkProbeOptions) {
    for (const t of opts.targets) this.failures.set(t.name, 0);
  }

  /** Probes at once, then every interval. Idempotent; nothing runs without targets. */
  start(): void {
    if (this.timer !== undefined || this.opts.targets.length === 0 || this.abort.signal.aborted) return;
    this.timer = setInterval(() => this.round(), this.opts.intervalMs);
    this.timer.unref();
    this.round();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running;
  }

  /** One round; a round still running is not doubled. */
  private round(): void {
    if (this.running !== undefined) return;
    const connectOnce = this.opts.connect ?? tcpConnect;
    this.running = Promise.all(
      this.opts.targets.map(async (t) => {
        try {
          await connectOnce(t, this.opts.timeoutMs, this.abort.signal);
          return undefined;
        } catch {
          this.failures.set(t.name, (this.failures.get(t.name) ?? 0) + 1);
          return t.name;
        }
      }),
    ).then((results) => {
      this.running = undefined;
      if (this.abort.signal.aborted) return;
      this.rounds++;
      const unreachable = results.filter((r): r is string => r !== undefined);
      this.opts.onRound(unreachable.length < this.opts.targets.length, unreachable);
    });
  }
}
