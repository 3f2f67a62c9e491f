// The pipeline people build today, as a bench peer: Node-RED 4 (the project's node-red, as its own process with
// a user folder in the bench's temp folder) with node-red-contrib-influxdb, the flow everyone draws:
// mqtt in (bench/#, QoS 1, parsed JSON) → function (point → [fields, tags]) → influxdb out, one write per message.
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, PROJECT_ROOT, spawnGuarded } from '../../scripts/lib/child-process.ts';
import { freePort } from '../../scripts/lib/free-port.ts';

export interface NodeRedPeer {
  proc: ManagedProcess;
}

/** The function node's code: what a user writes to map a message of the agents' envelope to the influxdb node's input. */
const FUNCTION = [
  "const [, site, agent] = msg.topic.split('/');",
  'const p = msg.payload.points[0];',
  'msg.measurement = p.m;',
  'msg.payload = [Object.assign({}, p.fields, { time: p.t }), Object.assign({}, p.tags, { site, agent })];',
  'return msg;',
].join('\n');

export function benchFlow(mqttPort: number, influxPort: number, database: string): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'bench-broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(mqttPort), clientid: 'node-red-bench', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'bench-in', type: 'mqtt in', z: 'bench-tab', name: 'telemetry', topic: 'bench/#', qos: '1', datatype: 'json', broker: 'bench-broker', nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 100, wires: [['bench-fn']] },
    { id: 'bench-fn', type: 'function', z: 'bench-tab', name: 'to influx', func: FUNCTION, outputs: 1, x: 300, y: 100, wires: [['bench-out']] },
    { id: 'bench-db', type: 'influxdb', hostname: '127.0.0.1', port: String(influxPort), protocol: 'http', database, name: 'influxd', usetls: false, influxdbVersion: '1.x' },
    { id: 'bench-out', type: 'influxdb out', z: 'bench-tab', influxdb: 'bench-db', name: 'write', measurement: '', precision: 'ms', retentionPolicy: '', x: 500, y: 100, wires: [] },
  ];
}

/** Starts Node-RED with the bench flow; resolves once its mqtt node is connected to the broker. */
export async function startNodeRed(dir: string, mqttPort: number, influxPort: number, database: string): Promise<NodeRedPeer> {
  const userDir = join(dir, 'node-red');
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  // installed as the project's dev dependency; Node-RED finds nodes in its user folder's node_modules
  symlinkSync(join(PROJECT_ROOT, 'node_modules', 'node-red-contrib-influxdb'), join(userDir, 'node_modules', 'node-red-contrib-influxdb'));
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'bench-node-red', private: true, dependencies: { 'node-red-contrib-influxdb': '*' } }));
  const flowFile = join(userDir, 'flows.json');
  writeFileSync(flowFile, JSON.stringify(benchFlow(mqttPort, influxPort, database), null, 2));
  const uiPort = await freePort();
  const settings = join(userDir, 'settings.cjs');
  writeFileSync(
    settings,
    `module.exports = ${JSON.stringify({ flowFile, userDir, uiHost: '127.0.0.1', uiPort, httpAdminRoot: false, credentialSecret: false, logging: { console: { level: 'info', metrics: false, audit: false } }, editorTheme: { tours: false }, diagnostics: { enabled: false }, telemetry: { enabled: false } })};\n`,
  );
  const log = join(dir, 'node-red.log');
  const fd = openSync(log, 'a');
  const child = spawnGuarded(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'node-red', 'red.js'), '--settings', settings, '--userDir', userDir], { cwd: userDir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const proc = new ManagedProcess('node-red', child, log, true);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = readFileSync(log, 'utf8');
    if (/Connected to broker/.test(text)) break;
    if (/missing types|Error loading/i.test(text) || !proc.running || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`Node-RED did not start its bench flow:\n${text.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc };
}
