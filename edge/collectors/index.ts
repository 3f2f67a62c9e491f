// The explicit list of collector plugins (no self-registration) and the config union over them.
import { z } from 'zod';
import { displayPlugin, displayConfigSchema } from './display.ts';
import { dnsPlugin, dnsConfigSchema } from './dns.ts';
import { gpioPlugin, gpioConfigSchema } from './gpio/gpio.ts';
import { hostPlugin, hostConfigSchema } from './host.ts';
import { httpPlugin, httpConfigSchema } from './http.ts';
import { icmpPlugin, icmpConfigSchema } from './icmp/icmp.ts';
import { modbusPlugin, modbusConfigSchema } from './modbus/modbus.ts';
import { netIfacePlugin, netIfaceConfigSchema } from './net-iface.ts';
import { queuePlugin, queueConfigSchema } from './queue/queue.ts';
import { tcpPlugin, tcpConfigSchema } from './tcp.ts';
import { uplinkPlugin, uplinkConfigSchema } from './uplink.ts';
import type { Collector, CollectorContext } from './types.ts';

export type { Accumulator, Collector, CollectorContext, CollectorPlugin } from './types.ts';

export const COLLECTOR_TYPES = [
  tcpPlugin.type,
  httpPlugin.type,
  dnsPlugin.type,
  icmpPlugin.type,
  hostPlugin.type,
  netIfacePlugin.type,
  uplinkPlugin.type,
  queuePlugin.type,
  displayPlugin.type,
  modbusPlugin.type,
  gpioPlugin.type,
] as const;

/** One `collectors[]` entry, validated by its plugin's own schema (discriminated by `type`). */
export const collectorConfigSchema = z.discriminatedUnion('type', [
  tcpConfigSchema,
  httpConfigSchema,
  dnsConfigSchema,
  icmpConfigSchema,
  hostConfigSchema,
  netIfaceConfigSchema,
  uplinkConfigSchema,
  queueConfigSchema,
  displayConfigSchema,
  modbusConfigSchema,
  gpioConfigSchema,
]);
export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export function createCollector(config: CollectorConfig, ctx: CollectorContext): Collector {
  switch (config.type) {
    case 'tcp':
      return tcpPlugin.create(config, ctx);
    case 'http':
      return httpPlugin.create(config, ctx);
    case 'dns':
      return dnsPlugin.create(config, ctx);
    case 'icmp':
      return icmpPlugin.create(config, ctx);
    case 'host':
      return hostPlugin.create(config, ctx);
    case 'net_iface':
      return netIfacePlugin.create(config, ctx);
    case 'uplink':
      return uplinkPlugin.create(config, ctx);
    case 'queue':
      return queuePlugin.create(config, ctx);
    case 'display':
      return displayPlugin.create(config, ctx);
    case 'modbus':
      return modbusPlugin.create(config, ctx);
    case 'gpio':
      return gpioPlugin.create(config, ctx);
  }
}

/** A readable name for logs and stats: `tcp:hub`. */
export function collectorLabel(config: CollectorConfig): string {
  switch (config.type) {
    case 'tcp':
      return `tcp:${config.name ?? `${config.host}:${config.port}`}`;
    case 'http':
      return `http:${config.name ?? config.url}`;
    case 'dns':
      return `dns:${config.name ?? config.query}`;
    case 'icmp':
      return `icmp:${config.name ?? config.host}`;
    case 'host':
      return `host${config.name === undefined ? '' : `:${config.name}`}`;
    case 'net_iface':
      return `net_iface${config.name === undefined ? '' : `:${config.name}`}`;
    case 'uplink':
      return `uplink${config.name === undefined ? '' : `:${config.name}`}`;
    case 'queue':
      return `queue:${config.name ?? `${config.listen.host}:${config.listen.port}`}`;
    case 'display':
      return `display:${config.name ?? config.display}`;
    case 'modbus':
      return `modbus:${config.name ?? (config.transport.kind === 'tcp' ? `${config.transport.host}:${config.transport.port}` : config.transport.path)}`;
    case 'gpio':
      return `gpio:${config.name ?? config.inputs.map((i) => i.name).join(',')}`;
  }
}
