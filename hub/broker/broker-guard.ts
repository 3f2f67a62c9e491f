// The broker's edges, before and at authentication: connection caps (total, per source address), the
// packet-size limit read from each fixed header (small until authenticated), failed-auth rate limits per
// address, flapping bans per client id (EMQX's flapping detect is the model) and the takeover policy that
// keeps a live session. Every refusal is counted in ioc_hub_conn_refused_total{reason}.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Client } from 'aedes';
import type { Logger } from 'pino';
import { AuthRefusedError, CONNACK, type BrokerPolicyHooks } from './broker-hooks.ts';
import type { HubMetrics } from '../metrics.ts';
import { PacketFraming } from './mqtt-framing.ts';
import { RateLimitedLog } from '../../common/rate-limited-log.ts';

export interface BrokerGuardOptions {
  /** Open TCP/TLS connections in all; past it new sockets are closed at accept. */
  readonly maxConnections: number;
  /** Open connections from one source address. */
  readonly maxConnectionsPerAddress: number;
  /** Largest packet (remaining length) before the connection is authenticated: the CONNECT itself. */
  readonly maxPreConnectPacketBytes: number;
  /** Largest packet once authenticated (packetLimitAfterAuth(limits.maxPayloadBytes)). */
  readonly maxPacketBytes: number;
  /** Failed authentications per source address: a token bucket of `burst`, refilled `perMinute`. */
  readonly authFailures: { readonly burst: number; readonly perMinute: number };
  /**
   * Within `windowMs`, `maxConnects` accepted connects of one client id, or `maxTakeovers` of them made
   * while a session with that id is live (kicking it, or refused for trying), ban the id for `banMs`.
   */
  readonly flapping: { readonly maxConnects: number; readonly maxTakeovers: number; readonly windowMs: number; readonly banMs: number };
  /**
   * A second connection with the identity of a live session is refused while that session has sent
   * something within `idleMs` (a stolen token cannot kick the real agent off); after that the old
   * session is taken to be a dead link and is replaced.
   */
  readonly takeoverIdleMs: number;
  /** mTLS: a TLS client's certificate must name its username (CN, or a SAN `URI:ioc:USERNAME`). */
  readonly requireCertIdentity?: boolean;
}

/** Room for the PUBLISH topic, packet id and header above the payload limit. */
export const PACKET_OVERHEAD_BYTES = 1024;

/**
 * The packet limit once authenticated: twice the payload limit, so that a batch somewhat over it is
 * still read, acknowledged and dropped by the policy (an agent must not resend a poison batch forever),
 * while a declared length beyond it closes the connection from the header.
 */
export function packetLimitAfterAuth(maxPayloadBytes: number): number {
  return 2 * maxPayloadBytes + PACKET_OVERHEAD_BYTES;
}

interface ConnState {
  readonly address: string;
  /** Identities the client certificate names (TLS with a CA only). */
  readonly certNames: readonly string[] | undefined;
  authenticated: boolean;
  lastRxAt: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Entries kept per table (addresses, client ids): past it the oldest is forgotten. */
const TABLE_CAP = 10_000;

export class BrokerGuard {
  private readonly conns = new WeakMap<Socket, ConnState>();
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  private readonly authBuckets = new Map<string, Bucket>();
  private readonly connects = new Map<string, number[]>();
  private readonly contested = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();
  private readonly live = new Map<string, Client>();
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;

  constructor(
    private readonly opts: BrokerGuardOptions,
    private readonly metrics: HubMetrics,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = logger.child({ component: 'broker-guard' });
    this.warnings = new RateLimitedLog(this.log, 60_000);
  }

  /** Called for every accepted socket before Aedes sees it; false: the socket was refused and destroyed. */
  admit(socket: Socket): boolean {
    if (!this.reserve(socket)) return false;
    this.track(socket);
    return true;
  }

  /**
   * Counts a raw socket against the caps (released when it closes); false: refused and destroyed. A TLS
   * listener calls this at TCP accept, so that handshakes in progress count too, and `track` once secure.
   */
  reserve(socket: Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    if (this.open >= this.opts.maxConnections) return this.refuseSocket(socket, address, 'max_connections');
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.opts.maxConnectionsPerAddress) return this.refuseSocket(socket, address, 'max_per_address');
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open--;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
    return true;
  }

  /** Starts the per-connection state (authentication, last packet time, certificate names). */
  track(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const certNames = this.opts.requireCertIdentity === true && socket instanceof TLSSocket ? certificateNames(socket) : undefined;
    this.conns.set(socket, { address, certNames, authenticated: false, lastRxAt: this.now() });
  }

  /**
   * Watches what Aedes reads (call after `aedes.handle(socket)`): with a 'readable' listener in place, a
   * 'data' listener sees each chunk as `read()` hands it over, before the packet parser buffers it, and
   * does not switch the socket to flowing mode.
   */
  inspect(socket: Socket): void {
    const state = this.conns.get(socket);
    if (state === undefined) return;
    const framing = new PacketFraming(() => (state.authenticated ? this.opts.maxPacketBytes : this.opts.maxPreConnectPacketBytes));
    socket.on('data', (chunk: Buffer) => {
      state.lastRxAt = this.now();
      const verdict = framing.feed(chunk);
      if (verdict.ok) return;
      this.metrics.connRefused.inc(1, verdict.reason);
      const detail = verdict.reason === 'packet_too_large' ? { declared: verdict.declared, limit: verdict.limit } : {};
      this.warnings.warn(`${verdict.reason}:${state.address}`, { remote: state.address, authenticated: state.authenticated, ...detail }, 'packet refused from its header; connection closed');
      socket.destroy();
    });
  }

  /** A TLS handshake failed (no or untrusted client certificate under mTLS, bad TLS, timeout). */
  tlsRefused(socket: TLSSocket, err: Error): void {
    const address = socket.remoteAddress ?? 'unknown';
    this.metrics.connRefused.inc(1, 'tls_handshake');
    this.warnings.warn(`tls:${address}`, { remote: address, err: err.message }, 'TLS handshake refused');
  }

  /** Aedes' own CONNECT timeout fired (its 'connectionError'). */
  connectTimedOut(client: Client): void {
    this.metrics.connRefused.inc(1, 'connect_timeout');
    const address = this.stateOf(client)?.address ?? 'unknown';
    this.warnings.warn(`connect_timeout:${address}`, { remote: address }, 'no CONNECT in time; connection closed');
  }

  onClientRegistered(client: Client): void {
    this.live.set(client.id, client);
  }

  onClientGone(client: Client): void {
    if (this.live.get(client.id) === client) this.live.delete(client.id);
  }

  get bannedCount(): number {
    this.expireBans();
    return this.bans.size;
  }

  /** Client ids banned now, with the time their ban ends (epoch ms). */
  banned(): ReadonlyMap<string, number> {
    this.expireBans();
    return this.bans;
  }

  /** The policy with the guard's checks around its authenticate. */
  wrap(inner: BrokerPolicyHooks): BrokerPolicyHooks {
    return {
      authenticate: (client, username, password) => this.authenticate(inner, client, username, password),
      authorizePublish: (client, packet) => inner.authorizePublish(client, packet),
      authorizeSubscribe: (client, sub) => inner.authorizeSubscribe(client, sub),
    };
  }

  private async authenticate(inner: BrokerPolicyHooks, client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const conn = this.stateOf(client);
    const address = conn?.address ?? 'unknown';
    const now = this.now();
    const banEnd = this.bans.get(client.id);
    if (banEnd !== undefined && banEnd > now) return this.refuse('banned', address, client.id, CONNACK.notAuthorized);
    // Past the failed-auth budget the answer comes at once, without running scrypt.
    if (this.bucketOf(address, now).tokens < 1) return this.refuse('auth_rate_limited', address, client.id, CONNACK.serverUnavailable);
    if (conn?.certNames !== undefined && (username === undefined || !conn.certNames.includes(username))) {
      this.bucketOf(address, now).tokens -= 1;
      return this.refuse('cert_identity', address, client.id, CONNACK.notAuthorized);
    }
    try {
      await inner.authenticate(client, username, password);
    } catch (err: unknown) {
      if (err instanceof AuthRefusedError && err.returnCode !== CONNACK.serverUnavailable) this.bucketOf(address, this.now()).tokens -= 1;
      throw err;
    }
    const previous = this.live.get(client.id);
    const isTakeover = previous !== undefined && previous !== client && !previous.closed;
    if (this.flapped(client.id, this.now(), isTakeover)) return this.refuse('banned', address, client.id, CONNACK.notAuthorized);
    if (previous !== undefined && isTakeover) {
      const prevState = this.stateOf(previous);
      const silentMs = prevState === undefined ? Infinity : this.now() - prevState.lastRxAt;
      if (silentMs < this.opts.takeoverIdleMs) {
        this.metrics.takeovers.inc(1, 'refused');
        this.warnings.warn(`takeover:${client.id}`, { clientId: client.id, remote: address, liveRemote: prevState?.address, liveSilentMs: silentMs }, 'second connection of a live identity refused (stolen credentials?)');
        return this.refuse('takeover_refused', address, client.id, CONNACK.notAuthorized);
      }
      this.metrics.takeovers.inc(1, 'allowed');
    }
    if (conn !== undefined) conn.authenticated = true;
  }

  private refuse(reason: string, address: string, clientId: string, code: (typeof CONNACK)[keyof typeof CONNACK]): never {
    this.metrics.connRefused.inc(1, reason);
    this.warnings.warn(`${reason}:${address}`, { remote: address, clientId, reason }, 'connection refused by the broker guard');
    throw new AuthRefusedError(code, reason);
  }

  private refuseSocket(socket: Socket, address: string, reason: string): false {
    this.metrics.connRefused.inc(1, reason);
    this.warnings.warn(`${reason}:${address}`, { remote: address, reason, open: this.open }, 'connection refused at accept');
    socket.destroy();
    return false;
  }

  /** Records an accepted connect of the id; true when it trips the flapping ban (logged once per ban). */
  private flapped(clientId: string, now: number, takeover: boolean): boolean {
    const { maxConnects, maxTakeovers, windowMs, banMs } = this.opts.flapping;
    const connects = record(this.connects, clientId, now, windowMs, true);
    const takeovers = record(this.contested, clientId, now, windowMs, takeover);
    if (connects < maxConnects && takeovers < maxTakeovers) return false;
    this.connects.delete(clientId);
    this.contested.delete(clientId);
    this.bans.set(clientId, now + banMs);
    trim(this.bans);
    this.metrics.flappingBans.inc();
    this.log.warn({ clientId, connects, takeovers, windowMs, banMs }, 'client id banned for flapping');
    return true;
  }

  private expireBans(): void {
    const now = this.now();
    for (const [id, end] of this.bans) if (end <= now) this.bans.delete(id);
  }

  private bucketOf(address: string, now: number): Bucket {
    const { burst, perMinute } = this.opts.authFailures;
    let b = this.authBuckets.get(address);
    if (b === undefined) {
      b = { tokens: burst, at: now };
      this.authBuckets.set(address, b);
      trim(this.authBuckets);
      return b;
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    return b;
  }

  private stateOf(client: Client): ConnState | undefined {
    const conn: unknown = client.conn;
    return isSocketLike(conn) ? this.conns.get(conn) : undefined;
  }
}

/** The subject CN and every `URI:ioc:NAME` SAN of the peer certificate. */
function certificateNames(socket: TLSSocket): string[] {
  const cert = socket.getPeerCertificate();
  const names: string[] = [];
  const cn: unknown = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  for (const entry of (cert.subjectaltname ?? '').split(', ')) if (entry.startsWith('URI:ioc:')) names.push(entry.slice('URI:ioc:'.length));
  return names;
}

function isSocketLike(v: unknown): v is Socket {
  return typeof v === 'object' && v !== null && 'remoteAddress' in v;
}

/** Keeps the times within the window (adding `now` when `add`), most recent key last; returns how many. */
function record(map: Map<string, number[]>, key: string, now: number, windowMs: number, add: boolean): number {
  const times = (map.get(key) ?? []).filter((t) => t > now - windowMs);
  if (add) times.push(now);
  map.delete(key);
  if (times.length > 0) map.set(key, times);
  trim(map);
  return times.length;
}

function trim<K, V>(map: Map<K, V>): void {
  while (map.size > TABLE_CAP) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
