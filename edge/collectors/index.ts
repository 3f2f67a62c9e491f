// The explicit list of collector plugins (no self-registration) and the config union over them.
import { z } from 'zod';
import { dnsPlugin, dnsConfigSchema } from './dns.ts';
import { hostPlugin, hostConfigSchema } from './host.ts';
import { httpPlugin, httpConfigSchema } from './http.ts';
import { icmpPlugin, icmpConfigSchema } from './icmp.ts';
import { tcpPlugin, tcpConfigSchema } from './tcp.ts';
import type { Collector, CollectorContext } from './types.ts';

export type { Accumulator, Collector, CollectorContext, CollectorPlugin } from './types.ts';

export const COLLECTOR_TYPES = [tcpPlugin.type, httpPlugin.type, dnsPlugin.type, icmpPlugin.type, hostPlugin.type] as const;

/** One `collectors[]` entry, validated by its plugin's own schema (discriminated by `type`). */
export const collectorConfigSchema = z.discriminatedUnion('type', [
  tcpConfigSchema,
  httpConfigSchema,
  dnsConfigSchema,
  icmpConfigSchema,
  hostConfigSchema,
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
  }
}
