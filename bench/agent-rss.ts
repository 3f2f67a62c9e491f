// The agent's memory and CPU on a Pi's budget: the same agent, with the default collectors of
// edge/samples/agent.yaml, run for ~20 s each against a real hub: from the compiled tarball (npm run pack:agent)
// as its systemd unit runs it (the unit's node flags), the same without those flags, and through tsx from the
// sources; RSS (peak and steady) and CPU seconds of each agent process, read from /proc. A bare connected
// mqtt.js client is the floor. `npx tsx bench/agent-rss.ts [seconds]`, or part of `npm run bench`.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, PROJECT_ROOT } from '../scripts/lib/child-process.ts';
import { packAgent } from '../scripts/pack-agent.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';
import { sampleConfigFor, unitExecStart } from '../testkit/agent-sample.ts';

export interface ProcessFigures {
  label: string;
  peakRssMiB: number;
  /** Median RSS over the second half of the run. */
  steadyRssMiB: number;
  cpuS: number;
  /** Start to the first telemetry point in InfluxDB. */
  firstPointS: number;
}

export interface AgentRssResult {
  seconds: number;
  unitFlags: string[];
  /** Compiled, with the unit's node flags. */
  unit: ProcessFigures;
  /** Not measured when only the unit's way was asked for (npm run bench: one agent for a minute). */
  compiled?: ProcessFigures;
  tsx?: ProcessFigures;
  /** RSS of a bare mqtt.js client connected to the hub, with the unit's flags and without. */
  bareMqttMiB: { unitFlags: number; plain: number };
}

/** A node process that only holds a connected mqtt.js client (the agent's own credentials), its RSS after 10 s. */
async function bareMqttRss(stack: Stack, me: AgentCredentials, nodeFlags: string[]): Promise<number> {
  const script = [
    `import mqtt from 'mqtt';`,
    `const c = mqtt.connect(${JSON.stringify(stack.mqttUrl)}, { clientId: ${JSON.stringify(`${me.site}/${me.agent}`)}, username: ${JSON.stringify(`${me.site}/${me.agent}`)}, password: ${JSON.stringify(me.token)} });`,
    `c.on('error', (e) => { console.error(e.message); process.exit(1); });`,
    `setTimeout(() => { console.log(c.connected ? process.memoryUsage().rss : -1); process.exit(0); }, 10000);`,
  ].join('\n');
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 });
  const rss = Number(r.stdout.trim());
  if (r.status !== 0 || !(rss > 0)) throw new Error(`bare mqtt.js client failed: ${r.stderr}${r.stdout}`);
  return rss / 1024 / 1024;
}

// /proc/<pid>/stat counts in USER_HZ, which Linux fixes at 100 for user space on x86 and ARM alike.
const CLK_TCK = 100;

function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function cpuSeconds(pid: number): number {
  // Fields after the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function measure(stack: Stack, label: string, argv: string[], cwd: string, me: AgentCredentials, sample: string, seconds: number): Promise<ProcessFigures> {
  const dataDir = join(stack.dir, `${me.agent}-${me.site}`);
  mkdirSync(dataDir, { recursive: true });
  const config = join(stack.dir, `${me.site}.yaml`);
  writeFileSync(config, sampleConfigFor(stack.mqttUrl, me, sample, dataDir), { mode: 0o600 });
  const log = join(stack.dir, `${me.site}.log`);
  const fd = openSync(log, 'a');
  const started = Date.now();
  const child = spawn(process.execPath, [...argv, 'run', '--config', config], { cwd, stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '' } });
  closeSync(fd);
  const agent = new ManagedProcess(label, child, log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label}: no pid`);
  const samples: { t: number; kib: number }[] = [];
  let firstPointS = Number.NaN;
  try {
    const until = started + seconds * 1000;
    while (Date.now() < until && agent.running) {
      const kib = rssKiB(pid);
      if (kib !== undefined) samples.push({ t: Date.now() - started, kib });
      if (Number.isNaN(firstPointS)) {
        const r = await stack.influx.query(`SELECT count("up") FROM "net_probe" WHERE "site"='${me.site}'`, 'ioc');
        if (Number(r.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0) > 0) firstPointS = (Date.now() - started) / 1000;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!agent.running) throw new Error(`${label} exited:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    if (Number.isNaN(firstPointS)) await waitUntil(`${label}: first point`, async () => Number((await stack.influx.query(`SELECT count("up") FROM "net_probe" WHERE "site"='${me.site}'`, 'ioc')).results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0) > 0, 10_000);
    const cpuS = cpuSeconds(pid);
    const steady = samples.filter((s) => s.t >= (seconds * 1000) / 2).map((s) => s.kib).sort((a, b) => a - b);
    return {
      label,
      peakRssMiB: Math.max(...samples.map((s) => s.kib)) / 1024,
      steadyRssMiB: (steady[Math.floor(steady.length / 2)] ?? 0) / 1024,
      cpuS,
      firstPointS,
    };
  } finally {
    await agent.stop();
  }
}

/** `unitOnly`: only the compiled agent as its systemd unit runs it (and the bare-client floor). */
export async function runAgentRssBench(seconds = 20, opts: { unitOnly?: boolean } = {}): Promise<AgentRssResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-agent-rss-'));
  const stack = await startStack({ agents: 3 });
  try {
    const packed = packAgent({ outDir: dir });
    const x = spawnSync('tar', ['-xzf', packed.tarball, '-C', dir], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`tar: ${x.stderr}`);
    const home = join(dir, `ioc-edge-agent-${packed.version}`);
    const [a, b, c] = stack.agents;
    if (a === undefined || b === undefined || c === undefined) throw new Error('three agents expected');
    const { nodeFlags } = unitExecStart(readFileSync(join(home, 'edge', 'deploy', 'ioc-edge.service'), 'utf8'));
    const launcher = join(home, 'bin', 'ioc-edge.js');
    const sample = join(home, 'edge', 'samples', 'agent.yaml');
    const unit = await measure(stack, 'compiled, unit flags', [...nodeFlags, launcher], home, a, sample, seconds);
    const bareMqttMiB = async (): Promise<AgentRssResult['bareMqttMiB']> => ({ unitFlags: await bareMqttRss(stack, a, nodeFlags), plain: await bareMqttRss(stack, a, []) });
    if (opts.unitOnly === true) return { seconds, unitFlags: nodeFlags, unit, bareMqttMiB: await bareMqttMiB() };
    const compiled = await measure(stack, 'compiled, plain node', [launcher], home, b, sample, seconds);
    const tsx = await measure(stack, 'tsx (sources)', [join(PROJECT_ROOT, 'bin', 'ioc-edge.js')], PROJECT_ROOT, c, join(PROJECT_ROOT, 'edge', 'samples', 'agent.yaml'), seconds);
    return { seconds, unitFlags: nodeFlags, unit, compiled, tsx, bareMqttMiB: await bareMqttMiB() };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printAgentRss(r: AgentRssResult): void {
  const line = (f: ProcessFigures): string =>
    `  ${f.label.padEnd(21)} RSS peak ${f.peakRssMiB.toFixed(1)} MiB, steady ${f.steadyRssMiB.toFixed(1)} MiB · CPU ${f.cpuS.toFixed(2)} s · first point stored after ${f.firstPointS.toFixed(1)} s`;
  console.log(`\nagent RSS and CPU, default collectors (edge/samples/agent.yaml), ${r.seconds} s each, against a real hub (target: steady RSS ≤ 60 MiB)`);
  console.log(line(r.unit) + `  (${r.unitFlags.join(' ')}) · ${((r.unit.cpuS / r.seconds) * 100).toFixed(1)}% of a core`);
  console.log(`  floor: a bare connected mqtt.js client, RSS ${r.bareMqttMiB.unitFlags.toFixed(1)} MiB with the unit's flags, ${r.bareMqttMiB.plain.toFixed(1)} MiB without`);
  if (r.compiled === undefined || r.tsx === undefined) return;
  console.log(line(r.compiled));
  console.log(line(r.tsx));
  const ratio = (x: ProcessFigures, y: ProcessFigures): string =>
    `RSS steady ${(x.steadyRssMiB / y.steadyRssMiB).toFixed(2)}, peak ${(x.peakRssMiB / y.peakRssMiB).toFixed(2)}, CPU ${(x.cpuS / y.cpuS).toFixed(2)}`;
  console.log(`  compiled (unit) / tsx: ${ratio(r.unit, r.tsx)} · compiled (plain) / tsx: ${ratio(r.compiled, r.tsx)}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  printAgentRss(await runAgentRssBench(Number(process.argv[2] ?? 20)));
}
