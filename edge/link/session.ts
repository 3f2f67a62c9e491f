// One MQTT session to the hub per connection attempt: a fresh mqtt.js client, the retained status
// (online on connect, offline on a clean stop) and the last will that says offline when the socket dies.
//
// How this uses mqtt.js 5 (read in node_modules/mqtt/build/lib/client.js) and why:
// - mqtt.js keeps unacked QoS 1 publishes in its own in-memory `outgoingStore` and, when it
//   reconnects the SAME client (its own reconnect timer, or `connect()` after a drop), replays them
//   from that store before emitting 'connect'. But `client.reconnect()` swaps in an EMPTY store
//   (losing them silently, their callbacks never called), and a forced clean-up (keepalive or
//   CONNACK timeout) with `reconnectPeriod: 0` and `clean: true` fails their callbacks with
//   "Connection closed" while the packets stay in the store to be replayed. Resending ourselves on
//   that error while mqtt.js also replays would double-send; not resending would depend on
//   which path closed the socket.
// - So the outbox is the single source of truth: each connection attempt gets a FRESH client
//   (`reconnectPeriod: 0`, `clean: true`), and when its socket closes we end it for good (its
//   store dies with it and its late callbacks are ignored); the link returns every in-flight batch
//   to the outbox and resends them on the next connection. A batch in flight when the socket died
//   may be delivered twice; the hub's idempotent writes make that harmless.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { cmdFilter, statusTopic, type ConfigResult, type Inventory, type Status } from '../../protocol/index.ts';
import { readBootId, readClockSynced } from '../boot-info.ts';
import { EdgeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { AGENT_VERSION } from '../version.ts';

export interface MqttSessionOptions {
  url: string;
  site: string;
  agent: string;
  /** `site/agent`: client id and user name. */
  identity: string;
  token: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized?: boolean;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  version?: string;
  configRev?: string | number;
  bootId?: string;
  clockSynced?: boolean;
  /** The device's inventory, sent with the online status (fleet inventory); read when a connection comes up. */
  inventory?: () => Inventory | undefined;
  /** The outcome of the last config the hub pushed, sent with the online status. */
  configResult?: () => ConfigResult | undefined;
  /** Asked when a CONNACK arrives: false (the link is stopping) leaves the attempt unused. */
  accept: () => boolean;
  log: Logger;
}

export interface MqttSessionEvents {
  /** CONNACK: the session is usable. */
  up: [];
  /** The current attempt's socket closed; `wasUp`: it had been connected. */
  down: [wasUp: boolean];
  /** An error of the current attempt (refused CONNACK, socket error, mqtt.connect throwing). */
  failure: [unknown];
  message: [topic: string, payload: Buffer];
}

/** Current: the publish's attempt is still the session's (its callback is not a dead client's). */
export type PublishCallback = (err: Error | undefined, current: boolean) => void;

const STATUS_PUBACK_TIMEOUT_MS = 2000;
const END_TIMEOUT_MS = 2000;

export class MqttSession extends EventEmitter<MqttSessionEvents> {
  private readonly opts: MqttSessionOptions;
  private readonly ca: Buffer | undefined;
  private readonly clientCert: { cert: Buffer; key: Buffer } | undefined;
  private readonly bootId: string;
  private readonly statusTopic: string;
  private client: MqttClient | undefined;
  private up = false;
  /** Rises with every client: an attempt number outlives its client only as a stale one. */
  private attemptNo = 0;

  constructor(opts: MqttSessionOptions) {
    super();
    this.opts = opts;
    this.bootId = opts.bootId ?? readBootId();
    this.statusTopic = statusTopic(opts.site, opts.agent);
    try {
      this.ca = opts.caFile === undefined ? undefined : readFileSync(opts.caFile);
    } catch (err: unknown) {
      throw new EdgeError('E_LINK', `cannot read CA file ${opts.caFile ?? ''}`, { cause: err });
    }
    try {
      this.clientCert = opts.certFile === undefined || opts.keyFile === undefined ? undefined : { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) };
    } catch (err: unknown) {
      throw new EdgeError('E_LINK', `cannot read client certificate ${opts.certFile ?? ''} / key ${opts.keyFile ?? ''}`, { cause: err });
    }
  }

  get connected(): boolean {
    return this.up;
  }

  get attempt(): number {
    return this.attemptNo;
  }

  /** Whether `attempt` is the session's connected client. */
  isUp(attempt: number): boolean {
    return this.up && this.client !== undefined && attempt === this.attemptNo;
  }

  status(online: boolean): Status {
    return {
      online,
      ts: Date.now(),
      version: this.opts.version ?? AGENT_VERSION,
      bootId: this.bootId,
      configRev: this.opts.configRev ?? 0,
      clockSynced: readClockSynced(this.opts.clockSynced),
      ...(online ? inventoryField(this.opts.inventory?.()) : {}),
      ...(online ? configResultField(this.opts.configResult?.()) : {}),
    };
  }

  /** Starts one connection attempt with a fresh client; false when mqtt.js refused to start it ('failure' emitted). */
  open(): boolean {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.identity,
      username: o.identity,
      password: o.token,
      protocolVersion: 4,
      clean: true,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.statusTopic, payload: Buffer.from(JSON.stringify(this.status(false))), qos: 1, retain: true },
      ...(o.url.startsWith('mqtts:') ? { rejectUnauthorized: o.rejectUnauthorized ?? true, ...(this.ca ? { ca: this.ca } : {}), ...(this.clientCert ?? {}) } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(o.url, options);
    } catch (err: unknown) {
      this.emit('failure', err);
      return false;
    }
    this.client = client;
    this.attemptNo += 1;
    // Nagle adds ~17 ms per small publish; our batches are latency-sensitive acks, not bulk.
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose(client));
    client.on('error', (err: Error) => {
      if (client === this.client) this.emit('failure', err);
    });
    client.on('message', (topic: string, payload: Buffer) => {
      if (client === this.client) this.emit('message', topic, payload);
    });
    return true;
  }

  /** QoS 1 publish (not retained) on the current client; false (and no callback) when there is none. */
  publish(topic: string, payload: string, cb: PublishCallback): boolean {
    const client = this.client;
    if (client === undefined) return false;
    client.publish(topic, payload, { qos: 1 }, (err?: Error) => cb(err, client === this.client));
    return true;
  }

  /** Publishes the retained online status again while connected (an inventory read since the connect: disk, uptime). */
  republishStatus(): void {
    const client = this.client;
    if (client === undefined || !this.up) return;
    client.publish(this.statusTopic, JSON.stringify(this.status(true)), { qos: 1, retain: true }, (err?: Error) => {
      if (err) this.opts.log.debug({ err }, 'online status not acknowledged');
    });
  }

  /** Publishes the retained `online:false` while connected (a clean stop leaves no will behind). */
  async publishOffline(): Promise<void> {
    const client = this.client;
    if (client === undefined || !this.up) return;
    try {
      await publishAsync(client, this.statusTopic, JSON.stringify(this.status(false)), true, STATUS_PUBACK_TIMEOUT_MS);
    } catch (err: unknown) {
      this.opts.log.warn({ err }, 'offline status not acknowledged');
    }
  }

  /** Leaves the current client at once (nothing of it counts from here) and DISCONNECTs it cleanly, or forces it after END_TIMEOUT_MS. */
  async end(): Promise<void> {
    const client = this.client;
    this.up = false;
    this.client = undefined;
    if (client === undefined) return;
    client.removeAllListeners('message');
    client.on('error', () => undefined);
    if (!client.connected) {
      client.end(true);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => client.end(false, {}, () => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), END_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!ended) client.end(true);
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client || !this.opts.accept()) return;
    this.up = true;
    client.publish(this.statusTopic, JSON.stringify(this.status(true)), { qos: 1, retain: true }, (err?: Error) => {
      if (err) this.opts.log.debug({ err }, 'online status not acknowledged');
    });
    client.subscribe(cmdFilter(this.opts.site, this.opts.agent), { qos: 1 }, (err?: Error | null) => {
      if (err) this.opts.log.warn({ err }, 'command subscription failed');
    });
    this.emit('up');
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    const wasUp = this.up;
    this.up = false;
    this.client = undefined;
    // A client whose socket has closed is ended for good, so its store and timers go with it.
    client.removeAllListeners('message');
    client.on('error', () => undefined);
    client.end(true);
    this.emit('down', wasUp);
  }
}

function publishAsync(client: MqttClient, topic: string, payload: string, retain: boolean, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EdgeError('E_LINK', `no PUBACK within ${timeoutMs} ms`)), timeoutMs);
    client.publish(topic, payload, { qos: 1, retain }, (err?: Error) => {
      clearTimeout(timer);
      if (err) reject(new EdgeError('E_LINK', 'publish failed', { cause: err }));
      else resolve();
    });
  });
}

function configResultField(r: ConfigResult | undefined): { configResult?: ConfigResult } {
  return r === undefined ? {} : { configResult: r };
}

function inventoryField(inventory: Inventory | undefined): { inventory?: Inventory } {
  return inventory === undefined ? {} : { inventory };
}
