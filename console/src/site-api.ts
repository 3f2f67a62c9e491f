// The answer of GET /api/sites/:slug as the site page reads it (hub/http/site-routes.ts SiteDetail).
import type { AlertView } from './api.ts';

type Num = number | null;

export interface SiteDetail {
  site: { slug: string; name: string; area: string; areaName: string; province: string; online: boolean; lastSeen: string | null; pointsToday: number };
  asOf: number;
  window: { from: number; to: number; dayFrom: number; bucket: string };
  agents: { agent: string; online: boolean; connected: boolean; lastSeen: string | null; version: string | null; configRev: string | number | null; clockSynced: boolean | null; clockProblem: boolean; bannedUntil: string | null }[];
  uplinks: { agent: string; uplink: string | null; iface: string | null; since: Num; on4g: boolean; t: number }[];
  probes: { agent: string; target: string; method: string; up: Num; rttMs: Num; lossPct: Num; result: string | null; t: number }[];
  probeSeries: { target: string; t: number[]; rttMs: Num[]; lossPct: Num[] }[];
  counters: { agent: string; counter: string; currentNumber: Num; waiting: Num; servedTotal: Num; issuedTotal: Num; avgWaitS: Num; t: number }[];
  queueSeries: { counter: string; t: number[]; waiting: Num[] }[];
  displays: { agent: string; display: string; alive: Num; frozen: Num; lastSeenS: Num; shownNumber: Num; expectedNumber: Num; t: number }[];
  equipment: { agent: string; device: string; kind: string; fields: Record<string, number | string>; t: number }[];
  gpio: { agent: string; pin: string; name: string; state: Num; t: number }[];
  host: { agent: string; cpuPct: Num; tempC: Num; memPct: Num; diskPct: Num; throttled: Num; t: number }[];
  delivery: { agent: string; backlog: Num; oldestUnsentAgeS: Num; completenessPct: Num; latePoints: Num; livePoints: Num; t: number | null }[];
  alerts: { active: AlertView[]; resolved: AlertView[] };
  missing: { part: 'latest' | 'probeSeries' | 'queueSeries'; error: string }[];
  capped: string[];
}
