// `npm run bench`: prints figures; it asserts nothing (speed is not a test on a shared 2-core machine).
// The side-by-side part (bench/side-by-side.ts) is the hub against its peers with every process's CPU and the
// issue's targets; `npm run bench -- --quick` (or IOC_BENCH_QUICK=1) is a run of seconds with a few agents,
// the other flags are bench/side-by-side.ts's. Full run: 12–14 minutes measured on 2 cores that other work kept busy.
// The reconnect storm at 1,000+ agents with backlogs is separate (`npx tsx bench/storm.ts`): it takes minutes to set up.
// Agents connecting at once after a restart, scrypt records against HMAC ones (hub CPU): `npx tsx bench/connect-restart.ts`.
import { printAgentRss, runAgentRssBench } from './agent-rss.ts';
import { run as runAlertLatency } from './alert-latency.ts';
import { printOutbox, runOutboxBench } from './outbox.ts';
import { parseSideBySideArgs, printTargets, runSideBySide } from './side-by-side.ts';
import { printTokenVerify, runTokenVerifyBench } from './token-verify.ts';
import { writeFileSync } from 'node:fs';

const t0 = performance.now();
const { options, json, quick } = parseSideBySideArgs(process.argv.slice(2));
const sideBySide = await runSideBySide(options);
// the real edge agent (compiled tarball, as its systemd unit runs it), default collectors, a minute
printAgentRss(await runAgentRssBench(quick ? 10 : 60, { unitOnly: true }));
if (!quick) {
  printOutbox(await runOutboxBench());
  const alert = await runAlertLatency();
  console.log(`\nalert latency (condition true → e-mail in the SMTP sink, through ingest, the alert engine, MQTT, Node-RED, SMTP)`);
  console.log(`  ${alert.samples} samples: median ${alert.medianMs} ms, p90 ${alert.p90Ms} ms, max ${alert.maxMs} ms`);
  printTokenVerify(await runTokenVerifyBench());
  const { printHotPath, runHotPathBench } = await import('./hot-path.ts'); printHotPath(await runHotPathBench()); // old vs new hot path on the same batches (CPU time)
}
printTargets(sideBySide);
console.log(`\nnpm run bench took ${Math.round((performance.now() - t0) / 1000)} s${quick ? ' (--quick)' : ''}`);
if (json !== undefined) writeFileSync(json, JSON.stringify(sideBySide, null, 2));
