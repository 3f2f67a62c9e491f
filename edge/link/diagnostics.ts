// The agent's remote diagnostics (protocol/diagnostics.ts): ping, traceroute and DNS from the Pi, its newest log
// lines, restarting one collector. Each command's arguments are checked again here with the protocol's schema;
// programs are spawned with an argv array (never a shell), each with a timeout, their output bounded in bytes;
// at most MAX_RUNNING run at once (a further one is refused, not queued).
import { spawn } from 'node:child_process';
import { lookup, Resolver } from 'node:dns/promises';
import {
  DIAG_MAX_LOG_BYTES,
  DIAG_MAX_OUTPUT_BYTES,
  parseDiagnosticArgs,
  type Command,
  type DiagnosticArgs,
  type DiagnosticCommand,
} from '../../protocol/index.ts';
import { parsePingOutput, type PingSummary } from '../collectors/icmp/ping-output.ts';
import { errorCode, errorMessage } from '../errors.ts';
import type { LogRing } from '../log-ring.ts';
import type { CommandHandler } from './commands.ts';

/** Diagnostics running at once on one agent (a Pi has little to spare); past it a command is refused. */
export const MAX_RUNNING = 2;

export interface DiagnosticsDeps {
  /** The process's recent log lines (absent: `logs` says the agent keeps none). */
  logRing?: LogRing | undefined;
  /** Restarts the collector with this label or name; rejects when there is none. */
  restartCollector(name: string): Promise<Record<string, unknown>>;
  /** The programs (tests may point elsewhere); default `ping`, `traceroute`. */
  pingPath?: string;
  traceroutePath?: string;
}

export interface ProgramOutput {
  exitCode: number | null;
  signal: string | null;
  /** stdout then stderr, at most DIAG_MAX_OUTPUT_BYTES. */
  output: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export class DiagnosticError extends Error {
  constructor(
    readonly code: 'E_DIAG_ARGS' | 'E_DIAG_BUSY' | 'E_DIAG_PROGRAM' | 'E_DIAG_DNS' | 'E_DIAG_NO_LOGS',
    message: string,
  ) {
    super(message);
    this.name = 'DiagnosticError';
  }
}

/** Runs `file` with `args` (no shell), kills it after `timeoutMs`, keeps at most `maxBytes` of its output. */
export function runProgram(file: string, args: readonly string[], timeoutMs: number, maxBytes = DIAG_MAX_OUTPUT_BYTES): Promise<ProgramOutput> {
  const started = Date.now();
  return new Promise<ProgramOutput>((resolve, reject) => {
    // os-program: ping, traceroute (the caller's path: DiagnosticsDeps.pingPath / traceroutePath)
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C', LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let timedOut = false;
    const keep = (b: Buffer): void => {
      if (kept >= maxBytes) {
        truncated = true;
        return;
      }
      const part = b.subarray(0, maxBytes - kept);
      if (part.length < b.length) truncated = true;
      chunks.push(part);
      kept += part.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new DiagnosticError('E_DIAG_PROGRAM', errorCode(err) === 'ENOENT' ? `${file} is not installed on this agent` : `${file}: ${errorMessage(err)}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, output: Buffer.concat(chunks).toString('utf8'), truncated, timedOut, durationMs: Date.now() - started });
    });
  });
}

export async function diagPing(a: DiagnosticArgs<'ping'>, pingPath = 'ping'): Promise<ProgramOutput & { summary?: PingSummary }> {
  // -w: ping's own deadline; the kill timer is the bound if it hangs before sending (name resolution).
  const deadlineS = Math.ceil(a.count * 0.2 + a.timeoutS);
  const out = await runProgram(pingPath, ['-n', '-c', String(a.count), '-i', '0.2', '-W', String(a.timeoutS), '-w', String(deadlineS), '--', a.host], (deadlineS + 5) * 1000);
  const parsed = parsePingOutput(out.output);
  return parsed.kind === 'summary' ? { ...out, summary: parsed.summary } : out;
}

export async function diagTraceroute(a: DiagnosticArgs<'traceroute'>, traceroutePath = 'traceroute'): Promise<ProgramOutput> {
  // Probes go out 16 at a time (traceroute's default -N): the whole run takes a few waits, bounded here at 60 s.
  return await runProgram(traceroutePath, ['-n', '-q', String(a.queries), '-w', String(a.waitS), '-m', String(a.maxHops), '--', a.host], 60_000);
}

export async function diagDns(a: DiagnosticArgs<'dns'>): Promise<Record<string, unknown>> {
  const started = Date.now();
  // Without a server, A/AAAA go through getaddrinfo as every program on the Pi resolves (hosts file included).
  if (a.server === undefined && (a.type === 'A' || a.type === 'AAAA')) {
    try {
      const found = await withTimeout(lookup(a.name, { all: true, family: a.type === 'A' ? 4 : 6 }), a.timeoutMs);
      return { name: a.name, type: a.type, server: 'system', answers: found.map((f) => f.address), durationMs: Date.now() - started };
    } catch (err: unknown) {
      throw new DiagnosticError('E_DIAG_DNS', `${a.name} ${a.type} (system resolver): ${errorCode(err) ?? errorMessage(err)}`);
    }
  }
  const resolver = new Resolver({ timeout: a.timeoutMs, tries: 1 });
  if (a.server !== undefined) resolver.setServers([a.server]);
  const timer = setTimeout(() => resolver.cancel(), a.timeoutMs * 2);
  try {
    const answers: unknown = await resolver.resolve(a.name, a.type);
    const text = JSON.stringify(answers);
    return {
      name: a.name,
      type: a.type,
      server: a.server ?? resolver.getServers().join(','),
      answers: text.length > DIAG_MAX_OUTPUT_BYTES ? `${text.slice(0, DIAG_MAX_OUTPUT_BYTES)}…` : answers,
      ...(text.length > DIAG_MAX_OUTPUT_BYTES ? { truncated: true } : {}),
      durationMs: Date.now() - started,
    };
  } catch (err: unknown) {
    throw new DiagnosticError('E_DIAG_DNS', `${a.name} ${a.type} via ${a.server ?? 'the system servers'}: ${errorCode(err) ?? errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The newest lines that fit DIAG_MAX_LOG_BYTES (of their JSON), oldest first. */
export function diagLogs(a: DiagnosticArgs<'logs'>, ring: LogRing | undefined): Record<string, unknown> {
  if (ring === undefined) throw new DiagnosticError('E_DIAG_NO_LOGS', 'this agent keeps no log lines in memory (it was not started by `ioc-edge run`)');
  const wanted = ring.tail(a.lines);
  const lines: string[] = [];
  let bytes = 2;
  for (let i = wanted.length - 1; i >= 0; i--) {
    const line = wanted[i] ?? '';
    const size = JSON.stringify(line).length + 1;
    if (bytes + size > DIAG_MAX_LOG_BYTES) break;
    bytes += size;
    lines.push(line);
  }
  lines.reverse();
  return { lines, asked: a.lines, returned: lines.length, kept: ring.size, truncated: lines.length < wanted.length, linesSinceStart: ring.total };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEOUT' })), ms)))]).finally(() => clearTimeout(timer));
}

/** The handlers of every diagnostic but `probe-now` (the agent registers that one itself), by command name. */
export function diagnosticHandlers(deps: DiagnosticsDeps): Map<Exclude<DiagnosticCommand, 'probe-now'>, CommandHandler> {
  let running = 0;
  const guarded =
    <C extends Exclude<DiagnosticCommand, 'probe-now'>>(name: C, run: (args: DiagnosticArgs<C>) => Promise<unknown>): CommandHandler =>
    async (cmd: Command) => {
      const parsed = parseDiagnosticArgs(name, cmd.args);
      if (!parsed.ok) throw new DiagnosticError('E_DIAG_ARGS', `${name}: ${parsed.error}`);
      if (running >= MAX_RUNNING) throw new DiagnosticError('E_DIAG_BUSY', `${name}: ${running} diagnostics already run on this agent, try again shortly`);
      running++;
      try {
        return await run(parsed.args as DiagnosticArgs<C>);
      } finally {
        running--;
      }
    };
  return new Map<Exclude<DiagnosticCommand, 'probe-now'>, CommandHandler>([
    ['ping', guarded('ping', (a) => diagPing(a, deps.pingPath))],
    ['traceroute', guarded('traceroute', (a) => diagTraceroute(a, deps.traceroutePath))],
    ['dns', guarded('dns', (a) => diagDns(a))],
    ['logs', guarded('logs', (a) => Promise.resolve(diagLogs(a, deps.logRing)))],
    ['restart-collector', guarded('restart-collector', (a) => deps.restartCollector(a.name))],
  ]);
}
