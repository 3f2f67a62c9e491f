// The MQTT broker: Aedes with our policy hooks behind the broker guard (caps, packet-size limit, bans), on a TCP listener and/or a TLS one (mTLS with a CA; Nagle off).
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from 'pino';
import { BrokerGuard, type BrokerGuardOptions } from './broker-guard.ts';
import { toAedesHooks, type BrokerPolicyHooks } from './broker-hooks.ts';
import { HubError, errorMessage } from '../errors.ts';
import type { HubMetrics } from '../metrics.ts';

export interface BrokerListenOptions {
  host: string;
  port: number;
  /** false: no plaintext listener. Default true. */
  plain?: boolean;
  /** With `caFile`, clients must present a certificate signed by it (mTLS) whose identity equals their username. */
  tls?: { readonly port: number; readonly certFile: string; readonly keyFile: string; readonly caFile?: string | undefined } | undefined;
}

export interface BrokerOptions {
  policy: BrokerPolicyHooks;
  listen: BrokerListenOptions;
  logger: Logger;
  metrics: HubMetrics;
  guard: BrokerGuardOptions;
  /** Aedes' CONNECT timeout. */
  connectTimeoutMs: number;
  /** Deepest topic Aedes itself accepts (our policy is stricter). */
  maxTopicLevels: number;
  aedes?: Omit<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>;
  /** A client's connection registered (after CONNACK) or gone. */
  onConnection?: (client: Client, connected: boolean) => void;
}

/** What the rest of the hub needs of the broker: its own publishes and subscriptions, its state. Aedes stays inside. */
export interface HubBroker {
  /** Publishes as the hub (QoS 1), past the agents' policy. */
  publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void>;
  /** Subscribes the hub itself to a filter (no policy: the hub's own); resolves once the subscription is in place. */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
  readonly up: boolean;
  readonly connectedClients: number;
}

export class MqttBroker implements HubBroker {
  private readonly sockets = new Set<Socket>();
  private readonly servers: Server[] = [];
  private closed = false;
  private boundPort: number | undefined;
  private boundTlsPort: number | undefined;

  private constructor(
    private readonly aedes: Aedes,
    readonly guard: BrokerGuard,
    private readonly log: Logger,
    private readonly connectTimeoutMs: number,
    private readonly listenOpts: BrokerListenOptions,
    /** The registered client of each client id (after CONNACK). */
    private readonly live: ReadonlyMap<string, Client> = new Map(),
  ) {}

  /** Closes the live connection of a client id (a revoked or rotated agent); false when there is none. */
  closeClient(clientId: string): boolean {
    const client = this.live.get(clientId);
    if (client === undefined) return false;
    client.close();
    return true;
  }

  /** Builds the broker (Aedes, its hooks and the guard) without listening: `listen()` opens the ports. */
  static async create(opts: BrokerOptions): Promise<MqttBroker> {
    const log = opts.logger.child({ component: 'broker' });
    const guard = new BrokerGuard({ ...opts.guard, requireCertIdentity: opts.listen.tls?.caFile !== undefined }, opts.metrics, opts.logger);
    const aedes = await Aedes.createBroker({ ...opts.aedes, connectTimeout: opts.connectTimeoutMs, maxTopicLevels: opts.maxTopicLevels, ...toAedesHooks(guard.wrap(opts.policy)) });
    const onConnection = opts.onConnection;
    const live = new Map<string, Client>();
    aedes.on('client', (client) => {
      live.set(client.id, client);
      guard.onClientRegistered(client);
      onConnection?.(client, true);
    });
    aedes.on('clientDisconnect', (client) => {
      if (live.get(client.id) === client) live.delete(client.id);
      guard.onClientGone(client);
      onConnection?.(client, false);
    });
    aedes.on('connectionError', (client, err) => {
      if (err.message === 'connect did not arrive in time') guard.connectTimedOut(client);
    });
    opts.metrics.addGauge({ name: 'ioc_hub_banned_clients', help: 'Client ids banned now for flapping', read: () => guard.bannedCount });
    return new MqttBroker(aedes, guard, log, opts.connectTimeoutMs, opts.listen, live);
  }

  /** Opens the TCP and/or TLS listeners; on failure closes the broker and throws (E_CONFIG). */
  async listen(): Promise<void> {
    try {
      await this.listenAll(this.listenOpts);
    } catch (err: unknown) {
      await this.close();
      throw err;
    }
    this.log.info({ host: this.listenOpts.host, port: this.port, tlsPort: this.tlsPort }, 'mqtt listening');
  }

  publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
      onMessage(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      cb();
    };
    return new Promise<void>((resolve) => this.aedes.subscribe(filter, deliver, resolve));
  }

  private async listenAll(opts: BrokerListenOptions): Promise<void> {
    const acceptPlain = (socket: Socket): void => {
      if (this.guard.admit(socket)) accept(socket);
    };
    // TLS sockets were counted against the caps at TCP accept (below), before their handshake.
    const acceptTls = (socket: TLSSocket): void => {
      this.guard.track(socket);
      accept(socket);
    };
    const accept = (socket: Socket): void => {
      socket.setNoDelay(true); // Nagle adds ~17 ms per message at load
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.aedes.handle(socket);
      this.guard.inspect(socket);
    };
    if (opts.plain !== false) {
      const tcp = createServer(acceptPlain);
      this.servers.push(tcp);
      this.boundPort = await listen(tcp, opts.host, opts.port);
    }
    if (opts.tls !== undefined) {
      const files = await readTlsFiles(opts.tls);
      // mTLS: with a CA, a client without a certificate it signed never gets to send a CONNECT.
      const tlsOpts = { ...files, handshakeTimeout: this.connectTimeoutMs };
      const tls = createTlsServer(files.ca === undefined ? tlsOpts : { ...tlsOpts, requestCert: true, rejectUnauthorized: true }, acceptTls);
      tls.on('connection', (raw: Socket) => {
        if (!this.guard.reserve(raw)) return;
        this.sockets.add(raw); // a handshake that never finishes is closed with the broker too
        raw.once('close', () => this.sockets.delete(raw));
      });
      tls.on('tlsClientError', (err: Error, socket: TLSSocket) => this.guard.tlsRefused(socket, err));
      this.servers.push(tls);
      this.boundTlsPort = await listen(tls, opts.host, opts.tls.port);
    }
  }

  /** The plaintext listener's port; 0 when `plain: false`. */
  get port(): number {
    return this.boundPort ?? 0;
  }

  get tlsPort(): number | undefined {
    return this.boundTlsPort;
  }

  get up(): boolean {
    return !this.closed && !this.aedes.closed;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  /** Stops accepting, closes every client and the broker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const serversClosed = this.servers.filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy(); // connections that never finished CONNECT
    await Promise.all(serversClosed);
    this.log.info({}, 'mqtt closed');
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new HubError('E_CONFIG', `cannot listen on ${host}:${port}: ${errorMessage(err)}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(addr !== null && typeof addr === 'object' ? addr.port : port);
    });
  });
}

async function readTlsFiles(tls: NonNullable<BrokerListenOptions['tls']>): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
    return tls.caFile === undefined ? { cert, key } : { cert, key, ca: await readFile(tls.caFile) };
  } catch (err: unknown) {
    throw new HubError('E_CONFIG', `cannot read TLS files: ${errorMessage(err)}`, { cause: err });
  }
}
