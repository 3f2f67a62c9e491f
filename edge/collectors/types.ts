// The collector plugin contract (after Telegraf's inputs): a tiny gather() the runtime schedules.
import { z } from 'zod';
import type { AgentMeasurement, AgentTagOf, FieldOf, FieldValue } from '../../protocol/index.ts';
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

/**
 * One measurement a collector writes, in the terms of the catalogue (protocol/measurements.ts): the tags it sets
 * (the hub adds site/agent) and every field it may write. The types only let a plugin name what the catalogue lists;
 * test/measurements-catalogue.test.ts holds each collector's real output to its declaration.
 */
export interface MeasurementWrite<M extends AgentMeasurement = AgentMeasurement> {
  readonly measurement: M;
  readonly tags: readonly AgentTagOf<M>[];
  readonly fields: readonly FieldOf<M>[];
  /** The device's own register map adds fields the catalogue types by `otherFields` (equipment only). */
  readonly otherFields?: true;
  /** Sent with acc.event() on the event topic (the `*_event` measurements). */
  readonly event?: true;
}

/** Any agent measurement's `writes` entry (one per measurement: the field names stay that measurement's). */
export type AnyMeasurementWrite = { [M in AgentMeasurement]: MeasurementWrite<M> }[AgentMeasurement];

/** A `writes` entry, checked against the catalogue by the compiler. */
export function writes<const M extends AgentMeasurement>(measurement: M, w: Omit<MeasurementWrite<M>, 'measurement'>): MeasurementWrite<M> {
  return { measurement, ...w };
}

/**
 * A collector plugin (Telegraf's input): its config schema with every default, its factory, a readable label,
 * and what it writes. Listed once in COLLECTOR_PLUGINS (index.ts); the config union, the factory and the
 * docs' tables are derived from that list.
 */
export interface CollectorPlugin<T extends string = string, S extends z.ZodType<{ type: T }> = z.ZodType<{ type: T }>> {
  readonly type: T;
  /** Validates one `collectors[]` entry and holds its defaults. */
  readonly configSchema: S;
  create(config: z.output<S>, ctx: CollectorContext): Collector;
  /** A readable name for logs and stats: `tcp:hub`. */
  label(config: z.output<S>): string;
  readonly writes: readonly AnyMeasurementWrite[];
}

/** Declares a plugin, keeping its own config type (so the union over COLLECTOR_PLUGINS stays discriminated). */
export function defineCollector<const T extends string, S extends z.ZodType<{ type: T }>>(plugin: CollectorPlugin<T, S>): CollectorPlugin<T, S> {
  return plugin;
}

/** `type` or `type:name`, for collectors without a natural target. */
export function plainLabel(config: { type: string; name?: string | undefined }): string {
  return config.name === undefined ? config.type : `${config.type}:${config.name}`;
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
