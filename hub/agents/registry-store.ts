// What the registry asks of its database: the repository interface every store implements. SQLite
// (sqlite-store.ts) is the one built; a server database for several hubs (PostgreSQL) implements the same
// interface — each method one transaction, `watch` on LISTEN/NOTIFY instead of polling (README, Operations).
// Every method is atomic on its own, so two processes (the CLI and a running hub) never lose each other's writes.
import type { Inventory } from '../../protocol/index.ts';

export interface SiteRecord {
  slug: string;
  name: string;
  code: string;
  province: string;
  provinceName: string;
  area: string;
  areaName: string;
  lat?: number;
  lon?: number;
}

export interface AgentRecord {
  site: string;
  agent: string;
  /** `hmac-sha256:<hex>` (token.ts); `scrypt$…` in registries written before, migrated on the agent's next connect. */
  tokenHash: string;
  createdAt: string;
  /** Rises by one with every new token (enrollment, rotation): a live connection of an older revision is closed. */
  tokenRev?: number;
  /** When the token was last rotated. */
  rotatedAt?: string;
}

export type ChangeKind = 'enroll' | 'rotate' | 'revoke' | 'sites';

/** One write another process must apply (the change log the hub follows). */
export interface RegistryChange {
  seq: number;
  kind: ChangeKind;
  /** '' for `sites`. */
  site: string;
  agent: string;
}

/** What the hub keeps of an agent's last report (its status with inventory) and when it last heard of it. */
export interface InventoryRecord {
  site: string;
  agent: string;
  version?: string;
  configRev?: string;
  /** Hub time of the report, epoch ms. */
  reportedAt?: number;
  /** Hub time of the last message or connection change, epoch ms. */
  lastSeen?: number;
  /** Whether the agent had a connection open to the hub when it was last seen. */
  connected?: boolean;
  inventory?: Inventory;
}

/** An agent as the fleet listing shows it: its record (without the hash), revoked or not, its inventory. */
export interface FleetRecord {
  site: string;
  agent: string;
  createdAt: string;
  tokenRev: number;
  rotatedAt?: string;
  revokedAt?: string;
  report: InventoryRecord | undefined;
}

export interface RegistryStore {
  /** `sqlite:<path>` (or the server's URL without credentials). */
  readonly location: string;
  /** Active (not revoked) agents, every site, and the last change's number. */
  loadAll(): Promise<{ sites: SiteRecord[]; agents: AgentRecord[]; changeSeq: number }>;
  getAgent(site: string, agent: string): Promise<AgentRecord | undefined>;
  listSites(): Promise<SiteRecord[]>;
  /** Runs `compute` on the sites as they are now and stores what it returns, in one transaction (no lost update). */
  updateSites(compute: (current: readonly SiteRecord[]) => readonly SiteRecord[]): Promise<void>;
  /** New tokens: inserts or replaces each agent (clearing a revocation; `tokenRev` rises), logs an enroll or rotate each. */
  putAgents(records: readonly AgentRecord[]): Promise<{ site: string; agent: string; kind: 'enroll' | 'rotate' }[]>;
  /**
   * Brings in what the store lacks (the import of a registry file): sites and agents not yet there are added with
   * their records as they are (scrypt ones included); those already there are kept. One transaction.
   */
  importRecords(sites: readonly SiteRecord[], agents: readonly AgentRecord[]): Promise<{ sitesAdded: number; agentsAdded: number; agentsKept: number }>;
  /** Marks the agent revoked (its next connect is refused); false when it was not enrolled. */
  revokeAgent(site: string, agent: string, at: string): Promise<boolean>;
  /** Replaces the token record only where it still is `from` (a migration never undoes a rotation); the records replaced. */
  replaceTokens(updates: readonly { site: string; agent: string; from: string; to: string }[]): Promise<number>;
  changesSince(seq: number): Promise<RegistryChange[]>;
  /** Calls `onChange` (at most every `intervalMs`) once another process wrote; returns the stop function. */
  watch(onChange: () => void, intervalMs: number): () => void;
  /** Merges reports (fields given replace the stored ones); one transaction for all. */
  putReports(reports: readonly InventoryRecord[]): Promise<void>;
  listFleet(): Promise<FleetRecord[]>;
  /** Writes (transactions that changed something) made by this store object. */
  readonly writes: number;
  close(): Promise<void>;
}
