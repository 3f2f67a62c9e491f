import { describe, expect, it } from 'vitest';
import { decoyHash, hashToken, verifyToken } from './token.ts';

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
