// Remote diagnostics: the commands a hub may send an agent to look at its network and itself, with the zod schema
// of each command's arguments. The hub refuses wrong arguments before sending; the agent checks them again before
// running anything (it never trusts the wire). Hosts and names are plain host names or addresses: no spaces, no
// shell characters, never starting with `-` (a program's option), as they go into a program's argv.
import { z } from 'zod';

export const DIAGNOSTIC_COMMANDS = ['ping', 'traceroute', 'dns', 'logs', 'restart-collector', 'probe-now'] as const;
export type DiagnosticCommand = (typeof DIAGNOSTIC_COMMANDS)[number];

export function isDiagnosticCommand(name: string): name is DiagnosticCommand {
  return (DIAGNOSTIC_COMMANDS as readonly string[]).includes(name);
}

/** A host name, an IPv4 or an IPv6 address: letters, digits, `.`, `-`, `_`, `:`, not starting with `-`. */
export const diagHostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9_:][A-Za-z0-9_.:-]*$/, 'a host name or an IP address (letters, digits, . - _ :), not starting with -');

/** A DNS server: an IP address, optionally with `:port` (`[v6]:port` for IPv6). */
const dnsServerSchema = z
  .string()
  .max(64)
  .regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*)$/, 'a DNS server: an IP address, optionally :port');

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'MX', 'TXT', 'NS', 'CNAME', 'SOA', 'SRV', 'PTR'] as const;

export const diagnosticArgSchemas = {
  ping: z.strictObject({
    host: diagHostSchema,
    count: z.int().min(1).max(20).default(4),
    /** Seconds to wait for each reply (`ping -W`). */
    timeoutS: z.int().min(1).max(10).default(2),
  }),
  traceroute: z.strictObject({
    host: diagHostSchema,
    maxHops: z.int().min(1).max(30).default(15),
    /** Seconds to wait for each probe (`traceroute -w`). */
    waitS: z.int().min(1).max(5).default(2),
    /** Probes per hop (`traceroute -q`). */
    queries: z.int().min(1).max(3).default(1),
  }),
  dns: z.strictObject({
    name: diagHostSchema,
    type: z.enum(DNS_RECORD_TYPES).default('A'),
    /** Absent: the system's resolver (getaddrinfo: /etc/hosts, then resolv.conf) for A/AAAA, its servers otherwise. */
    server: dnsServerSchema.optional(),
    timeoutMs: z.int().min(100).max(10_000).default(3000),
  }),
  logs: z.strictObject({
    /** The newest N lines of the agent's own log. */
    lines: z.int().min(1).max(500).default(100),
  }),
  'restart-collector': z.strictObject({
    /** The collector's label (`icmp:gateway`, as in the agent's log lines) or its `name`. */
    name: z.string().min(1).max(200),
  }),
  'probe-now': z.strictObject({}),
} as const satisfies Record<DiagnosticCommand, z.ZodType>;

export type DiagnosticArgs<C extends DiagnosticCommand> = z.output<(typeof diagnosticArgSchemas)[C]>;

/** Validated arguments, or a readable refusal (`path: problem; …`). */
export function parseDiagnosticArgs(name: DiagnosticCommand, args: unknown): { ok: true; args: Record<string, unknown> } | { ok: false; error: string } {
  const r = diagnosticArgSchemas[name].safeParse(args ?? {});
  if (r.success) return { ok: true, args: r.data as Record<string, unknown> };
  return { ok: false, error: r.error.issues.map((i) => `${i.path.length === 0 ? 'args' : i.path.join('.')}: ${i.message}`).join('; ').slice(0, 1000) };
}

/** The most of a program's output (or of log text) a result carries: the command result is at most 64 KiB. */
export const DIAG_MAX_OUTPUT_BYTES = 16 * 1024;
export const DIAG_MAX_LOG_BYTES = 40 * 1024;

/** How long the hub waits for each command's result (the agent's own timeout is shorter). */
export const DIAG_HUB_TIMEOUT_MS: Readonly<Record<DiagnosticCommand, number>> = {
  ping: 45_000,
  traceroute: 75_000,
  dns: 20_000,
  logs: 10_000,
  'restart-collector': 75_000,
  'probe-now': 75_000,
};
