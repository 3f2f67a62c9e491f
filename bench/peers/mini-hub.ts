// The bench's peer "minimal batched hub": an Aedes broker (the hub's own broker library) whose only policy is
// to turn each batch into line protocol and write it to influxd in batches, PUBACK once written — the hub's
// delivery guarantee without auth, budgets, the data contract, enrichment, a spool or alerts. What is left
// between the two is what those cost. `node --import tsx bench/peers/mini-hub.ts MQTT_PORT INFLUX_URL DB`.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const [portText, influxUrl, database] = process.argv.slice(2);
if (portText === undefined || influxUrl === undefined || database === undefined) {
  console.error('usage: mini-hub.ts MQTT_PORT INFLUX_URL DATABASE');
  process.exit(2);
}

const BATCH_LINES = 5000;
const MAX_INFLIGHT = 2;
const writeUrl = `${influxUrl}/write?db=${encodeURIComponent(database)}&precision=ms`;

interface Pending {
  lines: string[];
  done: (err?: Error | null) => void;
}
let queue: Pending[] = [];
let inflight = 0;

interface WirePoint {
  m: string;
  t: number;
  tags?: Record<string, string>;
  fields: Record<string, number | boolean | string>;
}

const escTag = (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`);

function toLines(topic: string, payload: Buffer): string[] {
  const [, site = '', agent = ''] = topic.split('/');
  const batch = JSON.parse(payload.toString('utf8')) as { points: WirePoint[] };
  return batch.points.map((p) => {
    const tags: Record<string, string> = { ...p.tags, site, agent };
    const tagText = Object.keys(tags)
      .sort()
      .map((k) => `${escTag(k)}=${escTag(String(tags[k]))}`)
      .join(',');
    const fields = Object.entries(p.fields)
      .map(([k, v]) => `${escTag(k)}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
      .join(',');
    return `${escTag(p.m)},${tagText} ${fields} ${p.t}`;
  });
}

/** A write goes out as soon as a slot is free, with whatever is queued (up to BATCH_LINES lines). */
function pump(): void {
  while (inflight < MAX_INFLIGHT && queue.length > 0) {
    const take: Pending[] = [];
    let n = 0;
    while (queue.length > 0 && n < BATCH_LINES) {
      const p = queue.shift();
      if (p === undefined) break;
      take.push(p);
      n += p.lines.length;
    }
    inflight += 1;
    const body = take.map((p) => p.lines.join('\n')).join('\n');
    void fetch(writeUrl, { method: 'POST', body, signal: AbortSignal.timeout(30_000) })
      .then(async (res) => {
        await res.text();
        const err = res.status === 204 ? null : new Error(`influxd: HTTP ${res.status}`);
        for (const p of take) p.done(err);
      })
      .catch((err: unknown) => {
        for (const p of take) p.done(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        inflight -= 1;
        pump();
      });
  }
}

const broker = await Aedes.createBroker({
  authorizePublish: (_client, packet, callback) => {
    let lines: string[];
    try {
      lines = toLines(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    } catch (err: unknown) {
      callback(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    queue.push({ lines, done: (err) => callback(err ?? null) });
    pump();
  },
});
const server = createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(Number(portText), '127.0.0.1', () => console.log(`mini-hub listening on ${portText}`));
const stop = (): void => {
  server.close();
  queue = [];
  broker.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
