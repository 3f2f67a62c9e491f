// Child process of the outbox benchmark: drains an on-disk outbox through a real MqttLink and reports
// its peak RSS and the drain rate as one JSON line.
import { DiskOutbox } from '../edge/disk-outbox.ts';
import { MqttLink } from '../edge/link/link.ts';

const [dir, url] = process.argv.slice(2);
if (dir === undefined || url === undefined) throw new Error('usage: outbox-drain <dir> <mqtt-url>');
const rss = (): number => process.memoryUsage().rss / 1024 / 1024;
const rssStart = rss();
const outbox = DiskOutbox.open({ dir, maxBytes: 1024 * 1024 * 1024, fsyncIntervalMs: 1000, fsyncEveryRecords: 64 });
const batches = outbox.depth;
// The replay rate limit is lifted: this measures how fast the outbox and link can drain, not the
// configured pace (link.replayBatchesPerS, 20/s by default, would take 72 min for this backlog).
const link = new MqttLink({ url, site: 'bench', agent: 'pi-1', token: 'x', outbox, maxInflight: 8, clockSynced: true, replayBatchesPerS: 1_000_000 });
let peak = rss();
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);
const t0 = performance.now();
link.start();
while (outbox.depth > 0) await new Promise((r) => setTimeout(r, 50));
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
peak = Math.max(peak, rss());
await link.stop({ drainTimeoutMs: 500 });
await outbox.close();
process.stdout.write(`${JSON.stringify({ batches, seconds, rssStartMiB: rssStart, rssPeakMiB: peak })}\n`);
process.exit(0);
