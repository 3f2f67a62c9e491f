// Reconnect storm at province scale: 1,000+ agents (9 per commune) with backlogs, the hub stopped and restarted.
// Prints the figures; `npx tsx bench/storm.ts [agentsPerSite]` (default 9 → 1,089 agents). Not a test: too heavy for CI.
import { runStorm, stormCounts, stormMismatches } from '../testkit/storm.ts';
import { startStack } from '../testkit/stack.ts';
import { fmt, rssMiB } from './stats.ts';

const perSite = Number(process.argv[2] ?? 9);
const sites = 121; // of Phú Thọ's 148 communes (the test stack's registry)
const t = Date.now();
const stack = await startStack({ agents: sites, agentsPerSite: perSite });
console.log(`enrolled ${stack.agents.length} agents and started the stack in ${fmt((Date.now() - t) / 1000, 1)} s`);
let rssPeak = 0;
const sampler = setInterval(() => {
  const pid = stack.hub.pid;
  if (pid !== undefined) rssPeak = Math.max(rssPeak, rssMiB(pid) || 0);
}, 250);
try {
  const r = await runStorm(stack, stack.agents, {
    backlogBatches: 20,
    pointsPerBatch: 5,
    outageMs: 5000,
    reconnectMinMs: 1000,
    reconnectMaxMs: 15_000,
    liveEveryMs: 2000,
    drainTimeoutMs: 300_000,
  });
  clearInterval(sampler);
  await stack.hub.stop();
  await stack.restartHub();
  const mismatches = stormMismatches(r.generated, await stormCounts(stack));
  console.log(`agents                      ${r.agents}`);
  console.log(`points generated            ${fmt(r.generatedPoints)}`);
  console.log(`first connect of all        ${fmt(r.firstConnectMs)} ms`);
  console.log(`all reconnected after start ${fmt(r.reconnectAllMs)} ms`);
  console.log(`all drained after start     ${fmt(r.drainMs)} ms`);
  console.log(`connects per agent          max ${r.connectsMax}, mean ${fmt(r.connectsMean, 2)}, histogram ${JSON.stringify(r.connectsHistogram)}`);
  console.log(`hub RSS peak                ${fmt(rssPeak)} MiB`);
  console.log(`agents with a wrong count   ${mismatches.length}${mismatches.length > 0 ? `: ${mismatches.slice(0, 5).join('; ')}` : ''}`);
  process.exitCode = mismatches.length === 0 ? 0 : 1;
} finally {
  clearInterval(sampler);
  await stack.stop();
}
