// Starts and stops a real `influxd` (InfluxDB 1.x, Debian package `influxdb`) on free loopback ports
// with its own data folder: used by the demo, the test harness and the benchmarks.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { killGroup, spawnGuarded } from './child-process.ts';

export interface InfluxdOptions {
  /** Data folder; a new temp folder (removed on stop) when absent. */
  dir?: string;
  /** HTTP port; a free one when absent. Reuse it to restart on the same address. */
  port?: number;
  /** Require a user (InfluxDB `auth-enabled`). */
  authEnabled?: boolean;
  /** Binary, default `influxd` on PATH. */
  binary?: string;
  startTimeoutMs?: number;
}

export class InfluxdProcess {
  readonly url: string;
  private exited: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(opts: InfluxdOptions = {}): Promise<InfluxdProcess> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ioc-influxd-'));
    mkdirSync(dir, { recursive: true });
    const port = opts.port ?? (await freePort());
    const rpcPort = await freePort();
    const conf = [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '  cache-snapshot-write-cold-duration = "30s"',
      '[monitor]',
      '  store-enabled = false',
      '[subscriber]',
      '  enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      `  auth-enabled = ${opts.authEnabled === true ? 'true' : 'false'}`,
      '  log-enabled = false',
      '  suppress-write-log = true',
      '  pprof-enabled = false',
      '[continuous_queries]',
      '  log-enabled = false',
      '  run-interval = "1s"',
      '',
    ].join('\n');
    const confPath = join(dir, 'influxd.conf');
    writeFileSync(confPath, conf);
    const logFile = join(dir, 'influxd.log');
    const logFd = openSync(logFile, 'a');
    // Its own process group, and SIGKILLed by the kernel if the process that started it dies.
    const child = spawnGuarded(opts.binary ?? 'influxd', ['-config', confPath], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start influxd (${err.message}); install it: apt-get install influxdb`, { cause: err })));
    });
    const proc = new InfluxdProcess(port, dir, ownsDir, child, logFile);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    try {
      await Promise.race([spawnError, proc.waitReady(deadline)]);
    } catch (err: unknown) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  private async waitReady(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`influxd exited during start-up; see ${this.logFile}`);
      try {
        const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`influxd did not answer /ping in time; see ${this.logFile}`);
  }

  /** Stops with SIGTERM (SIGKILL after a grace period). Keeps the folder when `keepData`. */
  async stop(opts: { keepData?: boolean } = {}): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (this.running) killGroup(this.child.pid);
      }, 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.ownsDir && opts.keepData !== true) rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILL, keeping the data folder (fault tests restart on it). */
  async kill(): Promise<void> {
    if (this.running) {
      killGroup(this.child.pid);
      await this.exited;
    }
  }

  /** InfluxQL query through the HTTP API, returning the JSON body. */
  async query(q: string, db?: string): Promise<InfluxQueryResponse> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db !== undefined) params.set('db', db);
    const res = await fetch(`${this.url}/query?${params.toString()}`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`influx query failed: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as InfluxQueryResponse;
  }
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}
export interface InfluxQueryResponse {
  results: { statement_id: number; series?: InfluxSeries[]; error?: string }[];
  error?: string;
}
