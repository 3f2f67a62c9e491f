// uplink: which link carries the default route (fibre/ADSL or a 4G modem) and since when; an event when it changes (uplink, uplink_event).
import { join } from 'node:path';
import { z } from 'zod';
import { defaultRoutes } from '../system/net-route.ts';
import { readText } from '../system/read-text.ts';
import { collectorBaseShape, defineCollector, plainLabel, writes, type Collector, type CollectorContext } from './types.ts';

export const UPLINK_KINDS = ['fibre', 'adsl', '4g', 'wifi', 'other'] as const;
export type UplinkKind = (typeof UPLINK_KINDS)[number];
/** Reported when there is no default route at all. */
export const NO_UPLINK = 'none';

export const uplinkConfigSchema = z.strictObject({
  type: z.literal('uplink'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(15),
  /** Interface name → uplink kind; a name ending in `*` is a prefix. Unlisted interfaces are `other`. */
  kinds: z.record(z.string().min(1).max(32), z.enum(UPLINK_KINDS)).default({ eth0: 'fibre', 'ppp*': '4g', 'wwan*': '4g', 'usb*': '4g', 'wlan*': 'wifi' }),
  procDir: z.string().min(1).default('/proc'),
});
export type UplinkConfig = z.infer<typeof uplinkConfigSchema>;

/** The interface of the IPv4 default route with the lowest metric, from /proc/net/route. */
export function defaultRouteIface(text: string): string | undefined {
  return defaultRoutes(text)[0]?.iface;
}

export function uplinkKind(iface: string, kinds: Readonly<Record<string, UplinkKind>>): UplinkKind {
  const exact = kinds[iface];
  if (exact !== undefined) return exact;
  for (const [pattern, kind] of Object.entries(kinds)) if (pattern.endsWith('*') && iface.startsWith(pattern.slice(0, -1))) return kind;
  return 'other';
}

export interface UplinkDeps {
  now?: () => number;
}

export function createUplinkCollector(config: UplinkConfig, _ctx: CollectorContext, deps: UplinkDeps = {}): Collector {
  const now = deps.now ?? Date.now;
  let current: { iface: string; uplink: string; since: number } | undefined;
  return {
    async gather(acc) {
      const t = now();
      // No routing table readable: no uplink known.
      const routes = await readText(join(config.procDir, 'net', 'route'));
      const iface = (routes === undefined ? undefined : defaultRouteIface(routes)) ?? NO_UPLINK;
      const uplink = iface === NO_UPLINK ? NO_UPLINK : uplinkKind(iface, config.kinds);
      if (current === undefined || current.iface !== iface || current.uplink !== uplink) {
        // At start the earlier history is unknown: `since` is when we first saw it.
        if (current !== undefined) acc.event('uplink_event', { uplink, iface, previous: current.uplink, previous_iface: current.iface }, undefined, t);
        current = { iface, uplink, since: t };
      }
      acc.add('uplink', { uplink, iface, uplink_since: current.since, since_s: Math.round((t - current.since) / 1000), on_4g: uplink === '4g' ? 1 : 0 }, undefined, t);
    },
  };
}

export const uplinkPlugin = defineCollector({
  type: 'uplink',
  configSchema: uplinkConfigSchema,
  label: plainLabel,
  writes: [
    writes('uplink', { tags: [], fields: ['uplink', 'iface', 'uplink_since', 'since_s', 'on_4g'] }),
    writes('uplink_event', { tags: [], fields: ['uplink', 'iface', 'previous', 'previous_iface'], event: true }),
  ],
  create: (config, ctx) => createUplinkCollector(config, ctx),
});
