// Test helper process: appends and acks journal records in a loop, reporting each step on stdout
// to a report file (synchronously, after the journal call returned) until it is killed with SIGKILL.
import { openSync, writeSync } from 'node:fs';
import { Journal } from '../journal/journal.ts';

const dir = process.argv[2];
const startId = Number(process.argv[3] ?? '1');
const report = process.argv[4];
if (dir === undefined || report === undefined) throw new Error('usage: crash-writer <dir> <startId> <report>');
const out = openSync(report, 'a');
const j = Journal.open({ dir, segmentBytes: 4096, maxBytes: 64 * 1024 * 1024, fsyncIntervalMs: 50, fsyncEveryRecords: 1000 });
writeSync(out, `open ${j.depth}\n`);
let id = startId;
const tick = (): void => {
  for (let k = 0; k < 20; k += 1) {
    j.append(id, Buffer.from(`record-${id}-${'x'.repeat(id % 200)}`));
    writeSync(out, `a ${id}\n`);
    // acks out of order: every record whose id ends in 3 or 7, one tick later
    const old = id - 20;
    if (old >= startId && (old % 10 === 3 || old % 10 === 7)) {
      // reported before and after: a kill between the two leaves an ack that may or may not be in the journal
      writeSync(out, `q ${old}\n`);
      j.ack(old);
      writeSync(out, `k ${old}\n`);
    }
    id += 1;
  }
  setImmediate(tick);
};
tick();
