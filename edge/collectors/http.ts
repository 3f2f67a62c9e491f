// http: GET a URL; status, time to response headers, certificate days left (net_probe, method=http).
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TLSSocket } from 'node:tls';
import { z } from 'zod';
import type { FieldValue } from '../../protocol/index.ts';
import { collectorBaseShape, defineCollector, elapsedMs, timeoutMsSchema, withTimeout, writes } from './types.ts';
import { resultFromError, type ProbeResult } from './result-code.ts';

const DAY_MS = 86_400_000;

export const httpConfigSchema = z.strictObject({
  type: z.literal('http'),
  ...collectorBaseShape,
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  timeoutMs: timeoutMsSchema.default(10_000),
  /** Status codes that count as up. */
  expectStatus: z.array(z.int().min(100).max(599)).min(1).default([200, 201, 204, 301, 302, 303, 307, 308]),
  /** Text the body must contain (first `maxBodyBytes`) to count as up. */
  expectText: z.string().min(1).max(1024).optional(),
  maxBodyBytes: z.int().min(1024).max(4 * 1024 * 1024).default(256 * 1024),
  /** Verify the server certificate (https). */
  rejectUnauthorized: z.boolean().default(true),
  /** Extra CA bundle (PEM file) for https. */
  caFile: z.string().min(1).optional(),
});
export type HttpConfig = z.infer<typeof httpConfigSchema>;

export interface HttpProbeResult {
  result: ProbeResult;
  status?: number;
  rttMs?: number;
  certDaysLeft?: number;
}

function certDaysLeft(res: IncomingMessage, now: number): number | undefined {
  const { socket } = res;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  if (typeof cert.valid_to !== 'string') return undefined;
  const validTo = Date.parse(cert.valid_to);
  if (Number.isNaN(validTo)) return undefined;
  return Math.round(((validTo - now) / DAY_MS) * 100) / 100;
}

async function readLimited(res: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buf);
    size += buf.length;
    if (size >= max) break;
  }
  res.destroy();
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

export async function probeHttp(config: HttpConfig, signal: AbortSignal, ca?: Buffer): Promise<HttpProbeResult> {
  const url = new URL(config.url);
  const limit = withTimeout(signal, config.timeoutMs);
  const start = process.hrtime.bigint();
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const options = {
    method: config.method,
    signal: limit,
    agent: false as const,
    headers: { 'user-agent': 'ioc-edge', accept: '*/*' },
    ...(url.protocol === 'https:' ? { rejectUnauthorized: config.rejectUnauthorized, ...(ca ? { ca } : {}) } : {}),
  };
  let res: IncomingMessage;
  try {
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, options, resolve);
      req.once('error', reject);
      req.end();
    });
  } catch (err: unknown) {
    return { result: resultFromError(err, limit.aborted && !signal.aborted ? true : limit.aborted) };
  }
  const rttMs = elapsedMs(start);
  const status = res.statusCode ?? 0;
  const days = certDaysLeft(res, Date.now());
  let result: ProbeResult = config.expectStatus.includes(status) ? 'ok' : 'bad_status';
  try {
    if (config.expectText !== undefined && config.method === 'GET') {
      const body = await readLimited(res, config.maxBodyBytes);
      if (result === 'ok' && !body.includes(config.expectText)) result = 'text_mismatch';
    } else {
      res.resume();
      res.destroy();
    }
  } catch (err: unknown) {
    result = resultFromError(err, limit.aborted);
  }
  return { result, status, rttMs, ...(days === undefined ? {} : { certDaysLeft: days }) };
}

export const httpPlugin = defineCollector({
  type: 'http',
  configSchema: httpConfigSchema,
  label: (c) => `http:${c.name ?? c.url}`,
  writes: [writes('net_probe', { tags: ['target', 'method'], fields: ['up', 'result', 'status', 'rtt_ms', 'cert_days_left'] })],
  create(config) {
    const tags = { target: config.name ?? new URL(config.url).host, method: 'http' };
    // Read once at start: a missing CA file is a static config error, not a reading.
    const ca = config.caFile === undefined ? undefined : readFileSync(config.caFile);
    return {
      async gather(acc, signal) {
        const t = Date.now();
        const out = await probeHttp(config, signal, ca);
        const fields: Record<string, FieldValue> = { up: out.result === 'ok' ? 1 : 0, result: out.result };
        if (out.status !== undefined) fields.status = out.status;
        if (out.rttMs !== undefined) fields.rtt_ms = out.rttMs;
        if (out.certDaysLeft !== undefined) fields.cert_days_left = out.certDaysLeft;
        acc.add('net_probe', fields, tags, t);
      },
    };
  },
});
