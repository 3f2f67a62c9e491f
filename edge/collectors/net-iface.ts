// net_iface: per-interface throughput (bytes/s) and error counters from the OS counters in /proc/net/dev (net_iface).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
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

export interface IfaceCounters {
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDrops: number;
  txDrops: number;
}

/** /proc/net/dev: `iface: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop …`. */
export function parseProcNetDev(text: string): Map<string, IfaceCounters> {
  const out = new Map<string, IfaceCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    out.set(name, { rxBytes: v[0] ?? 0, rxErrors: v[2] ?? 0, rxDrops: v[3] ?? 0, txBytes: v[8] ?? 0, txErrors: v[10] ?? 0, txDrops: v[11] ?? 0 });
  }
  return out;
}

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
      let text: string;
      try {
        text = await readFile(join(config.procDir, 'net', 'dev'), 'utf8');
      } catch {
        return; // not Linux: nothing to report
      }
      const counters = parseProcNetDev(text);
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
