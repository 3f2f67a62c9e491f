// `npm run bench`: prints figures; it asserts nothing (speed is not a test on a shared 2-core machine).
// The reconnect storm at 1,000+ agents is separate (`npx tsx bench/storm.ts`): it takes minutes to set up.
// Agents connecting at once after a restart, scrypt records against HMAC ones (hub CPU): `npx tsx bench/connect-restart.ts`.
import { printAgentRss, runAgentRssBench } from './agent-rss.ts';
import { run as runAlertLatency } from './alert-latency.ts';
import { printIngest, runIngestBench } from './ingest.ts';
import { printOutbox, runOutboxBench } from './outbox.ts';
import { printTokenVerify, runTokenVerifyBench } from './token-verify.ts';

printIngest(await runIngestBench());
printIngest(await runIngestBench({ batchPoints: 1, batches: 400, steady: false }));
printOutbox(await runOutboxBench());
const alert = await runAlertLatency();
console.log(`\nalert latency (condition true → e-mail in the SMTP sink, through ingest, the alert engine, MQTT, Node-RED, SMTP)`);
console.log(`  ${alert.samples} samples: median ${alert.medianMs} ms, p90 ${alert.p90Ms} ms, max ${alert.maxMs} ms`);
printAgentRss(await runAgentRssBench());
printTokenVerify(await runTokenVerifyBench());
const { printHotPath, runHotPathBench } = await import('./hot-path.ts'); printHotPath(await runHotPathBench()); // old vs new hot path on the same batches (CPU time)
