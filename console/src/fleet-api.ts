// The fleet's and the logins' part of the hub API, as the fleet and users pages use it (see hub/http/fleet-routes.ts,
// hub/http/users-routes.ts, and GET /api/agents in hub/http/http.ts).
import { apiCall } from './api.ts';

export interface FleetAgent {
  site: string;
  agent: string;
  province: string | null;
  area: string | null;
  online: boolean;
  lastSeen: string | null;
  version: string | null;
  configRev: string | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  boardModel: string | null;
  enrolledAt: string;
  tokenRev: number;
  rotatedAt: string | null;
  revokedAt: string | null;
}

export interface FleetSite {
  slug: string;
  name: string;
  area: string;
  areaName: string;
}

/** Answered once by enroll and rotate: the token exists nowhere else. */
export interface IssuedToken {
  site: string;
  agent: string;
  token: string;
  hubUrl: string;
  config: string;
}

export interface Login {
  name: string;
  displayName: string;
  role: 'technician' | 'operator' | 'admin';
  disabled: boolean;
  createdAt: number;
  passwordChangedAt: number;
}

const seg = encodeURIComponent;

export const fleetApi = {
  agents: (revoked: boolean) => apiCall<{ agents: FleetAgent[] }>('GET', `/api/agents${revoked ? '?revoked=true' : ''}`),
  sites: () => apiCall<{ sites: FleetSite[] }>('GET', '/api/sites'),
  enroll: (site: string, agent: string, hubUrl: string) => apiCall<IssuedToken>('POST', '/api/agents', { site, agent, ...(hubUrl === '' ? {} : { hubUrl }) }),
  rotate: (site: string, agent: string) => apiCall<IssuedToken>('POST', `/api/agents/${seg(site)}/${seg(agent)}/rotate`, {}),
  revoke: (site: string, agent: string) => apiCall<{ revoked: true }>('POST', `/api/agents/${seg(site)}/${seg(agent)}/revoke`, {}),
  users: () => apiCall<{ users: Login[] }>('GET', '/api/users'),
  addUser: (u: { name: string; displayName: string; role: string; password: string }) => apiCall<{ user: Login; password?: string }>('POST', '/api/users', u),
  setDisabled: (name: string, disabled: boolean) => apiCall<{ user: Login }>('POST', `/api/users/${seg(name)}/${disabled ? 'disable' : 'enable'}`, {}),
  resetPassword: (name: string) => apiCall<{ user: Login; password?: string }>('POST', `/api/users/${seg(name)}/password`, {}),
};
