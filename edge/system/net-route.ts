// /proc/net/route: the IPv4 routing table (hex, little-endian), read by the uplink collector (which interface
// carries the default route) and the icmp collector (`host: gateway`).

export interface Route {
  iface: string;
  /** Dotted quads. */
  destination: string;
  gateway: string;
  mask: string;
  flags: number;
  metric: number;
}

/** RTF_UP: the route is usable. */
const RTF_UP = 0x1;

/** `0101A8C0` → `192.168.1.1` (the kernel writes the address in host order, little-endian on every Pi). */
export function hexToIpv4(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** Every route of the table (header skipped; a line without a destination or gateway is ignored). Columns after Flags may be absent: then 0. */
export function parseNetRoute(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, gw, flags, , , metric, mask] = line.trim().split(/\s+/);
    if (iface === undefined || iface === '') continue;
    const destination = hexToIpv4(dest ?? '');
    const gateway = hexToIpv4(gw ?? '');
    if (destination === undefined || gateway === undefined) continue;
    out.push({ iface, destination, gateway, mask: hexToIpv4(mask ?? '00000000') ?? '0.0.0.0', flags: Number.parseInt(flags ?? '0', 16) || 0, metric: Number(metric ?? 0) || 0 });
  }
  return out;
}

/** The usable IPv4 default routes, lowest metric (the one the kernel uses) first. */
export function defaultRoutes(text: string): Route[] {
  return parseNetRoute(text)
    .filter((r) => r.destination === '0.0.0.0' && r.mask === '0.0.0.0' && (r.flags & RTF_UP) !== 0)
    .sort((a, b) => a.metric - b.metric);
}

/** The IPv4 default gateway (of the lowest-metric default route that has one), or undefined. */
export function defaultGatewayOf(text: string): string | undefined {
  return defaultRoutes(text).find((r) => r.gateway !== '0.0.0.0')?.gateway;
}
