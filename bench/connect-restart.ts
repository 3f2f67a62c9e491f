// Agents connecting at once after a hub restart, before (registry of scrypt records, as written before HMAC) and
// after (the same agents, their records migrated to HMAC by those connects): time until every agent has its
// CONNACK, and the hub's CPU seconds (/proc) over that span. `npx tsx bench/connect-restart.ts [agentsPerSite]`
// (default 4 → 484 agents); raw CONNECTs, 64 in flight, no backlog (the storm with backlogs is bench/storm.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentIdentity } from '../protocol/index.ts';
import { toScryptRecords } from '../testkit/legacy-registry.ts';
import { connectOnce } from '../testkit/raw-mqtt.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { fmt } from './stats.ts';

const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function connectAllAtOnce(stack: Stack, agents: readonly AgentCredentials[], inFlight = 64): Promise<{ seconds: number; hubCpuS: number; refused: number }> {
  const pid = stack.hub.pid;
  if (pid === undefined) throw new Error('hub not running');
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  let next = 0;
  let refused = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const a = agents[next++];
      if (a === undefined) return;
      const id = agentIdentity(a.site, a.agent);
      const r = await connectOnce(stack.mqttPort, id, id, a.token, { timeoutMs: 120_000 });
      if (r.code !== 0) refused++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
  return { seconds: (Date.now() - t0) / 1000, hubCpuS: cpuSeconds(pid) - cpu0, refused };
}

const perSite = Number(process.argv[2] ?? 4);
const stack = await startStack({ agents: 121, agentsPerSite: perSite });
try {
  const n = stack.agents.length;
  await stack.hub.stop();
  await toScryptRecords(join(stack.dir, 'registry.json'), stack.agents);
  await stack.restartHub();
  const before = await connectAllAtOnce(stack, stack.agents);
  await new Promise((r) => setTimeout(r, 1500)); // the batched migration write
  const migrations = (await stack.metrics()).get('ioc_hub_registry_scrypt_tokens');
  await stack.restartHub();
  const after = await connectAllAtOnce(stack, stack.agents);
  console.log(`\n${fmt(n)} agents connecting at once after a hub restart (64 CONNECTs in flight; hub CPU from /proc)`);
  const row = (label: string, r: typeof before): string => `  ${label.padEnd(30)} all CONNACKs in ${fmt(r.seconds, 2)} s, hub CPU ${fmt(r.hubCpuS, 2)} s (${fmt((r.hubCpuS / n) * 1000, 2)} ms per agent), refused ${r.refused}`;
  console.log(row('scrypt records (before)', before));
  console.log(row('hmac records (after)', after));
  console.log(`  ratio before/after: time ${fmt(before.seconds / after.seconds, 1)}×, hub CPU ${fmt(before.hubCpuS / Math.max(after.hubCpuS, 0.01), 1)}× · scrypt records left after the first storm: ${migrations ?? 'n/a'}`);
} finally {
  await stack.stop();
}
