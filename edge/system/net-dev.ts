// /proc/net/dev: per-interface byte, error and drop counters since boot (the net_iface collector).

export interface IfaceCounters {
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDrops: number;
  txDrops: number;
}

/** `iface: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop …` (two header lines). */
export function parseNetDev(text: string): Map<string, IfaceCounters> {
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
