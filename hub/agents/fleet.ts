// The fleet inventory as `ioc-hub agents list` and GET /api/agents show it: every agent with its site's place,
// its token's revision, what it last reported (version, config revision, OS, kernel, board, disk, uptime, USB
// devices) and when it was last seen; filtered by site, province, area, version, offline.
import type { Site } from './registry.ts';
import type { FleetRecord } from './registry-store.ts';

export interface FleetView {
  site: string;
  agent: string;
  province: string | null;
  area: string | null;
  online: boolean;
  lastSeen: string | null;
  version: string | null;
  configRev: string | null;
  /** When the hub received the report below. */
  reportedAt: string | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  boardModel: string | null;
  boardSerial: string | null;
  diskTotalBytes: number | null;
  diskFreeBytes: number | null;
  /** As reported (at reportedAt). */
  uptimeS: number | null;
  usb: { vendorId: string; productId: string; product?: string | undefined }[];
  enrolledAt: string;
  tokenRev: number;
  rotatedAt: string | null;
  revokedAt: string | null;
}

export interface FleetFilter {
  site?: string | undefined;
  province?: string | undefined;
  area?: string | undefined;
  version?: string | undefined;
  offline?: boolean | undefined;
  /** Revoked agents too (left out by default). */
  revoked?: boolean | undefined;
}

/** What a running hub knows of an agent's connection now (the CLI, another process, has none of this). */
export type LiveState = (site: string, agent: string) => { connected: boolean; lastSeen: number | null } | undefined;

/** Without the hub's live state, an agent counts as online while it was connected and seen this recently. */
export const STALE_AFTER_MS = 90_000;

export function fleetViews(records: readonly FleetRecord[], siteOf: (slug: string) => Site | undefined, filter: FleetFilter = {}, live?: LiveState, now = Date.now()): FleetView[] {
  const out: FleetView[] = [];
  for (const f of records) {
    if (f.revokedAt !== undefined && filter.revoked !== true) continue;
    const site = siteOf(f.site);
    const r = f.report;
    const state = live?.(f.site, f.agent);
    const lastSeenMs = Math.max(state?.lastSeen ?? 0, r?.lastSeen ?? 0) || null;
    const online = f.revokedAt === undefined && (state !== undefined ? state.connected : r?.connected === true && lastSeenMs !== null && now - lastSeenMs <= STALE_AFTER_MS);
    const inv = r?.inventory;
    const view: FleetView = {
      site: f.site,
      agent: f.agent,
      province: site?.province ?? null,
      area: site?.area ?? null,
      online,
      lastSeen: iso(lastSeenMs),
      version: r?.version ?? null,
      configRev: r?.configRev ?? null,
      reportedAt: iso(r?.reportedAt ?? null),
      os: inv?.os ?? null,
      kernel: inv?.kernel ?? null,
      arch: inv?.arch ?? null,
      boardModel: inv?.boardModel ?? null,
      boardSerial: inv?.boardSerial ?? null,
      diskTotalBytes: inv?.diskTotalBytes ?? null,
      diskFreeBytes: inv?.diskFreeBytes ?? null,
      uptimeS: inv?.uptimeS ?? null,
      usb: inv?.usb ?? [],
      enrolledAt: f.createdAt,
      tokenRev: f.tokenRev,
      rotatedAt: f.rotatedAt ?? null,
      revokedAt: f.revokedAt ?? null,
    };
    if (matches(view, filter)) out.push(view);
  }
  return out;
}

function matches(v: FleetView, f: FleetFilter): boolean {
  if (f.site !== undefined && v.site !== f.site) return false;
  if (f.province !== undefined && v.province !== f.province) return false;
  if (f.area !== undefined && v.area !== f.area) return false;
  if (f.version !== undefined && v.version !== f.version) return false;
  if (f.offline === true && v.online) return false;
  return true;
}

/** The filter from query-string values (`?province=phu-tho&offline=true`); an error message for a bad one. */
export function fleetFilterOf(query: Record<string, unknown>): FleetFilter | string {
  const filter: FleetFilter = {};
  for (const key of ['site', 'province', 'area', 'version'] as const) {
    const v = query[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > 64) return `${key}: one value of 1-64 characters`;
    filter[key] = v;
  }
  for (const key of ['offline', 'revoked'] as const) {
    const v = query[key];
    if (v === undefined) continue;
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0' && v !== '') return `${key}: true or false`;
    filter[key] = v === 'true' || v === '1' || v === '';
  }
  return filter;
}

/** One line per agent, tab-separated, with a header (for a terminal, `column -t`, or `cut`). */
export function fleetTable(views: readonly FleetView[]): string {
  const header = ['SITE', 'AGENT', 'ONLINE', 'LAST_SEEN', 'VERSION', 'CONFIG', 'OS', 'KERNEL', 'BOARD', 'SERIAL', 'DISK_FREE', 'UPTIME', 'USB'];
  const rows = views.map((v) => [
    v.site,
    v.agent,
    v.revokedAt !== null ? 'revoked' : v.online ? 'yes' : 'no',
    v.lastSeen ?? '-',
    v.version ?? '-',
    v.configRev ?? '-',
    v.os ?? '-',
    v.kernel ?? '-',
    v.boardModel ?? '-',
    v.boardSerial ?? '-',
    v.diskFreeBytes === null ? '-' : `${gib(v.diskFreeBytes)}/${gib(v.diskTotalBytes ?? 0)}G`,
    v.uptimeS === null ? '-' : duration(v.uptimeS),
    v.usb.map((u) => `${u.vendorId}:${u.productId}${u.product === undefined ? '' : ` ${u.product}`}`).join(', ') || '-',
  ]);
  return [header, ...rows].map((r) => `${r.join('\t')}\n`).join('');
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

function duration(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m`;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
