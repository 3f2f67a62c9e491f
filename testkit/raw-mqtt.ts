// Raw TCP/MQTT attackers for the broker's hostile tests: sockets that write hand-made packets (partial
// CONNECTs with a huge declared length, no CONNECT at all), and readers of the hub's RSS and labelled metrics.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** VmRSS of a process in MiB, from /proc/<pid>/status. */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** One value of a labelled series in Prometheus text (0 when absent). */
export async function metricValue(httpUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export interface RawSocket {
  socket: Socket;
  /** Resolves when the peer closed or reset the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** `localAddress` (127.0.0.2 …) makes the socket come from another loopback address. */
export async function openRaw(port: number, localAddress?: string): Promise<RawSocket> {
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress === undefined ? {} : { localAddress }) });
  socket.on('error', () => undefined); // a reset by the hub is the expected outcome
  let closed = false;
  const closedP = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => reject(new Error('closed before connect')));
  });
  return { socket, closed: closedP, isClosed: () => closed };
}

/** The fixed header of a CONNECT that declares `remaining` bytes (varint), e.g. 268,435,455 = 256 MiB - 1. */
export function connectHeader(remaining: number): Buffer {
  return Buffer.from([0x10, ...varint(remaining)]);
}

export const MAX_REMAINING = 268_435_455;

/**
 * Writes a CONNECT header that declares 256 MiB and then streams filler until `bytes` are written or the
 * hub closes the socket. Resolves with the bytes written.
 */
export async function streamPartialConnect(raw: RawSocket, bytes: number, chunk = 64 * 1024): Promise<number> {
  const filler = Buffer.alloc(chunk, 0x61);
  let written = 0;
  if (!raw.socket.write(connectHeader(MAX_REMAINING))) await drainOrClose(raw);
  while (written < bytes && !raw.isClosed()) {
    written += chunk;
    if (!raw.socket.write(filler)) await drainOrClose(raw);
  }
  return written;
}

function drainOrClose(raw: RawSocket): Promise<void> {
  return Promise.race([new Promise<void>((resolve) => raw.socket.once('drain', () => resolve())), raw.closed]);
}

/** The remaining-length varint of MQTT 3.1.1 §2.2.3. */
function varint(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  do {
    let b = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) b |= 0x80;
    out.push(b);
  } while (rest > 0);
  return out;
}

function lengthPrefixed(data: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(data.length);
  return Buffer.concat([len, data]);
}

/** A complete MQTT 3.1.1 CONNECT packet (clean session, keepalive 30 s), written out by hand. */
export function connectPacket(clientId: string, username: string | undefined, password: string | undefined): Buffer {
  const flags = 0x02 | (username === undefined ? 0 : 0x80) | (password === undefined ? 0 : 0x40);
  const variable = Buffer.concat([lengthPrefixed(Buffer.from('MQTT')), Buffer.from([4, flags, 0, 30])]);
  const payload = [clientId, username, password].filter((v): v is string => v !== undefined).map((v) => lengthPrefixed(Buffer.from(v)));
  const body = Buffer.concat([variable, ...payload]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

/** A QoS 1 PUBLISH packet. */
export function publishPacket(topic: string, payload: Buffer, packetId = 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId);
  const body = Buffer.concat([lengthPrefixed(Buffer.from(topic)), id, payload]);
  return Buffer.concat([Buffer.from([0x32, ...varint(body.length)]), body]);
}

/**
 * Sends one CONNECT on a fresh socket and resolves with the CONNACK return code, or 'closed' when
 * the hub closed the socket without one; also the time the answer took.
 */
export async function tryConnect(
  port: number,
  clientId: string,
  username: string | undefined,
  password: string | undefined,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<{ code: number | 'closed' | 'timeout'; ms: number; raw: RawSocket }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const raw = await openRaw(port, opts.localAddress);
  const started = performance.now();
  const answer = new Promise<number | 'closed' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    let received = Buffer.alloc(0);
    raw.socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      // CONNACK: 0x20 0x02 <session present> <return code>
      if (received.length >= 4 && received[0] === 0x20 && received[1] === 0x02) {
        clearTimeout(timer);
        resolve(received[3] ?? -1);
      }
    });
    void raw.closed.then(() => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
  raw.socket.write(connectPacket(clientId, username, password));
  const code = await answer;
  return { code, ms: performance.now() - started, raw };
}

/** tryConnect, then closes the socket whatever the answer. */
export async function connectOnce(port: number, clientId: string, username: string | undefined, password: string | undefined, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<{ code: number | 'closed' | 'timeout'; ms: number }> {
  const { code, ms, raw } = await tryConnect(port, clientId, username, password, opts);
  raw.socket.destroy();
  return { code, ms };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
