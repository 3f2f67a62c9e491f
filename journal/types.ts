// The journal's options, reports and error: what its users see besides the Journal class.
import { CodedError } from '../common/errors.ts';

export type JournalErrorCode = 'E_JOURNAL_OPEN' | 'E_JOURNAL_WRITE' | 'E_JOURNAL_READ' | 'E_JOURNAL_CLOSED' | 'E_JOURNAL_RECORD';

export class JournalError extends CodedError<JournalErrorCode> {}

export interface JournalOptions {
  dir: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** Bound on the bytes on disk; past it the OLDEST segment is dropped whole and its live records counted. */
  maxBytes: number;
  /** Records older than this (append time) are dropped and counted. */
  maxAgeMs?: number;
  /** Bound on live records; past it the oldest is dropped and counted. */
  maxRecords?: number;
  /** Group commit: fsync at most this long after a write (0 = at the next tick). */
  fsyncIntervalMs: number;
  /** …or as soon as this many records/acks are unsynced. */
  fsyncEveryRecords: number;
  now?: () => number;
  /** Told about every drop (count), e.g. to log once per interval. */
  onDrop?: (count: number, reason: 'bytes' | 'age' | 'count') => void;
  /** Told about a failed background fsync. */
  onError?: (err: unknown) => void;
}

export interface JournalEntryInfo {
  readonly id: number;
  /** Append time, epoch ms. */
  readonly at: number;
  readonly size: number;
}

export interface RecoveryReport {
  segments: number;
  records: number;
  live: number;
  /** Bytes cut from torn or corrupt tails. */
  truncatedBytes: number;
  /** Segment files deleted because every record in them was resolved. */
  deletedSegments: number;
}
