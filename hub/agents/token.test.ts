import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decoyHash, decoyHmac, generateToken, hashToken, hmacToken, verifyHmacToken, verifyToken } from './token.ts';

describe('decoyHash', () => {
  it('copies the scrypt parameters of a real hash and matches no token', async () => {
    const real = await hashToken('secret', { N: 1024, r: 8, p: 1 });
    const decoy = decoyHash(real);
    expect(decoy.split('$').slice(0, 4)).toEqual(['scrypt', '1024', '8', '1']);
    expect(decoy).not.toBe(decoyHash(real));
    expect(await verifyToken('secret', decoy)).toBe(false);
    expect(decoyHash(undefined).split('$').slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
  });
});

describe('HMAC token records', () => {
  const secret = randomBytes(32);
  const token = generateToken();
  const stored = hmacToken(token, secret);

  it('are tagged hex digests, keyed by the hub secret', () => {
    expect(stored).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(hmacToken(token, randomBytes(32))).not.toBe(stored);
  });

  it('accept the right token and refuse a wrong one of the same or another length, without throwing', () => {
    expect(verifyHmacToken(token, stored, secret)).toBe(true);
    const sameLength = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(sameLength).toHaveLength(token.length);
    expect(verifyHmacToken(sameLength, stored, secret)).toBe(false);
    expect(verifyHmacToken(`${token}x`, stored, secret)).toBe(false);
    expect(verifyHmacToken('', stored, secret)).toBe(false);
    expect(verifyHmacToken(token.repeat(20), stored, secret)).toBe(false);
    expect(verifyHmacToken(token, stored, randomBytes(32))).toBe(false);
  });

  it('refuse malformed records and the decoy', () => {
    for (const bad of ['', 'hmac-sha256:', `hmac-sha256:${'z'.repeat(64)}`, stored.slice(0, -2), `${stored}00`, stored.replace('hmac-sha256:', 'hmac-sha1:'), stored.toUpperCase()]) {
      expect(verifyHmacToken(token, bad, secret)).toBe(false);
    }
    expect(verifyHmacToken(token, decoyHmac(), secret)).toBe(false);
    expect(decoyHmac()).not.toBe(decoyHmac());
  });
});
