// Outbox benchmark: append and replay rates of the disk outbox (group commit) against the memory outbox,
// bytes written per point (write amplification), and the agent's RSS while draining a 24-hour backlog.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskOutbox } from '../edge/disk-outbox.ts';
import { OutboxLeases } from '../edge/link/leases.ts';
import { MemoryOutbox, type Outbox } from '../edge/outbox.ts';
import { TestBroker } from '../testkit/test-broker.ts';
import { journalBytes } from '../journal/journal.ts';
import { PROJECT_ROOT } from '../scripts/lib/child-process.ts';
import { fmt } from './stats.ts';

export interface OutboxFigures {
  batches: number;
  pointsPerBatch: number;
  disk: { appendPerSec: number; replayPerSec: number; logBytesPerPoint: number; ioBytesPerPoint: number };
  memory: { appendPerSec: number; replayPerSec: number };
  backlog: { batches: number; points: number; bytesOnDisk: number; drainSeconds: number; drainBatchesPerSec: number; rssStartMiB: number; rssPeakMiB: number };
}

/** A realistic batch: one office's readings of ~1 s (agent flushes every second). */
function batchPayload(seq: number, points: number): string {
  const out = [];
  for (let i = 0; i < points; i += 1) out.push({ m: 'net_probe', t: 1_700_000_000_000 + seq * 1000 + i, tags: { target: `t${i}`, method: 'tcp' }, fields: { up: 1, rtt_ms: 12.5 + (i % 7) } });
  return JSON.stringify(out);
}

function ioWriteBytes(): number {
  // write_bytes: bytes this process caused to be sent to the storage layer (page cache writeback included).
  try {
    const m = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
    return m?.[1] === undefined ? Number.NaN : Number(m[1]);
  } catch {
    return Number.NaN;
  }
}

async function rates(box: Outbox, batches: number, points: number): Promise<{ appendPerSec: number; replayPerSec: number }> {
  const payloads = Array.from({ length: 64 }, (_, i) => batchPayload(i, points));
  const t0 = performance.now();
  for (let s = 1; s <= batches; s += 1) await box.append({ seq: s, payload: payloads[s % 64] ?? '', points });
  const t1 = performance.now();
  const leases = new OutboxLeases(box);
  for (;;) {
    const got = await leases.peek(8);
    if (got.length === 0) break;
    for (const e of got) await leases.ack(e.seq);
  }
  const t2 = performance.now();
  return { appendPerSec: (batches * 1000) / (t1 - t0), replayPerSec: (batches * 1000) / (t2 - t1) };
}

export async function runOutboxBench(opts: { batches?: number; pointsPerBatch?: number; backlogHours?: number } = {}): Promise<OutboxFigures> {
  const batches = opts.batches ?? 20_000;
  const points = opts.pointsPerBatch ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-outbox-'));
  try {
    const memory = await rates(new MemoryOutbox({ maxBatches: batches + 1 }), batches, points);
    const io0 = ioWriteBytes();
    const disk = DiskOutbox.open({ dir: join(dir, 'rate'), maxBytes: 1024 * 1024 * 1024, fsyncIntervalMs: 1000, fsyncEveryRecords: 64 });
    // bytes of the log itself: records and acks, before acked segments are deleted
    let logBytes = 0;
    const payloads = Array.from({ length: 64 }, (_, i) => batchPayload(i, points));
    const t0 = performance.now();
    for (let s = 1; s <= batches; s += 1) await disk.append({ seq: s, payload: payloads[s % 64] ?? '', points });
    const t1 = performance.now();
    logBytes = disk.bytesOnDisk;
    const leases = new OutboxLeases(disk);
    for (;;) {
      const got = await leases.peek(8);
      if (got.length === 0) break;
      for (const e of got) await leases.ack(e.seq);
    }
    const t2 = performance.now();
    logBytes += batches * 13; // one ack record per batch
    await disk.close();
    const io1 = ioWriteBytes();

    // 24-hour backlog: one batch a second of `points` points (an office's readings), drained by a child agent process.
    const hours = opts.backlogHours ?? 24;
    const backlogBatches = hours * 3600;
    const backlogDir = join(dir, 'backlog');
    const b = DiskOutbox.open({ dir: backlogDir, maxBytes: 1024 * 1024 * 1024, fsyncIntervalMs: 1000, fsyncEveryRecords: 1024 });
    for (let s = 1; s <= backlogBatches; s += 1) await b.append({ seq: s, payload: payloads[s % 64] ?? '', points });
    await b.close();
    const bytesOnDisk = journalBytes(backlogDir);
    const broker = await TestBroker.start();
    let drained: { batches: number; seconds: number; rssStartMiB: number; rssPeakMiB: number };
    try {
      drained = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'outbox-drain.ts'), backlogDir, broker.url], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.once('exit', (code) => {
          try {
            if (code !== 0) throw new Error(`drain child exited ${code}`);
            resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as typeof drained);
          } catch (err: unknown) {
            reject(err);
          }
        });
      });
    } finally {
      broker.received.length = 0;
      await broker.stop();
    }
    return {
      batches,
      pointsPerBatch: points,
      disk: { appendPerSec: (batches * 1000) / (t1 - t0), replayPerSec: (batches * 1000) / (t2 - t1), logBytesPerPoint: logBytes / (batches * points), ioBytesPerPoint: (io1 - io0) / (batches * points) },
      memory,
      backlog: { batches: backlogBatches, points: backlogBatches * points, bytesOnDisk, drainSeconds: drained.seconds, drainBatchesPerSec: drained.batches / drained.seconds, rssStartMiB: drained.rssStartMiB, rssPeakMiB: drained.rssPeakMiB },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printOutbox(f: OutboxFigures): void {
  console.log(`\nOutbox (${fmt(f.batches)} batches of ${f.pointsPerBatch} points, ~${fmt(batchPayload(0, f.pointsPerBatch).length)} B each)`);
  console.log(`  append   disk ${fmt(f.disk.appendPerSec)} batches/s (${fmt(f.disk.appendPerSec * f.pointsPerBatch)} points/s)   memory ${fmt(f.memory.appendPerSec)} batches/s`);
  console.log(`  replay   disk ${fmt(f.disk.replayPerSec)} batches/s (peek+ack)   memory ${fmt(f.memory.replayPerSec)} batches/s`);
  console.log(`  bytes/pt disk log ${fmt(f.disk.logBytesPerPoint, 1)} B (records + acks; JSON payload ${fmt(batchPayload(0, f.pointsPerBatch).length / f.pointsPerBatch, 1)} B)   block I/O ${fmt(f.disk.ioBytesPerPoint, 1)} B (/proc/self/io write_bytes)`);
  const b = f.backlog;
  console.log(`  24 h backlog: ${fmt(b.batches)} batches, ${fmt(b.points)} points, ${fmt(b.bytesOnDisk / 1024 / 1024, 1)} MiB on disk; drained through MqttLink in ${fmt(b.drainSeconds, 1)} s (${fmt(b.drainBatchesPerSec)} batches/s); agent RSS ${fmt(b.rssStartMiB)} → peak ${fmt(b.rssPeakMiB)} MiB`);
}
