// A tiny Aedes broker on 127.0.0.1 for edge tests: token auth, a delayed PUBACK, a record of publishes.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import { freePort } from '../scripts/lib/free-port.ts';

export interface ReceivedPublish {
  topic: string;
  payload: string;
  retain: boolean;
  clientId: string;
}

export interface TestBrokerOptions {
  port?: number;
  /** identity (username) → token; absent: anyone may connect. */
  tokens?: ReadonlyMap<string, string>;
  /** Delay before authorizePublish completes, i.e. before the PUBACK. */
  pubackDelayMs?: number;
}

export class TestBroker {
  readonly received: ReceivedPublish[] = [];
  readonly refused: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(opts: TestBrokerOptions = {}): Promise<TestBroker> {
    const port = opts.port ?? (await freePort());
    const broker = await Aedes.createBroker({
      authenticate: (client: Client, username, password, done) => {
        if (opts.tokens === undefined) {
          done(null, true);
          return;
        }
        const ok = username !== undefined && username === client.id && opts.tokens.get(username) === password?.toString('utf8');
        if (!ok) {
          tb.refused.push(username ?? '');
          done(Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), false);
          return;
        }
        done(null, true);
      },
      authorizePublish: (_client, _packet, callback) => {
        if (opts.pubackDelayMs === undefined) callback(null);
        else setTimeout(() => callback(null), opts.pubackDelayMs);
      },
    });
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      tb.sockets.add(socket);
      socket.once('close', () => tb.sockets.delete(socket));
      broker.handle(socket);
    });
    const tb = new TestBroker(broker, server, port);
    broker.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      if (client === null) return;
      tb.received.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, clientId: client.id });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return tb;
  }

  /** Kills every client socket abruptly (the broker then publishes their last wills). */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}
