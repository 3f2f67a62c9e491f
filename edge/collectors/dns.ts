// dns: resolve a name through a given server; result code and time (net_probe, method=dns).
import { Resolver } from 'node:dns/promises';
import { z } from 'zod';
import { errorCode } from '../errors.ts';
import { collectorBaseShape, defineCollector, elapsedMs, hostSchema, timeoutMsSchema, writes } from './types.ts';

export const dnsConfigSchema = z.strictObject({
  type: z.literal('dns'),
  ...collectorBaseShape,
  /** Name to resolve. */
  query: hostSchema,
  recordType: z.enum(['A', 'AAAA']).default('A'),
  /** Server as `ip` or `ip:port`; absent: the system resolvers. */
  server: z.string().min(1).max(64).optional(),
  timeoutMs: timeoutMsSchema.default(3000),
});
export type DnsConfig = z.infer<typeof dnsConfigSchema>;

export type DnsResult = 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'error';

export function dnsResultFromError(err: unknown): DnsResult {
  switch (errorCode(err)) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return 'timeout';
    default:
      return 'error';
  }
}

export interface DnsProbeResult {
  result: DnsResult;
  rttMs: number;
  answers: number;
}

export async function probeDns(config: DnsConfig, signal: AbortSignal): Promise<DnsProbeResult> {
  const resolver = new Resolver({ timeout: config.timeoutMs, tries: 1 });
  if (config.server !== undefined) resolver.setServers([config.server]);
  const onAbort = (): void => resolver.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  const start = process.hrtime.bigint();
  try {
    const answers = config.recordType === 'A' ? await resolver.resolve4(config.query) : await resolver.resolve6(config.query);
    return { result: 'ok', rttMs: elapsedMs(start), answers: answers.length };
  } catch (err: unknown) {
    return { result: dnsResultFromError(err), rttMs: elapsedMs(start), answers: 0 };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export const dnsPlugin = defineCollector({
  type: 'dns',
  configSchema: dnsConfigSchema,
  label: (c) => `dns:${c.name ?? c.query}`,
  writes: [writes('net_probe', { tags: ['target', 'method'], fields: ['up', 'rtt_ms', 'result'] })],
  create(config) {
    const tags = { target: config.name ?? config.query, method: 'dns' };
    return {
      async gather(acc, signal) {
        const t = Date.now();
        const out = await probeDns(config, signal);
        const up = out.result === 'ok' ? 1 : 0;
        acc.add('net_probe', up ? { up, rtt_ms: out.rttMs, result: out.result } : { up, result: out.result }, tags, t);
      },
    };
  },
});
