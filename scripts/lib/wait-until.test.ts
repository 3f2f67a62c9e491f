import { describe, expect, it } from 'vitest';
import { waitUntil } from './wait-until.ts';

describe('waitUntil', () => {
  it('returns the first value that is neither undefined nor false, polling through throws', async () => {
    let calls = 0;
    const v = await waitUntil(
      'the third call',
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not up yet');
        return calls >= 3 ? { calls } : calls === 2 ? false : undefined;
      },
      2000,
      1,
    );
    expect(v).toEqual({ calls: 3 });
  });

  it('takes a synchronous condition as well as a promise', async () => {
    await expect(waitUntil('true', () => true, 100, 1)).resolves.toBe(true);
    await expect(waitUntil('an async 0', async () => 0, 100, 1)).resolves.toBe(0);
  });

  it('times out with what it waited for, how long and the last error', async () => {
    const t0 = Date.now();
    await expect(
      waitUntil(
        'the broker',
        () => {
          throw new Error('ECONNREFUSED');
        },
        60,
        5,
      ),
    ).rejects.toThrow('timed out waiting for the broker (60 ms) (last error: ECONNREFUSED)');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    await expect(waitUntil('nothing', () => false, 20, 5)).rejects.toThrow(/^timed out waiting for nothing \(20 ms\)$/);
  });
});
