// icmp: the system `ping` (iputils) to a host or the default gateway: loss, rtt, jitter (net_probe, method=icmp).
import { execFile } from 'node:child_process';
import { z } from 'zod';
import type { FieldValue } from '../../../protocol/index.ts';
import { errorCode } from '../../errors.ts';
import { defaultGatewayOf } from '../../system/net-route.ts';
import { readText } from '../../system/read-text.ts';
import { collectorBaseShape, defineCollector, hostSchema, writes } from '../types.ts';
import { parsePingOutput } from './ping-output.ts';
import type { ProbeResult } from '../result-code.ts';

/** `host: gateway` means the IPv4 default gateway, looked up at each gather. */
export const GATEWAY_HOST = 'gateway';
const ROUTE_FILE = '/proc/net/route';

export const icmpConfigSchema = z.strictObject({
  type: z.literal('icmp'),
  ...collectorBaseShape,
  host: hostSchema,
  count: z.int().min(1).max(20).default(3),
  /** Seconds to wait for each reply (`ping -W`). */
  timeoutS: z.number().min(0.2).max(30).default(2),
  /** The ping binary. */
  pingPath: z.string().min(1).default('ping'),
});
export type IcmpConfig = z.infer<typeof icmpConfigSchema>;

/** The IPv4 default gateway from the routing table, or undefined. */
export async function defaultGateway(routeFile = ROUTE_FILE): Promise<string | undefined> {
  const text = await readText(routeFile);
  return text === undefined ? undefined : defaultGatewayOf(text);
}

interface ExecOutcome {
  stdout: string;
  stderr: string;
  error?: unknown;
}

async function run(file: string, args: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecOutcome> {
  return await new Promise<ExecOutcome>((resolve) => {
    execFile(file, args, { timeout: timeoutMs, signal, encoding: 'utf8', maxBuffer: 256 * 1024 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

export interface IcmpReading {
  result: ProbeResult;
  fields: Record<string, FieldValue>;
}

export async function probeIcmp(config: IcmpConfig, host: string, signal: AbortSignal): Promise<IcmpReading> {
  const args = ['-n', '-c', String(config.count), '-W', String(config.timeoutS), '-i', '0.2', host];
  const timeoutMs = Math.ceil((config.count * 0.2 + config.timeoutS + 2) * 1000);
  // os-program: ping (config.pingPath, default `ping`: test/os-programs.test.ts cannot read a config value)
  const out = await run(config.pingPath, args, timeoutMs, signal);
  if (out.error !== undefined && errorCode(out.error) === 'ENOENT') {
    return { result: 'no_ping', fields: { up: 0, result: 'no_ping' } };
  }
  const parsed = parsePingOutput(out.stdout, out.stderr);
  if (parsed.kind === 'unknown_host') return { result: 'dns_error', fields: { up: 0, result: 'dns_error' } };
  if (parsed.kind === 'unparsed') {
    const aborted = signal.aborted || errorCode(out.error) === 'ABORT_ERR' || (out.error instanceof Error && 'killed' in out.error && out.error.killed === true);
    const result: ProbeResult = aborted ? 'timeout' : 'error';
    return { result, fields: { up: 0, result } };
  }
  const s = parsed.summary;
  const up = s.received > 0 ? 1 : 0;
  const result: ProbeResult = up ? 'ok' : 'loss';
  const fields: Record<string, FieldValue> = { up, loss_pct: s.lossPct, result };
  if (s.rttAvgMs !== undefined) fields.rtt_ms = s.rttAvgMs;
  if (s.rttMinMs !== undefined) fields.rtt_min_ms = s.rttMinMs;
  if (s.rttMaxMs !== undefined) fields.rtt_max_ms = s.rttMaxMs;
  if (s.rttMdevMs !== undefined) fields.jitter_ms = s.rttMdevMs;
  return { result, fields };
}

export const icmpPlugin = defineCollector({
  type: 'icmp',
  configSchema: icmpConfigSchema,
  label: (c) => `icmp:${c.name ?? c.host}`,
  writes: [writes('net_probe', { tags: ['target', 'method'], fields: ['up', 'loss_pct', 'result', 'rtt_ms', 'rtt_min_ms', 'rtt_max_ms', 'jitter_ms'] })],
  create(config) {
    const tags = { target: config.name ?? config.host, method: 'icmp' };
    return {
      async gather(acc, signal) {
        const t = Date.now();
        const host = config.host === GATEWAY_HOST ? await defaultGateway() : config.host;
        if (host === undefined) {
          acc.add('net_probe', { up: 0, result: 'unreachable' }, tags, t);
          return;
        }
        const reading = await probeIcmp(config, host, signal);
        acc.add('net_probe', reading.fields, tags, t);
      },
    };
  },
});
