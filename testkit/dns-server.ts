// A tiny authoritative DNS server on 127.0.0.1 (UDP, a free port) for tests: each name of `answers` has one A
// record, a name of `silent` gets no answer at all (a timeout), any other name is NXDOMAIN. Stopped with close().
import { createSocket } from 'node:dgram';

export interface TestDnsServer {
  port: number;
  /** Queries answered. */
  queries: number;
  close(): Promise<void>;
}

function questionEnd(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += (msg[i] ?? 0) + 1;
  return i + 5; // zero byte, qtype, qclass
}

function qname(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i] ?? 0;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString());
    i += len + 1;
  }
  return labels.join('.');
}

export async function startDnsServer(answers: Readonly<Record<string, string>>, silent: readonly string[] = []): Promise<TestDnsServer> {
  const socket = createSocket('udp4');
  const server: TestDnsServer = {
    port: 0,
    queries: 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    server.queries++;
    const name = qname(msg);
    if (silent.includes(name)) return;
    const address = answers[name];
    const question = msg.subarray(12, questionEnd(msg));
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(address === undefined ? 0x8183 : 0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(address === undefined ? 0 : 1, 6);
    const answer = address === undefined ? Buffer.alloc(0) : Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address.split('.').map(Number)]);
    socket.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  server.port = socket.address().port;
  return server;
}
