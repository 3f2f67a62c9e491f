// Parser of iputils (and BusyBox) `ping` output: packet loss and rtt min/avg/max/mdev.

export interface PingSummary {
  transmitted: number;
  received: number;
  lossPct: number;
  rttMinMs?: number;
  rttAvgMs?: number;
  rttMaxMs?: number;
  /** iputils' mdev: the jitter we report. */
  rttMdevMs?: number;
}

export type PingParse = { kind: 'summary'; summary: PingSummary } | { kind: 'unknown_host' } | { kind: 'unparsed' };

const STATS_RE = /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+\d+ (?:errors|duplicates))*, ([\d.]+)% packet loss/;
const RTT_RE = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/;
const UNKNOWN_HOST_RE = /(Name or service not known|Temporary failure in name resolution|unknown host|bad address|No address associated with hostname|nodename nor servname)/i;

export function parsePingOutput(stdout: string, stderr = ''): PingParse {
  const stats = STATS_RE.exec(stdout);
  if (stats === null) {
    if (UNKNOWN_HOST_RE.test(stderr) || UNKNOWN_HOST_RE.test(stdout)) return { kind: 'unknown_host' };
    return { kind: 'unparsed' };
  }
  const summary: PingSummary = {
    transmitted: Number(stats[1]),
    received: Number(stats[2]),
    lossPct: Number(stats[3]),
  };
  const rtt = RTT_RE.exec(stdout);
  if (rtt !== null) {
    summary.rttMinMs = Number(rtt[1]);
    summary.rttAvgMs = Number(rtt[2]);
    summary.rttMaxMs = Number(rtt[3]);
    if (rtt[4] !== undefined) summary.rttMdevMs = Number(rtt[4]);
  }
  return { kind: 'summary', summary };
}
