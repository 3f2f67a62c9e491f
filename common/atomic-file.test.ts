import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-file.ts';

const root = mkdtempSync(join(tmpdir(), 'atomic-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each([
  ['writeFileAtomic', (p: string, d: string, o?: Parameters<typeof writeFileAtomicSync>[2]) => writeFileAtomic(p, d, o)],
  ['writeFileAtomicSync', async (p: string, d: string, o?: Parameters<typeof writeFileAtomicSync>[2]) => writeFileAtomicSync(p, d, o)],
] as const)('%s', (name, write) => {
  it('creates the folder, replaces the file and leaves no temp file', async () => {
    const dir = join(root, name, 'a', 'b');
    const file = join(dir, 'state.json');
    await write(file, 'one\n');
    await write(file, 'two\n');
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('creates a new file 0600 unless told otherwise', async () => {
    const a = join(root, name, 'secret.json');
    const b = join(root, name, 'public.txt');
    await write(a, 'x');
    await write(b, 'y', { mode: 0o644, tmp: 'fixed' });
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(statSync(b).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(readFileSync(b, 'utf8')).toBe('y');
  });

  it('a fixed temp name is reused: a stale one from a crash is overwritten', async () => {
    const dir = join(root, name, 'fixed');
    const file = join(dir, 'seq');
    await write(file, '1');
    writeFileSync(`${file}.tmp`, 'torn');
    await write(file, '2', { tmp: 'fixed' });
    expect(readFileSync(file, 'utf8')).toBe('2');
    expect(readdirSync(dir)).toEqual(['seq']);
  });

  it('fails, keeps the old content and removes its temp file when the rename cannot happen', async () => {
    const dir = join(root, name, 'fail');
    const target = join(dir, 'is-a-folder');
    await write(join(target, 'inner'), 'keep');
    await expect(write(target, 'new')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['is-a-folder']);
    expect(readFileSync(join(target, 'inner'), 'utf8')).toBe('keep');
  });
});
