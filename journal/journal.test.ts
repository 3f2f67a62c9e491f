import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type JournalOptions } from './journal.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'journal-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir: string, extra: Partial<JournalOptions> = {}): Journal {
  return Journal.open({ dir, segmentBytes: 1024, maxBytes: 1024 * 1024, fsyncIntervalMs: 10, fsyncEveryRecords: 100, ...extra });
}
const ids = (j: Journal): number[] => [...j.entries()].map((e) => e.id);
// report files live beside the segments; the journal ignores them
const segFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

describe('Journal', () => {
  it('keeps records across reopen, in order, minus acked ones (acks in any order)', async () => {
    const dir = tempDir();
    const j = open(dir);
    for (let i = 1; i <= 50; i += 1) j.append(i, Buffer.from(`r${i}`.repeat(10)));
    for (const k of [30, 2, 17, 1, 49]) expect(j.ack(k)).toBe(true);
    expect(j.ack(1)).toBe(false);
    await j.close();
    const r = open(dir);
    expect(ids(r)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1).filter((i) => ![30, 2, 17, 1, 49].includes(i)));
    expect(r.read(3)?.toString()).toBe('r3'.repeat(10));
    expect(r.maxId).toBe(50);
    await r.close();
  });

  it('deletes fully acked segments and keeps the rest', async () => {
    const dir = tempDir();
    const j = open(dir);
    for (let i = 1; i <= 100; i += 1) j.append(i, Buffer.alloc(100, 1));
    const before = segFiles(dir).length;
    expect(before).toBeGreaterThan(5);
    for (let i = 1; i <= 60; i += 1) j.ack(i);
    await j.commit();
    expect(segFiles(dir).length).toBeLessThan(before);
    await j.close();
    const r = open(dir);
    expect(ids(r)[0]).toBe(61);
    expect(r.depth).toBe(40);
    await r.close();
  });

  it('cuts a torn tail and keeps every whole record before it', async () => {
    const dir = tempDir();
    const j = open(dir, { segmentBytes: 1024 * 64, maxBytes: 1024 * 1024 });
    for (let i = 1; i <= 10; i += 1) j.append(i, Buffer.from(`payload-${i}`));
    await j.close();
    const [seg] = segFiles(dir);
    if (seg === undefined) throw new Error('no segment');
    const path = join(dir, seg);
    const size = statSync(path).size;
    truncateSync(path, size - 3); // record 10 torn
    appendFileSync(path, Buffer.from([1, 2]));
    const r = open(dir);
    expect(ids(r)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.recovery.truncatedBytes).toBeGreaterThan(0);
    r.append(10, Buffer.from('again'));
    await r.close();
    const r2 = open(dir);
    expect(ids(r2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r2.read(10)?.toString()).toBe('again');
    expect(r2.recovery.truncatedBytes).toBe(0);
    await r2.close();
  });

  it('detects a corrupted record by its checksum', async () => {
    const dir = tempDir();
    const j = open(dir, { segmentBytes: 1024 * 64 });
    for (let i = 1; i <= 5; i += 1) j.append(i, Buffer.from(`payload-${i}`));
    await j.close();
    const [seg] = segFiles(dir);
    if (seg === undefined) throw new Error('no segment');
    const buf = readFileSync(join(dir, seg));
    const third = (24 + 9) * 2 + 24 + 2; // a data byte of record 3
    buf[third] = (buf[third] ?? 0) ^ 0xff;
    writeFileSync(join(dir, seg), buf);
    const r = open(dir);
    expect(ids(r)).toEqual([1, 2]);
    await r.close();
  });

  it('ignores a torn ack record', async () => {
    const dir = tempDir();
    const j = open(dir, { segmentBytes: 1024 * 64 });
    for (let i = 1; i <= 5; i += 1) j.append(i, Buffer.from('x'));
    j.ack(2);
    await j.close();
    const ack = readdirSync(dir).find((n) => n.endsWith('.ack'));
    if (ack === undefined) throw new Error('no ack file');
    appendFileSync(join(dir, ack), Buffer.from([4, 0, 0, 0, 0, 0]));
    const r = open(dir);
    expect(ids(r)).toEqual([1, 3, 4, 5]);
    await r.close();
  });

  it('drops the oldest whole segment past maxBytes and counts its records, across reopen', async () => {
    const dir = tempDir();
    const j = open(dir, { segmentBytes: 1024, maxBytes: 4096 });
    for (let i = 1; i <= 100; i += 1) j.append(i, Buffer.alloc(100, 7));
    // 8 records of 124 bytes per 1 KiB segment; ≤ 4 KiB on disk
    expect(j.bytesOnDisk).toBeLessThanOrEqual(4096);
    expect(j.droppedTotal + j.depth).toBe(100);
    const kept = ids(j);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 100 - kept.length + 1 + i));
    const dropped = j.droppedTotal;
    await j.close();
    const r = open(dir, { segmentBytes: 1024, maxBytes: 4096 });
    expect(r.droppedTotal).toBe(dropped);
    expect(ids(r)).toEqual(kept);
    await r.close();
  });

  it('drops records older than maxAgeMs and past maxRecords, counted', async () => {
    const dir = tempDir();
    let now = 1_000_000;
    const j = open(dir, { maxAgeMs: 10_000, maxRecords: 5, now: () => now });
    for (let i = 1; i <= 4; i += 1) j.append(i, Buffer.from('a'));
    now += 20_000;
    for (let i = 5; i <= 10; i += 1) j.append(i, Buffer.from('b'));
    expect(ids(j)).toEqual([6, 7, 8, 9, 10]);
    expect(j.droppedTotal).toBe(5);
    await j.close();
    const r = open(dir, { maxAgeMs: 10_000, now: () => now });
    expect(ids(r)).toEqual([6, 7, 8, 9, 10]);
    expect(r.droppedTotal).toBe(5);
    await r.close();
  });

  it('makes an ack durable within one group-commit interval', async () => {
    const dir = tempDir();
    const j = open(dir, { fsyncIntervalMs: 100, fsyncEveryRecords: 1000 });
    j.append(1, Buffer.from('a'));
    j.append(2, Buffer.from('b'));
    await j.commit();
    j.ack(1);
    expect(j.unsyncedWrites).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(j.unsyncedWrites).toBe(0);
    await j.close();
  });

  it('recovers after SIGKILL at random moments: nothing written is lost, nothing acked comes back', async () => {
    const dir = tempDir();
    const appended = new Set<number>();
    const acked = new Set<number>();
    // acks begun but not reported done when the kill came: the record may be there or not
    const acking = new Set<number>();
    let next = 1;
    for (let round = 0; round < 6; round += 1) {
      const report = join(dir, `report-${round}.txt`);
      writeFileSync(report, '');
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'testkit', 'crash-writer.ts'), dir, String(next), report], { stdio: ['ignore', 'ignore', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', r));
      const started = Date.now();
      while (!readFileSync(report, 'utf8').includes('a ') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 300));
      child.kill('SIGKILL');
      await exited;
      for (const line of readFileSync(report, 'utf8').split('\n')) {
        const [op, n] = line.split(' ');
        if (op === 'a') appended.add(Number(n));
        if (op === 'q') acking.add(Number(n));
        if (op === 'k') acked.add(Number(n));
      }
      const j = open(dir, { segmentBytes: 4096, maxBytes: 64 * 1024 * 1024 });
      const live = new Set(ids(j));
      // every reported append is there unless reported acked; no reported ack is there
      for (const id of appended) if (!acked.has(id) && !acking.has(id)) expect(live.has(id), `record ${id} lost`).toBe(true);
      for (const id of acked) expect(live.has(id), `acked ${id} replayed`).toBe(false);
      for (const id of live) expect(j.read(id)?.toString().startsWith(`record-${id}-`)).toBe(true);
      // an ack begun before the kill is settled one way or the other: finish it, as the edge would on replay
      for (const id of acking) if (!acked.has(id)) {
        j.ack(id);
        acked.add(id);
      }
      acking.clear();
      next = j.maxId + 1;
      await j.close();
    }
    expect(appended.size).toBeGreaterThan(100);
  }, 60_000);
});
