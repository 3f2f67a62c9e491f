// Agent tokens: 32 random bytes (base64url), stored only as a keyed hash: `hmac-sha256:<hex>` (HMAC-SHA-256 with the
// hub secret, see hub-secret.ts). A 256-bit random token cannot be guessed, so a slow hash adds nothing but CPU: a
// connect costs microseconds. Older registries hold `scrypt$N$r$p$salt$hash`; those still verify and are migrated.
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashToken(token: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(token, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** False for a wrong token and for a malformed hash (never throws on bad input). */
export async function verifyToken(token: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, hashText] = parts;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Number.isInteger(params.N) || !Number.isInteger(params.r) || !Number.isInteger(params.p)) return false;
  if (saltText === undefined || hashText === undefined) return false;
  const expected = Buffer.from(hashText, 'base64url');
  if (expected.length !== KEY_LENGTH) return false;
  try {
    const actual = await scryptAsync(token, Buffer.from(saltText, 'base64url'), params);
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/**
 * A hash no token matches, with the scrypt parameters of `like` (or the defaults): checking a token
 * against it costs what checking against a real hash costs, so an unknown identity is answered in the
 * time of a known one with a wrong token.
 */
export function decoyHash(like?: string): string {
  const parts = like?.split('$') ?? [];
  const params = parts.length === 6 && parts[0] === 'scrypt' ? parts.slice(1, 4).join('$') : `${DEFAULT_SCRYPT.N}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}`;
  return `scrypt$${params}$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export const HMAC_PREFIX = 'hmac-sha256:';
const HMAC_HEX = /^[0-9a-f]{64}$/;

/** `hmac-sha256:<hex>` of the token under the hub secret. */
export function hmacToken(token: string, secret: Buffer): string {
  return `${HMAC_PREFIX}${createHmac('sha256', secret).update(token, 'utf8').digest('hex')}`;
}

export function isHmacHash(stored: string): boolean {
  return stored.startsWith(HMAC_PREFIX);
}

export function isScryptHash(stored: string): boolean {
  return stored.startsWith('scrypt$');
}

/**
 * True when `stored` is the token's HMAC under `secret`, compared in constant time. False for a wrong token of any
 * length and for a malformed record; never throws.
 */
export function verifyHmacToken(token: string, stored: string, secret: Buffer): boolean {
  const hex = stored.slice(HMAC_PREFIX.length);
  // A digest is always 32 bytes, whatever the token's length: the comparison never sees a length difference.
  const actual = createHmac('sha256', secret).update(token, 'utf8').digest();
  const expected = isHmacHash(stored) && HMAC_HEX.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(32);
  return timingSafeEqual(actual, expected) && isHmacHash(stored) && HMAC_HEX.test(hex);
}

/** An HMAC record no token matches (the decoy of an unknown identity). */
export function decoyHmac(): string {
  return `${HMAC_PREFIX}${randomBytes(32).toString('hex')}`;
}
