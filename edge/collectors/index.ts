// The one list of collector plugins (no self-registration). The config union, the factory, the labels and the
// docs' tables are derived from it: a new collector is one more entry here.
import { z } from 'zod';
import { displayPlugin } from './display.ts';
import { dnsPlugin } from './dns.ts';
import { gpioPlugin } from './gpio/gpio.ts';
import { hostPlugin } from './host.ts';
import { httpPlugin } from './http.ts';
import { icmpPlugin } from './icmp/icmp.ts';
import { modbusPlugin } from './modbus/modbus.ts';
import { netIfacePlugin } from './net-iface.ts';
import { queuePlugin } from './queue/queue.ts';
import { tcpPlugin } from './tcp.ts';
import { uplinkPlugin } from './uplink.ts';
import type { Collector, CollectorContext } from './types.ts';

export type { Accumulator, Collector, CollectorContext, AnyMeasurementWrite, CollectorPlugin, MeasurementWrite } from './types.ts';

export const COLLECTOR_PLUGINS = [
  tcpPlugin,
  httpPlugin,
  dnsPlugin,
  icmpPlugin,
  hostPlugin,
  netIfacePlugin,
  uplinkPlugin,
  queuePlugin,
  displayPlugin,
  modbusPlugin,
  gpioPlugin,
] as const;

type Plugins = typeof COLLECTOR_PLUGINS;
type SchemasOf<P extends readonly unknown[]> = { readonly [K in keyof P]: P[K] extends { readonly configSchema: infer S } ? S : never };
type ConfigSchemas = SchemasOf<Plugins>;

export type CollectorType = Plugins[number]['type'];
export const COLLECTOR_TYPES: readonly CollectorType[] = COLLECTOR_PLUGINS.map((p) => p.type);

// Array.map forgets the tuple: the schemas are the plugins' own, in the plugins' order.
const configSchemas = COLLECTOR_PLUGINS.map((p) => p.configSchema) as unknown as ConfigSchemas;

/** One `collectors[]` entry, validated by its plugin's own schema (discriminated by `type`). */
export const collectorConfigSchema = z.discriminatedUnion('type', configSchemas);
export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

/** The plugin of a config entry, typed for that entry: `type` picks both. */
type ErasedPlugin = { create(config: CollectorConfig, ctx: CollectorContext): Collector; label(config: CollectorConfig): string };
const BY_TYPE: ReadonlyMap<string, ErasedPlugin> = new Map(COLLECTOR_PLUGINS.map((p) => [p.type, p as ErasedPlugin]));

function pluginOf(config: CollectorConfig): ErasedPlugin {
  const plugin = BY_TYPE.get(config.type);
  // collectorConfigSchema only parses types of the list: a miss is a bug, not a config error.
  if (plugin === undefined) throw new TypeError(`no collector plugin for type ${config.type}`);
  return plugin;
}

export function createCollector(config: CollectorConfig, ctx: CollectorContext): Collector {
  return pluginOf(config).create(config, ctx);
}

/** A readable name for logs and stats: `tcp:hub`. */
export function collectorLabel(config: CollectorConfig): string {
  return pluginOf(config).label(config);
}
