// The collector plugin contract (after Telegraf's inputs): a tiny gather() the runtime schedules.
import { z } from 'zod';
import type { FieldValue } from '../../protocol/index.ts';
import type { Logger } from '../logger.ts';

/** Something that takes points (the Batcher is one: one per channel). */
export interface PointSink {
  /** `t` defaults to now (epoch ms). Tags must not be site/agent/province/area: the hub sets those. */
  add(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t?: number): void;
}

/** Where collectors put their readings; the runtime adds buffering, batching and delivery. */
export interface Accumulator extends PointSink {
  /**
   * A discrete event (ticket called, door opened, uplink changed): batched apart from the periodic
   * readings and sent on the `event` topic. Use a measurement of its own (`*_event`), so an event never
   * shares measurement + tags + time with a periodic point.
   */
  event(measurement: string, fields: Record<string, FieldValue>, tags?: Record<string, string>, t?: number): void;
}

export interface CollectorContext {
  logger: Logger;
}

export interface Collector {
  /** Takes one reading. A failed probe is a reading with a `result` code, never a rejection. */
  gather(acc: Accumulator, signal: AbortSignal): Promise<void>;
  /**
   * Service collectors (Telegraf's ServiceInput: an HTTP listener, GPIO edges) start here and may add
   * points and events at any time until close(). Called once at agent start (gather may overlap it).
   */
  start?(acc: Accumulator): Promise<void> | void;
  close?(): Promise<void> | void;
}

export interface CollectorPlugin<C extends { type: string }> {
  readonly type: C['type'];
  /** Validates one `collectors[]` entry and holds its defaults. */
  readonly configSchema: z.ZodType<C>;
  create(config: C, ctx: CollectorContext): Collector;
}

/** Options every collector entry has. */
export const collectorBaseShape = {
  /** Name used as the `target` tag (defaults to the host). */
  name: z.string().min(1).max(128).optional(),
  /** Seconds between gathers. */
  intervalS: z.number().positive().max(86_400).default(60),
};

export const timeoutMsSchema = z.int().min(50).max(120_000);
export const hostSchema = z.string().min(1).max(253);
export const portSchema = z.int().min(1).max(65_535);

/** Milliseconds with 0.01 ms resolution, from a hrtime start. */
export function elapsedMs(startNs: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startNs) / 10_000) / 100;
}

/** A signal that aborts on the caller's signal or after `timeoutMs`, whichever comes first. */
export function withTimeout(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}
