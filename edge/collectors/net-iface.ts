// net_iface: per-interface throughput (bytes/s) and error counters from the OS counters in /proc/net/dev (net_iface).
import { join } from 'node:path';
import { z } from 'zod';
import { parseNetDev, type IfaceCounters } from '../system/net-dev.ts';
import { readText } from '../system/read-text.ts';
import { collectorBaseShape, defineCollector, plainLabel, writes, type Collector, type CollectorContext } from './types.ts';

export const netIfaceConfigSchema = z.strictObject({
  type: z.literal('net_iface'),
  ...collectorBaseShape,
  intervalS: collectorBaseShape.intervalS.unwrap().default(30),
  /** Interfaces to report; empty: all but loopback and virtual ones (`lo`, `docker*`, `veth*`, `br-*`, `ifb*`). */
  interfaces: z.array(z.string().min(1).max(32)).max(32).default([]),
  procDir: z.string().min(1).default('/proc'),
});
export type NetIfaceConfig = z.infer<typeof netIfaceConfigSchema>;

const VIRTUAL = /^(lo|docker\d*|veth.*|br-.*|ifb\d*|virbr\d*|tun\d*|dummy\d*)$/;

export interface NetIfaceDeps {
  now?: () => number;
}

export function createNetIfaceCollector(config: NetIfaceConfig, _ctx: CollectorContext, deps: NetIfaceDeps = {}): Collector {
  const now = deps.now ?? Date.now;
  let prev: { t: number; counters: Map<string, IfaceCounters> } | undefined;
  return {
    async gather(acc) {
      const t = now();
      const text = await readText(join(config.procDir, 'net', 'dev'));
      if (text === undefined) return; // not Linux: nothing to report
      const counters = parseNetDev(text);
      const wanted = config.interfaces.length > 0 ? config.interfaces : [...counters.keys()].filter((n) => !VIRTUAL.test(n));
      for (const iface of wanted) {
        const cur = counters.get(iface);
        if (cur === undefined) {
          acc.add('net_iface', { present: 0 }, { iface }, t);
          continue;
        }
        const fields: Record<string, number> = { present: 1, errors: cur.rxErrors + cur.txErrors, drops: cur.rxDrops + cur.txDrops, rx_bytes: cur.rxBytes, tx_bytes: cur.txBytes };
        const before = prev?.counters.get(iface);
        const dt = prev === undefined ? 0 : (t - prev.t) / 1000;
        // The first gather is the baseline; a counter that went backwards (reboot of the modem, wrap) has no rate.
        if (before !== undefined && dt > 0 && cur.rxBytes >= before.rxBytes && cur.txBytes >= before.txBytes) {
          fields.rx_bps = Math.round((cur.rxBytes - before.rxBytes) / dt);
          fields.tx_bps = Math.round((cur.txBytes - before.txBytes) / dt);
        }
        acc.add('net_iface', fields, { iface }, t);
      }
      prev = { t, counters };
    },
  };
}

export const netIfacePlugin = defineCollector({
  type: 'net_iface',
  configSchema: netIfaceConfigSchema,
  label: plainLabel,
  writes: [writes('net_iface', { tags: ['iface'], fields: ['present', 'errors', 'drops', 'rx_bytes', 'tx_bytes', 'rx_bps', 'tx_bps'] })],
  create: (config, ctx) => createNetIfaceCollector(config, ctx),
});
