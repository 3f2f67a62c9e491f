// tcp: time to open a TCP connection to host:port (net_probe, method=tcp).
import { connect } from 'node:net';
import { z } from 'zod';
import { collectorBaseShape, defineCollector, elapsedMs, hostSchema, portSchema, timeoutMsSchema, withTimeout, writes } from './types.ts';
import { resultFromError } from './result-code.ts';

export const tcpConfigSchema = z.strictObject({
  type: z.literal('tcp'),
  ...collectorBaseShape,
  host: hostSchema,
  port: portSchema,
  timeoutMs: timeoutMsSchema.default(5000),
});
export type TcpConfig = z.infer<typeof tcpConfigSchema>;

interface ConnectOutcome {
  ok: boolean;
  rttMs: number;
  error?: unknown;
  timedOut: boolean;
}

export async function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<ConnectOutcome> {
  const start = process.hrtime.bigint();
  const limit = withTimeout(signal, timeoutMs);
  return await new Promise<ConnectOutcome>((resolve) => {
    const socket = connect({ host, port, noDelay: true });
    const finish = (outcome: ConnectOutcome): void => {
      limit.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, rttMs: elapsedMs(start), timedOut: true });
    if (limit.aborted) {
      onAbort();
      return;
    }
    limit.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, rttMs: elapsedMs(start), timedOut: false }));
    socket.once('error', (err: Error) => finish({ ok: false, rttMs: elapsedMs(start), error: err, timedOut: false }));
  });
}

export const tcpPlugin = defineCollector({
  type: 'tcp',
  configSchema: tcpConfigSchema,
  label: (c) => `tcp:${c.name ?? `${c.host}:${c.port}`}`,
  writes: [writes('net_probe', { tags: ['target', 'method'], fields: ['up', 'rtt_ms', 'result'] })],
  create(config) {
    const tags = { target: config.name ?? `${config.host}:${config.port}`, method: 'tcp' };
    return {
      async gather(acc, signal) {
        const t = Date.now();
        const out = await tcpConnect(config.host, config.port, config.timeoutMs, signal);
        if (out.ok) {
          acc.add('net_probe', { up: 1, rtt_ms: out.rttMs, result: 'ok' }, tags, t);
        } else {
          acc.add('net_probe', { up: 0, result: resultFromError(out.error, out.timedOut) }, tags, t);
        }
      },
    };
  },
});
