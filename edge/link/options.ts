// The link's public option and stat types (MqttLink in link.ts), one doc line per field.
import type { ConfigResult, Inventory } from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';
import type { Outbox } from '../outbox.ts';

export interface MqttLinkOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  url: string;
  site: string;
  agent: string;
  /** Enrollment token, sent as the MQTT password. */
  token: string;
  outbox: Outbox;
  /** PEM CA bundle file for mqtts. */
  caFile?: string;
  /** PEM client certificate and key for a hub that requires mTLS. */
  certFile?: string;
  keyFile?: string;
  /** false: the hub's certificate is not checked; warned about at start and every `insecureWarnEveryMs`. */
  rejectUnauthorized?: boolean;
  /** Interval of the repeated warning when rejectUnauthorized is false (default 10 minutes). */
  insecureWarnEveryMs?: number;
  keepaliveS?: number;
  /** Socket open to CONNACK. */
  connectTimeoutMs?: number;
  /** QoS 1 publishes from the outbox awaiting PUBACK at once (both lanes). */
  maxInflight?: number;
  /** Replay lane: backlog batches sent per second after an outage (default 20: ~20 KiB/s of typical batches). */
  replayBatchesPerS?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  logger?: Logger;
  version?: string;
  configRev?: string | number;
  bootId?: string;
  /** Overrides the timesyncd/env detection of a synchronised clock. */
  clockSynced?: boolean;
  /** The device's inventory, sent with each online status. */
  inventory?: () => Inventory | undefined;
  /** The outcome of the last config the hub pushed, sent with each online status (remote-config.ts). */
  configResult?: () => ConfigResult | undefined;
  /** Randomness of the back-off jitter (tests). */
  random?: () => number;
}

export interface LinkAck {
  seq: number;
  points: number;
  sentAt: number;
  ackedAt: number;
  payload: string;
}

export interface MqttLinkEvents {
  connect: [];
  close: [];
  error: [Error];
  ack: [LinkAck];
}

export interface LinkStats {
  connected: boolean;
  connects: number;
  inflight: number;
  batchesAcked: number;
  pointsAcked: number;
  publishErrors: number;
  /** Batches of the backlog (present when the connection came up) not yet acknowledged. */
  backlog: number;
  batchesReplayed: number;
  /** Outbox batches leased by the link (in flight, or being handed to the client). */
  leased: number;
}

export interface LinkStopOptions {
  /** How long to keep draining the outbox before going offline. */
  drainTimeoutMs?: number;
}
