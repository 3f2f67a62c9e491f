// A test agent process for the fault tests: N agents, each the edge's own delivery path (DiskOutbox +
// SeqStore + MqttLink), fed by a deterministic source: batch seq s carries P points with
// t = t0 + s·P + i and field v = s·P + i, so the expected set follows from the seqs generated.
// Each agent logs `i s` before appending batch s and `a s` once it is in the outbox (both writeSync:
// they survive SIGKILL). On start, a trailing `i s` without `a s` is settled by asking the recovered
// outbox: `a s` if the batch is there, `x s` (never collected) if not.
// SIGTERM: stop generating, drain every outbox, write summary.json, exit 0.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiskOutbox } from '../edge/disk-outbox.ts';
import { MqttLink } from '../edge/link/link.ts';
import { SeqStore } from '../edge/seq-store.ts';

const { values } = parseArgs({
  options: {
    hub: { type: 'string' },
    creds: { type: 'string' },
    dir: { type: 'string' },
    agents: { type: 'string', default: '1' },
    offset: { type: 'string', default: '0' },
    'interval-ms': { type: 'string', default: '100' },
    points: { type: 'string', default: '10' },
    t0: { type: 'string' },
    'max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    'segment-bytes': { type: 'string' },
    'max-batches': { type: 'string' },
  },
});
const hub = values.hub;
const credsPath = values.creds;
const root = values.dir;
const t0 = Number(values.t0);
if (hub === undefined || credsPath === undefined || root === undefined || !Number.isFinite(t0)) throw new Error('usage: fault-agent --hub URL --creds FILE --dir DIR --t0 MS [--agents N]');
const P = Number(values.points);
const intervalMs = Number(values['interval-ms']);
const creds = (JSON.parse(readFileSync(credsPath, 'utf8')) as { agents: { site: string; agent: string; token: string }[] }).agents.slice(Number(values.offset), Number(values.offset) + Number(values.agents));

interface Running {
  name: string;
  outbox: DiskOutbox;
  link: MqttLink;
  seq: SeqStore;
  log: number;
}

function settle(dir: string, outbox: DiskOutbox, logPath: string): void {
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return;
  }
  const open = new Set<number>();
  for (const line of text.split('\n')) {
    const [op, n] = line.split(' ');
    if (op === 'i') open.add(Number(n));
    else if (op === 'a' || op === 'x') open.delete(Number(n));
  }
  for (const s of open) appendFileSync(logPath, `${outbox.has(s) ? 'a' : 'x'} ${s}\n`);
  void dir;
}

const agents: Running[] = creds.map((c) => {
  const dir = join(root, c.site);
  mkdirSync(dir, { recursive: true });
  const outbox = DiskOutbox.open({
    dir: join(dir, 'outbox'),
    maxBytes: Number(values['max-bytes']),
    ...(values['segment-bytes'] === undefined ? {} : { segmentBytes: Number(values['segment-bytes']) }),
    ...(values['max-batches'] === undefined ? {} : { maxBatches: Number(values['max-batches']) }),
    fsyncIntervalMs: 1000,
    fsyncEveryRecords: 64,
  });
  const logPath = join(dir, 'generated.log');
  settle(dir, outbox, logPath);
  const link = new MqttLink({ url: hub, site: c.site, agent: c.agent, token: c.token, outbox, maxInflight: 8, reconnectMinMs: 200, reconnectMaxMs: 3000, clockSynced: true });
  link.on('error', () => undefined);
  return { name: c.site, outbox, link, seq: SeqStore.open(dir, 100), log: openSync(logPath, 'a') };
});

function tick(a: Running): void {
  const s = a.seq.next();
  const points = [];
  // A measurement of the agent data contract (the hub refuses any other): the value rides in rtt_ms.
  for (let i = 0; i < P; i += 1) points.push({ m: 'net_probe', t: t0 + s * P + i, tags: { target: 'fault', method: 'tcp' }, fields: { rtt_ms: s * P + i } });
  writeSync(a.log, `i ${s}\n`);
  void a.outbox.append({ seq: s, payload: JSON.stringify(points), points: P });
  writeSync(a.log, `a ${s}\n`);
  a.link.kick();
}

for (const a of agents) a.link.start();
const timer = setInterval(() => {
  for (const a of agents) tick(a);
}, intervalMs);

process.once('SIGTERM', () => {
  clearInterval(timer);
  void (async () => {
    const deadline = Date.now() + 120_000;
    while (agents.some((a) => a.outbox.depth > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const summary = agents.map((a) => ({ site: a.name, depth: a.outbox.depth, droppedTotal: a.outbox.droppedTotal, acked: a.link.stats().batchesAcked }));
    await Promise.all(agents.map((a) => a.link.stop({ drainTimeoutMs: 1000 })));
    for (const a of agents) {
      await a.outbox.close();
      closeSync(a.log);
    }
    writeFileSync(join(root, 'summary.json'), JSON.stringify(summary));
    process.exit(0);
  })();
});
