// Where ingest sends its batches: the InfluxDB writer today, a durable spool in front of it later.
import type { FieldValue } from '../protocol/index.ts';
import { HubError } from './errors.ts';

/** A point ready for storage: measurement, full tag set (hub tags included), fields, epoch ms. */
export interface HubPoint {
  measurement: string;
  tags: Readonly<Record<string, string>>;
  fields: Readonly<Record<string, FieldValue>>;
  /** Epoch milliseconds. */
  timestamp: number;
}

export interface Sink {
  /**
   * Stores the points. Resolves once they are durable. Rejects with a `SinkError`: `retryable`
   * false means the store refused the points themselves (resending them cannot help).
   */
  write(points: readonly HubPoint[]): Promise<void>;
}

export class SinkError extends HubError {
  readonly retryable: boolean;
  constructor(message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(opts.retryable ? 'E_SINK_WRITE' : 'E_SINK_REJECTED', message, { cause: opts.cause });
    this.name = 'SinkError';
    this.retryable = opts.retryable;
  }
}
