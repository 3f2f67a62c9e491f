// The hub API as the console uses it: same origin, the session cookie, the CSRF token on every write.
import type { SiteDetail } from './site-api.ts';
export interface User {
  name: string;
  displayName: string;
  role: 'technician' | 'operator' | 'admin';
}

export interface AlertView {
  id: string;
  site: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  state: 'pending' | 'firing' | 'acknowledged' | 'resolved';
  since: number;
  updatedAt: number;
  summary: { vi: string; en: string };
  labels: Record<string, string>;
  ackedBy?: string;
  suppressedBy?: string;
}

export interface Incident {
  alert: AlertView;
  parts: AlertView[];
  sites: string[];
}

export interface Silence {
  id: string;
  kind: 'silence' | 'maintenance';
  sites?: string[];
  areas?: string[];
  rules?: string[];
  allSites?: true;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export interface SiteView {
  slug: string;
  name: string;
  area: string;
  areaName: string;
  online: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';

export function setCsrf(token: string): void {
  csrf = token;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(10_000) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    const e = data as { code?: string; error?: string; message?: string };
    throw new ApiError(res.status, e.code ?? `HTTP ${res.status}`, e.error ?? e.message ?? text);
  }
  return data as T;
}

export const api = {
  session: () => call<{ user: User | null; csrf?: string }>('GET', '/api/session'),
  login: (username: string, password: string) => call<{ user: User; csrf: string }>('POST', '/api/login', { username, password }),
  logout: () => call<void>('POST', '/api/logout'),
  incidents: () => call<{ incidents: Incident[] }>('GET', '/api/incidents'),
  history: () => call<{ alerts: AlertView[] }>('GET', '/api/alerts?state=resolved&limit=100'),
  sites: () => call<{ sites: SiteView[] }>('GET', '/api/sites'),
  rules: () => call<{ rules: string[] }>('GET', '/api/alert-rules'),
  ack: (id: string) => call<{ alert: AlertView }>('POST', `/api/alerts/${encodeURIComponent(id)}/ack`, {}),
  silences: () => call<{ silences: Silence[] }>('GET', '/api/silences'),
  addSilence: (s: Record<string, unknown>) => call<{ silence: Silence }>('POST', '/api/silences', s),
  deleteSilence: (id: string) => call<void>('DELETE', `/api/silences/${encodeURIComponent(id)}`),
  site: (slug: string) => call<SiteDetail>('GET', `/api/sites/${encodeURIComponent(slug)}`),
};

/** The same-origin call with the session's CSRF token, for the pages' own API modules (fleet-api.ts). */
export { call as apiCall };

/**
 * The login of this browser's session cookie, if any, with its CSRF token set for the writes; `lost`: the hub did not
 * answer (an ApiError is an answer: no session).
 */
export async function resumeSession(): Promise<{ user: User | null; lost: boolean }> {
  try {
    const s = await api.session();
    if (s.csrf !== undefined) setCsrf(s.csrf);
    return { user: s.user, lost: false };
  } catch (err: unknown) {
    return { user: null, lost: !(err instanceof ApiError) };
  }
}
