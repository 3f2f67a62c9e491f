// Where ingest sends its batches: the InfluxDB writer today, a durable spool in front of it later.
import type { FieldValue } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';

/** A point ready for storage: measurement, full tag set (hub tags included), fields, epoch ms. */
export interface HubPoint {
  measurement: string;
  tags: Readonly<Record<string, string>>;
  fields: Readonly<Record<string, FieldValue>>;
  /** Epoch milliseconds. */
  timestamp: number;
  /**
   * Replayed from the agent's backlog after an outage (its batch's `late`). Not stored as a field: the alert engine
   * evaluates such a point as history (hub/alerts/README.md, "Replayed readings").
   */
  late?: true;
}

export interface Sink {
  /**
   * Stores the points. Resolves once they are durable. Rejects with a `SinkError`: `retryable`
   * false means the store refused the points themselves (resending them cannot help).
   */
  write(points: readonly HubPoint[]): Promise<void>;
}

/** Why the store refused points (InfluxDB HTTP 400), as a metric label. */
export type RejectionReason = 'field_type_conflict' | 'beyond_retention' | 'max_values_per_tag' | 'max_series' | 'parse_error' | 'partial_write' | 'other';

export interface Rejection {
  reason: RejectionReason;
  /** Points the store says it dropped (InfluxDB's `dropped=N`), when it says. */
  dropped?: number;
  /** The measurement named in the error, when one is. */
  measurement?: string;
}

export class SinkError extends HubError {
  readonly retryable: boolean;
  readonly rejection: Rejection | undefined;
  constructor(message: string, opts: { retryable: boolean; cause?: unknown; rejection?: Rejection }) {
    super(opts.retryable ? 'E_SINK_WRITE' : 'E_SINK_REJECTED', message, { cause: opts.cause });
    this.name = 'SinkError';
    this.retryable = opts.retryable;
    this.rejection = opts.rejection;
  }
}

/** Reads InfluxDB 1.x's 400 error text (`partial write: field type conflict: input field "x" on measurement "host" … dropped=3`). */
export function parseRejection(message: string): Rejection {
  const reason: RejectionReason = /field type conflict/i.test(message)
    ? 'field_type_conflict'
    : /beyond retention/i.test(message)
      ? 'beyond_retention'
      : /max-values-per-tag/i.test(message)
        ? 'max_values_per_tag'
        : /max-series-per-database/i.test(message)
          ? 'max_series'
          : /unable to parse|bad timestamp|invalid/i.test(message)
            ? 'parse_error'
            : /partial write/i.test(message)
              ? 'partial_write'
              : 'other';
  const dropped = /dropped=(\d+)/.exec(message)?.[1];
  const measurement = /on measurement \\?"([^"\\]+)\\?"/.exec(message)?.[1];
  return { reason, ...(dropped === undefined ? {} : { dropped: Number(dropped) }), ...(measurement === undefined ? {} : { measurement }) };
}
