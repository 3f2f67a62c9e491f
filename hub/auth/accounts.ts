// People's logins (technicians, operators, admins) and their sessions, in one SQLite file beside the registry
// (`accounts.db`, WAL): `ioc-hub users add/passwd/disable` from the command line takes effect in a running hub at
// its next request, since every session lookup reads the file. Passwords are scrypt-hashed (node:crypto); a
// session is a random token of which only the SHA-256 is stored, with a CSRF token of its own.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { decoyHash, hashToken, sha256, verifyToken, type ScryptParams } from '../agents/token.ts';
import { HubError } from '../errors.ts';
import type { ApiScope } from './service-accounts.ts';

export const ROLES = ['technician', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role may do through the API (the console is a client of it). `wall:read` is the wall's own data;
 * anonymous visitors get it alone, when `console.anonymousWall` is on. `users:write` (the logins) is an admin
 * session's alone: no service account holds it.
 */
export const ROLE_SCOPES: Readonly<Record<Role | 'wall', readonly (ApiScope | 'wall:read' | 'users:write')[]>> = {
  wall: ['wall:read'],
  technician: ['wall:read', 'sites:read', 'alerts:read', 'alerts:write', 'diagnostics:run', 'agents:read'],
  operator: ['wall:read', 'sites:read', 'alerts:read', 'alerts:write', 'audit:read', 'diagnostics:run', 'agents:read', 'agents:write', 'config:read', 'config:write'],
  admin: ['wall:read', 'sites:read', 'alerts:read', 'alerts:write', 'audit:read', 'diagnostics:run', 'agents:read', 'agents:write', 'users:write', 'config:read', 'config:write'],
};

export const loginNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a login: lowercase letters, digits, . _ -, at most 64');
export const passwordSchema = z.string().min(10, 'a password of at least 10 characters').max(256);
const displayNameSchema = z.string().trim().min(1).max(128);

export interface User {
  name: string;
  /** Shown in the console and recorded as who acknowledged (e.g. "Nguyễn Văn An"). */
  displayName: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
  passwordChangedAt: number;
}

export interface Session {
  user: User;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface SessionLimits {
  /** A session unused this long ends, ms. */
  idleMs: number;
  /** A session ends this long after its login whatever its use, ms. */
  absoluteMs: number;
}

export interface AccountStoreOptions {
  now?: () => number;
  /** Scrypt parameters of new password hashes (tests lower them). */
  scrypt?: ScryptParams;
}

interface UserRow {
  name: string;
  display_name: string;
  role: string;
  password_hash: string;
  disabled: number;
  created_at: number;
  password_changed_at: number;
}

interface SessionRow extends UserRow {
  csrf: string;
  s_created_at: number;
  last_seen: number;
}

/** `accounts.db` beside the registry unless configured. */
export function accountsPath(config: { registry: { path: string }; sessions?: { accountsPath?: string | undefined } }): string {
  return config.sessions?.accountsPath ?? join(dirname(config.registry.path), 'accounts.db');
}

const userOf = (r: UserRow): User => ({
  name: r.name,
  displayName: r.display_name,
  role: (ROLES as readonly string[]).includes(r.role) ? (r.role as Role) : 'technician',
  disabled: r.disabled !== 0,
  createdAt: r.created_at,
  passwordChangedAt: r.password_changed_at,
});

/** Refreshing `last_seen` at most this often keeps a busy console from writing the file on every request. */
const TOUCH_MS = 30_000;

export class AccountStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly scrypt: ScryptParams | undefined;
  private readonly decoy: string;

  private constructor(
    readonly path: string,
    opts: AccountStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.scrypt = opts.scrypt;
    this.decoy = decoyHash(opts.scrypt === undefined ? undefined : `scrypt$${opts.scrypt.N}$${opts.scrypt.r}$${opts.scrypt.p}$x$y`);
    try {
      this.db = new Database(path, { timeout: 5000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS users (
          name TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
          disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, password_changed_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS sessions (
          id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE, csrf TEXT NOT NULL,
          created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);`);
    } catch (err: unknown) {
      throw new HubError('E_ACCOUNTS', `accounts file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  static open(path: string, opts: AccountStoreOptions = {}): AccountStore {
    return new AccountStore(path, opts);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  async addUser(input: { name: string; displayName?: string; role: string; password: string }): Promise<User> {
    const name = parseOr(loginNameSchema, input.name, 'name');
    const role = parseOr(z.enum(ROLES), input.role, 'role');
    const password = parseOr(passwordSchema, input.password, 'password');
    const displayName = parseOr(displayNameSchema, input.displayName ?? name, 'display name');
    if (this.findRow(name) !== undefined) throw new HubError('E_ACCOUNTS', `user ${name} exists (use \`users passwd\` to change the password)`);
    const hash = await hashToken(password, this.scrypt);
    const t = this.now();
    this.db.prepare('INSERT INTO users (name, display_name, role, password_hash, disabled, created_at, password_changed_at) VALUES (?, ?, ?, ?, 0, ?, ?)').run(name, displayName, role, hash, t, t);
    return this.user(name);
  }

  /** A new password ends every session of the user. */
  async setPassword(name: string, password: string): Promise<void> {
    this.user(name);
    const hash = await hashToken(parseOr(passwordSchema, password, 'password'), this.scrypt);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?').run(hash, this.now(), name);
      this.db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
    })();
  }

  /** Disabling ends every session of the user at once. */
  setDisabled(name: string, disabled: boolean): void {
    this.user(name);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name);
      if (disabled) this.db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
    })();
  }

  listUsers(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(userOf);
  }

  user(name: string): User {
    const row = this.findRow(name);
    if (row === undefined) throw new HubError('E_ACCOUNTS', `no user ${name} (see \`users list\`)`);
    return userOf(row);
  }

  /**
   * The user when the password is right and the account enabled. An unknown name costs one scrypt against a
   * decoy, so the answer's time does not tell which names exist.
   */
  async verifyPassword(name: string, password: string): Promise<User | undefined> {
    const row = password.length > 256 ? undefined : this.findRow(name);
    if (row === undefined) {
      await verifyToken(password.slice(0, 256), this.decoy);
      return undefined;
    }
    const ok = await verifyToken(password, row.password_hash);
    return ok && row.disabled === 0 ? userOf(row) : undefined;
  }

  /** Opens a session: the token goes into the cookie, only its hash is kept. */
  createSession(user: string): { token: string; csrf: string } {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const t = this.now();
    this.db.prepare('INSERT INTO sessions (id, user, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)').run(sha256(token), user, csrf, t, t);
    return { token, csrf };
  }

  /** The live session of a cookie token (refreshing its idle time), or undefined; expired ones are removed. */
  session(token: string, limits: SessionLimits): Session | undefined {
    if (token.length === 0 || token.length > 128) return undefined;
    const id = sha256(token);
    const row = this.db
      .prepare('SELECT u.*, s.csrf AS csrf, s.created_at AS s_created_at, s.last_seen AS last_seen FROM sessions s JOIN users u ON u.name = s.user WHERE s.id = ?')
      .get(id) as SessionRow | undefined;
    if (row === undefined) return undefined;
    const t = this.now();
    if (row.disabled !== 0 || t - row.last_seen >= limits.idleMs || t - row.s_created_at >= limits.absoluteMs) {
      this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
      return undefined;
    }
    if (t - row.last_seen >= TOUCH_MS) this.db.prepare('UPDATE sessions SET last_seen = ? WHERE id = ?').run(t, id);
    return { user: userOf(row), csrf: row.csrf, createdAt: row.s_created_at, lastSeen: t - row.last_seen >= TOUCH_MS ? t : row.last_seen };
  }

  endSession(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(sha256(token));
  }

  /** Removes the sessions past their limits (the hub calls it now and then). */
  pruneSessions(limits: SessionLimits): number {
    const t = this.now();
    return this.db.prepare('DELETE FROM sessions WHERE last_seen <= ? OR created_at <= ?').run(t - limits.idleMs, t - limits.absoluteMs).changes;
  }

  sessionCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
  }

  private findRow(name: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }
}

/** Constant-time comparison of a request's CSRF token with the session's. */
export function csrfMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseOr<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HubError('E_USAGE', `${what}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}
