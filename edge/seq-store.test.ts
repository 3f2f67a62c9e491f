import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeqStore } from './seq-store.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ioc-seq-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('SeqStore', () => {
  it('rises by one per batch', () => {
    const s = SeqStore.open(tempDir(), 10);
    expect([s.next(), s.next(), s.next()]).toEqual([0, 1, 2]);
  });

  it('writes only when crossing a reservation', () => {
    const dir = tempDir();
    const s = SeqStore.open(dir, 10);
    expect(readFileSync(join(dir, 'seq'), 'utf8').trim()).toBe('10');
    for (let i = 0; i < 10; i += 1) s.next();
    expect(readFileSync(join(dir, 'seq'), 'utf8').trim()).toBe('10');
    expect(s.next()).toBe(10);
    expect(readFileSync(join(dir, 'seq'), 'utf8').trim()).toBe('20');
  });

  it('survives a restart (even a crash mid-block) and never goes backwards', () => {
    const dir = tempDir();
    const a = SeqStore.open(dir, 1000);
    let last = -1;
    for (let i = 0; i < 1500; i += 1) last = a.next();
    expect(last).toBe(1499);
    // "kill -9": no shutdown hook; reopen from the file
    const b = SeqStore.open(dir, 1000);
    const first = b.next();
    expect(first).toBeGreaterThan(last);
    const c = SeqStore.open(dir, 1000);
    expect(c.next()).toBeGreaterThan(first);
  });

  it('refuses a corrupt file with E_SEQ_STORE', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seq'), 'garbage');
    expect(() => SeqStore.open(dir)).toThrow(expect.objectContaining({ code: 'E_SEQ_STORE' }));
  });
});
