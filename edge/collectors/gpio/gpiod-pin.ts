// An input line through the kernel's GPIO character device, by Debian's `gpiod` tools: `gpioget` reads the level,
// a long-running `gpiomon` child per line reports every edge on its stdout.
//
// Why the tools and not a binding: the one maintained npm binding (node-libgpiod, a nan addon) compiles against
// libgpiod's headers at install time, so every Pi needs a compiler, libgpiod-dev and an install-script approval,
// and a bug in it takes the agent down. The tools are Debian packages (security updates with apt), a gpiomon that
// dies is one lost line that we restart, and the kernel frees its line request when it exits. Their CLI changed
// between libgpiod 1.6 and 2.x: gpiod-cli.ts speaks both, picked by `gpiomon --version`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Backoff } from '../../../common/backoff.ts';
import { EdgeError, errorCode, errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import {
  classifyGpiodError,
  findLineCommand,
  gpiogetArgs,
  gpiomonArgs,
  isGpiomonBanner,
  parseFoundLine,
  parseGpiodVersion,
  parseGpiogetValue,
  parseGpiomonLine,
  type GpiodVersion,
  type GpioFailureReason,
  type LineRequest,
} from './gpiod-cli.ts';
import { describeLine, lineTag, type LineSpec } from './line-spec.ts';
import { EdgeFanout } from './edge-fanout.ts';
import type { InputPin, PinOptions, PinValue } from './pin.ts';

export interface GpiodTools {
  version: GpiodVersion;
  /** Environment the tools run in (its PATH finds them). */
  env: NodeJS.ProcessEnv;
  /** `setpriv` found: gpiomon is started with a parent-death signal, so even a kill -9 of the agent leaves no gpiomon holding the line. */
  pdeathsig: boolean;
}

export interface GpiodPinOptions {
  logger: Logger;
  /** How long a 1.6 gpiomon (which prints nothing on success) must stay up to count as started. */
  startupMs?: number;
  /** Timeout of gpioget/gpiofind/gpioinfo. */
  toolTimeoutMs?: number;
  /** Back-off between reopen attempts of a lost line. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** An edge timed this far before its arrival means the wall clock stepped (see edgeTime). */
const CLOCK_STEP_MS = 2000;

/** Bytes of a tool's stderr kept for the error message. */
const STDERR_KEEP = 2048;

interface ToolResult {
  stdout: string;
  stderr: string;
  /** Exit code, or undefined when the tool could not be run or timed out (then `err`). */
  code: number | undefined;
  err: unknown;
}

function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    // os-program: gpiomon, gpioget, gpiofind, gpioinfo, setpriv
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr, code: 0, err: undefined });
      const code = (err as { code?: unknown }).code;
      resolve({ stdout, stderr, code: typeof code === 'number' ? code : undefined, err });
    });
  });
}

/**
 * Finds the gpiod tools on `env.PATH` and their libgpiod version, or says why not (an EdgeError, not a throw:
 * the caller falls back to sysfs).
 */
export async function detectGpiodTools(env: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<GpiodTools | EdgeError> {
  const r = await runTool('gpiomon', ['--version'], env, timeoutMs);
  if (r.code !== 0) {
    if (errorCode(r.err) === 'ENOENT') return new EdgeError('E_GPIO_UNAVAILABLE', 'the gpiod tools are not installed (gpiomon not found): apt-get install gpiod');
    return new EdgeError('E_GPIO_UNAVAILABLE', `gpiomon --version failed: ${(r.stderr || errorMessage(r.err)).trim().slice(0, 200)}`);
  }
  const version = parseGpiodVersion(r.stdout);
  if (version === undefined) return new EdgeError('E_GPIO_UNAVAILABLE', `unsupported gpiod tools (need libgpiod 1.6 or 2.x): ${r.stdout.split('\n')[0] ?? ''}`);
  const sp = await runTool('setpriv', ['--version'], env, timeoutMs);
  return { version, env, pdeathsig: sp.code === 0 };
}

function failure(reason: GpioFailureReason, what: string, detail: string): EdgeError {
  const d = detail.trim().slice(0, 300);
  switch (reason) {
    case 'busy':
      return new EdgeError('E_GPIO_BUSY', `${what} is in use by another program (EBUSY): \`gpioinfo\` names its consumer; stop it or pick another line (${d})`);
    case 'permission':
      return new EdgeError('E_GPIO_UNAVAILABLE', `${what}: permission denied on the GPIO chip: run the agent in the gpio group (${d})`);
    case 'no-line':
      return new EdgeError('E_GPIO_UNAVAILABLE', `${what}: no such line (${d})`);
    case 'no-chip':
      return new EdgeError('E_GPIO_UNAVAILABLE', `${what}: no such GPIO chip (${d})`);
    case 'failed':
      return new EdgeError('E_GPIO', `${what}: ${d}`);
  }
}

/** Where a configured line is: chip + offset, by gpiofind (1.6) or gpioinfo (2.x) for a name. */
export async function resolveGpiodLine(tools: GpiodTools, spec: LineSpec, timeoutMs = 5000): Promise<{ chip: string; offset: number }> {
  const chip = spec.chip?.replace(/^\/dev\//, '');
  if (typeof spec.line === 'number') return { chip: chip ?? 'gpiochip0', offset: spec.line };
  const { cmd, args } = findLineCommand(tools.version, spec.line);
  // 2.x can restrict the search to one chip.
  const fullArgs = tools.version.major === 2 && chip !== undefined ? ['-c', chip, ...args] : args;
  const r = await runTool(cmd, fullArgs, tools.env, timeoutMs);
  const found = r.code === 0 ? parseFoundLine(r.stdout) : undefined;
  if (found === undefined) {
    if (errorCode(r.err) === 'ENOENT') throw new EdgeError('E_GPIO_UNAVAILABLE', `${cmd} not found: apt-get install gpiod`);
    throw new EdgeError('E_GPIO_UNAVAILABLE', `line ${describeLine(spec)} not found on any GPIO chip (${cmd} ${spec.line}${r.stderr.trim() === '' ? '' : `: ${r.stderr.trim().slice(0, 200)}`}); \`gpioinfo\` lists the lines`);
  }
  if (chip !== undefined && tools.version.major === 1 && found.chip !== chip) {
    throw new EdgeError('E_GPIO_UNAVAILABLE', `line ${spec.line} is on ${found.chip}, not on ${chip}`);
  }
  return found;
}

/** Opens one input line: reads it, then keeps a gpiomon on it until close(). */
export async function openGpiodPin(tools: GpiodTools, spec: LineSpec, opts: PinOptions, popts: GpiodPinOptions): Promise<GpiodPin> {
  const toolTimeoutMs = popts.toolTimeoutMs ?? 5000;
  const at = await resolveGpiodLine(tools, spec, toolTimeoutMs);
  const pin = new GpiodPin(tools, spec, { chip: at.chip, offset: at.offset, activeLow: opts.activeLow, bias: opts.bias }, popts);
  await pin.open();
  return pin;
}

export class GpiodPin implements InputPin {
  readonly id: string;
  readonly where: string;
  /** The level as gpiomon last reported it (to see a change while the line was lost). */
  private value: PinValue = 0;
  private readonly edges = new EdgeFanout(0);
  private child: ChildProcess | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  lost: EdgeError | undefined = undefined;
  /** gpiomon processes started (the first, and each reopen). */
  starts = 0;
  /** Wall clock minus the kernel's event clock, the smallest seen (ms). */
  private offsetMs: number | undefined;

  constructor(
    private readonly tools: GpiodTools,
    spec: LineSpec,
    private readonly req: LineRequest,
    private readonly popts: GpiodPinOptions,
  ) {
    this.id = lineTag(spec);
    this.where = `${req.chip} ${req.offset} via gpiomon ${tools.version.text}`;
    this.backoff = new Backoff({ minMs: popts.retryMinMs ?? 1000, maxMs: popts.retryMaxMs ?? 60_000 });
    this.log = popts.logger.child({ line: this.id, chip: req.chip, offset: req.offset });
  }

  /** The pid of the running gpiomon (tests check it is gone after close). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async read(): Promise<PinValue> {
    return this.edges.level;
  }

  watch(onChange: (value: PinValue, at: number) => void): void {
    this.edges.watch(onChange);
  }

  /** gpioget, then gpiomon; rejects with the reason when either fails. */
  async open(): Promise<void> {
    const what = `${this.id} (${this.req.chip} line ${this.req.offset})`;
    const r = await runTool('gpioget', gpiogetArgs(this.tools.version, this.req), this.tools.env, this.popts.toolTimeoutMs ?? 5000);
    if (r.code !== 0) {
      if (errorCode(r.err) === 'ENOENT') throw new EdgeError('E_GPIO_UNAVAILABLE', 'gpioget not found: apt-get install gpiod');
      throw failure(classifyGpiodError(r.stderr), what, r.stderr || errorMessage(r.err));
    }
    const v = parseGpiogetValue(r.stdout);
    if (v === undefined) throw new EdgeError('E_GPIO', `${what}: cannot read gpioget's output ${JSON.stringify(r.stdout.slice(0, 80))}`);
    // Between gpioget releasing the line and gpiomon requesting it (a few ms) an edge can be missed: the level is
    // then right again from the next edge on. The kernel lets only one process hold a line, so no reader can overlap.
    const before = this.value;
    this.value = v;
    if (this.starts === 0) this.edges.setLevel(v);
    // close() came while gpioget ran: start nothing that close() would not stop.
    if (this.closed) return;
    await this.startMonitor(what);
    if (this.starts > 1 && v !== before) this.emit(v, Date.now());
  }

  private startMonitor(what: string): Promise<void> {
    const args = gpiomonArgs(this.tools.version, this.req);
    // setpriv (util-linux) execs gpiomon with PR_SET_PDEATHSIG: if the agent is killed outright, the kernel sends
    // gpiomon SIGTERM and the line is free for the restarted agent (under systemd the cgroup is killed anyway).
    const [cmd, argv] = this.tools.pdeathsig ? ['setpriv', ['--pdeathsig', 'TERM', '--', 'gpiomon', ...args]] : ['gpiomon', args];
    return new Promise((resolve, reject) => {
      let settled = false;
      let stderr = '';
      // os-program: gpiomon, setpriv
      const child = spawn(cmd, argv, { env: this.tools.env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      this.offsetMs = undefined;
      this.starts += 1;
      const started = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(startTimer);
        this.backoff.reset();
        if (this.lost !== undefined) this.log.info({ starts: this.starts }, 'gpio line back');
        this.lost = undefined;
        resolve();
      };
      // 2.x says so with its banner; 1.6 prints nothing, so "still running after startupMs" means the request held.
      const startTimer = setTimeout(started, this.tools.version.major === 1 ? (this.popts.startupMs ?? 300) : 10_000);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        stderr = (stderr + d).slice(-STDERR_KEEP);
      });
      const lines = createInterface({ input: child.stdout ?? process.stdin });
      lines.on('line', (line) => {
        if (isGpiomonBanner(line)) return started();
        const edge = parseGpiomonLine(this.tools.version, line);
        if (edge === undefined || (edge.offset !== undefined && edge.offset !== this.req.offset)) return;
        started();
        this.value = edge.value;
        this.emit(edge.value, this.edgeTime(edge.kernelS));
      });
      child.on('error', (err: Error) => {
        // spawn failed (ENOENT: the tools were removed since detection).
        stderr += err.message;
      });
      child.on('close', (code, signal) => {
        lines.close();
        if (this.child === child) this.child = undefined;
        const err = failure(classifyGpiodError(stderr), what, stderr || `gpiomon exited (${signal ?? `code ${String(code)}`})`);
        if (!settled) {
          settled = true;
          clearTimeout(startTimer);
          reject(err);
          return;
        }
        if (this.closed) return;
        this.lost = err;
        this.log.warn({ err, code, signal }, 'gpio line lost, reopening');
        this.scheduleReopen();
      });
    });
  }

  /**
   * When an edge happened (epoch ms): its kernel timestamp plus the smallest (arrival - kernel time) seen on this
   * gpiomon, so intervals between edges are the kernel's even when gpiomon's output arrives late or in a burst,
   * and no edge is timed after its arrival. An edge that would be timed more than 2 s before its arrival means the
   * wall clock stepped forward (NTP setting a Pi's clock after boot, the Pi has no RTC): time from it anew.
   */
  private edgeTime(kernelS: number): number {
    const kernelMs = kernelS * 1000;
    const now = Date.now();
    const offset = now - kernelMs;
    if (this.offsetMs === undefined || offset < this.offsetMs || offset - this.offsetMs > CLOCK_STEP_MS) this.offsetMs = offset;
    return Math.floor(kernelMs + this.offsetMs);
  }

  private scheduleReopen(): void {
    if (this.closed) return;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.open().catch((err: unknown) => {
        this.lost = err instanceof EdgeError ? err : new EdgeError('E_GPIO', errorMessage(err), { cause: err });
        this.log.debug({ err }, 'gpio line still unavailable');
        this.scheduleReopen();
      });
    }, delay);
    this.retryTimer.unref();
  }

  private emit(v: PinValue, at: number): void {
    this.edges.emit(v, at);
  }

  /** Stops gpiomon (SIGTERM, SIGKILL after 2 s) and waits until it is gone. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.edges.clear();
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(kill);
  }
}
