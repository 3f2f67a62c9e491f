// The production image, tested without a Docker engine: the Dockerfile is read (every stage, its COPY, WORKDIR,
// RUN, ENV, ENTRYPOINT and CMD), exactly the files it would hold are assembled in a temporary folder (its RUN
// steps executed there: npm ci, the build, the prune), and the hub and Node-RED are started from that folder the
// way docker-compose.yml runs them (entrypoint, command, environment, volumes), against a real influxd with
// authentication on, as in the compose stack. Only ports, host names and mounted paths are adapted.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScalar, parse, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { ManagedProcess, PROJECT_ROOT } from '../testkit/child-process.ts';
import { freePort } from '../testkit/free-port.ts';
import { InfluxdProcess } from '../testkit/influxd.ts';
import { parsePromText } from '../testkit/prom-text.ts';
import { connectAs, endClient } from '../testkit/mqtt-client.ts';
import { waitUntil } from '../testkit/wait.ts';
import { testkitFilesIn, testkitModuleNames } from '../testkit/testkit-files.ts';

// ---- the Dockerfile, as Docker reads it ----

interface Instruction {
  op: string;
  flags: Record<string, string>;
  args: string;
}

interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined, `--flag=value` options split off. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current !== '' && line.trimStart().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(line);
    if (m === null) throw new Error(`Dockerfile: cannot read "${line}"`);
    const op = (m[1] ?? '').toUpperCase();
    let rest = m[2] ?? '';
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([\w-]+)=(\S+)\s+/.exec(rest);
      if (f === null) break;
      flags[f[1] ?? ''] = f[2] ?? '';
      rest = rest.slice(f[0].length);
    }
    if (op === 'FROM') {
      const [from = '', as, name] = rest.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' && name !== undefined ? name : String(stages.length), from, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`Dockerfile: ${op} before FROM`);
    stage.steps.push({ op, flags, args: rest });
  }
  return stages;
}

/** A JSON-array (exec form) argument, or a shell-form one split on blanks. */
function words(args: string): string[] {
  if (args.startsWith('[')) return z.array(z.string()).parse(JSON.parse(args));
  return args.split(/\s+/).filter((w) => w !== '');
}

/** `.dockerignore` patterns (Go filepath.Match with `**`, `!` re-includes, last match wins). */
function dockerIgnore(root: string): (rel: string) => boolean {
  const file = join(root, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const rules = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const re = pattern
        .split('/')
        .map((seg, i, all) => {
          if (seg === '**') return i === all.length - 1 ? '.*' : '(?:[^/]+/)*';
          const body = seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
          return i === all.length - 1 ? body : `${body}/`;
        })
        .join('');
      // A matched folder excludes everything below it.
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

/** Copies `src` (file or folder) to `dest` like COPY does: a folder's contents, not the folder itself. */
function copyInto(src: string, dest: string, keep: (abs: string) => boolean): void {
  if (!keep(src)) return;
  if (statSync(src).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const entry of readdirSync(src)) copyInto(join(src, entry), join(dest, entry), keep);
    return;
  }
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(src, dest, { dereference: true });
}

/** Runs one command of a RUN line in the stage; only the commands this test knows how to reproduce. */
function runStep(cmd: string, stageRoot: string, workdir: string, env: Record<string, string>): void {
  const argv = cmd.split(/\s+/).filter((w) => w !== '');
  if (argv[0] === 'npm') {
    // In the image npm downloads; here it takes the packages from npm's cache (filled by the checkout's `npm ci`).
    const extra = argv[1] === 'ci' || argv[1] === 'prune' || argv[1] === 'install' ? ['--prefer-offline', '--no-audit', '--no-fund'] : [];
    // A build container's environment: the stage's ENV, not this test's NODE_ENV or the npm_* settings of `npm test`
    // (npm's cache location excepted).
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV' && (!k.startsWith('npm_') || k === 'npm_config_cache')));
    const r = spawnSync('npm', [...argv.slice(1), ...extra], { cwd: workdir, env: { ...base, ...env }, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`RUN ${cmd} failed (${String(r.status)}):\n${r.stderr}\n${r.stdout}`);
    return;
  }
  if (argv[0] === 'mkdir') {
    for (const p of argv.slice(1).filter((a) => !a.startsWith('-'))) mkdirSync(join(stageRoot, p.startsWith('/') ? p : relative('/', join(workdir, p))), { recursive: true });
    return;
  }
  // Ownership: the test runs as one user; USER node is honoured by not needing root anywhere.
  if (argv[0] === 'chown') return;
  throw new Error(`the image test does not know how to reproduce "RUN ${cmd}": teach runStep() in test/image.test.ts`);
}

interface Image {
  /** The final stage's root folder; the container's `/` . */
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

/** Builds every stage of the Dockerfile into `<dir>/<stage>/` and returns the last one. */
function assembleImage(dir: string): Image {
  const stages = parseDockerfile(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
  const ignored = dockerIgnore(PROJECT_ROOT);
  const roots = new Map<string, string>();
  let image: Image | undefined;
  for (const [i, stage] of stages.entries()) {
    const root = join(dir, `stage-${i}-${stage.name}`);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    const img: Image = { root, workdir: '/', env: {}, entrypoint: [], cmd: [] };
    const inStage = (p: string): string => join(root, p.startsWith('/') ? p : join(img.workdir, p));
    for (const step of stage.steps) {
      switch (step.op) {
        case 'WORKDIR':
          img.workdir = step.args.startsWith('/') ? step.args : join(img.workdir, step.args);
          mkdirSync(inStage('.'), { recursive: true });
          break;
        case 'ENV': {
          const m = /^(\w+)[= ](.*)$/.exec(step.args);
          if (m === null) throw new Error(`ENV ${step.args}`);
          img.env[m[1] ?? ''] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
          break;
        }
        case 'COPY': {
          const parts = words(step.args);
          const dest = parts.pop() ?? '';
          const from = step.flags.from;
          const srcRoot = from === undefined ? PROJECT_ROOT : roots.get(from);
          if (srcRoot === undefined) throw new Error(`COPY --from=${String(from)}: no such stage`);
          for (const src of parts) {
            if (/[*?[]/.test(src)) throw new Error(`COPY ${src}: wildcards are not reproduced by this test`);
            const abs = from === undefined ? join(PROJECT_ROOT, src) : join(srcRoot, src);
            if (!existsSync(abs)) throw new Error(`COPY ${src}: not found (${from === undefined ? 'build context' : `stage ${from}`})`);
            const isDir = statSync(abs).isDirectory();
            const target = dest.endsWith('/') && !isDir ? join(inStage(dest), src.split('/').at(-1) ?? src) : inStage(dest);
            const keep = from === undefined ? (p: string): boolean => !ignored(relative(PROJECT_ROOT, p)) : (): boolean => true;
            copyInto(abs, target, keep);
          }
          break;
        }
        case 'RUN':
          for (const cmd of step.args.split('&&').map((c) => c.trim())) runStep(cmd, root, inStage('.'), img.env);
          break;
        case 'ENTRYPOINT':
          img.entrypoint = words(step.args);
          img.cmd = [];
          break;
        case 'CMD':
          img.cmd = words(step.args);
          break;
        case 'USER':
        case 'EXPOSE':
        case 'HEALTHCHECK':
        case 'ARG':
        case 'LABEL':
          break;
        default:
          throw new Error(`Dockerfile instruction ${step.op} is not reproduced by this test`);
      }
    }
    image = img;
  }
  if (image === undefined) throw new Error('Dockerfile has no stage');
  // The build stages are not part of the image (and hold the biggest trees): gone before anything starts.
  for (const root of roots.values()) if (root !== image.root) rmSync(root, { recursive: true, force: true });
  return image;
}

// ---- docker-compose.yml, as compose runs a service ----

const serviceSchema = z.object({
  entrypoint: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).default({}),
  volumes: z.array(z.string()).default([]),
  healthcheck: z.object({ test: z.array(z.string()) }),
});
const compose = z.object({ services: z.record(z.string(), serviceSchema) }).parse(parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')));

function service(name: string): z.infer<typeof serviceSchema> {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** `${VAR:?…}` / `${VAR:-default}` from the given .env values, as compose interpolates them. */
function interpolate(value: string, dotEnv: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, word: string | undefined) => {
    const v = dotEnv[name];
    if (v !== undefined && v !== '') return v;
    if (kind === '-') return word ?? '';
    throw new Error(`docker-compose.yml needs ${name} (${word ?? ''})`);
  });
}

/** Maps a container path onto the service's volumes (bind mounts to the repository, named volumes to `volumesDir`). */
function mounts(name: string, volumesDir: string, binds: Record<string, string> = {}): (p: string) => string {
  const table = service(name).volumes.map((v) => {
    const [src = '', dst = ''] = v.split(':');
    const host = binds[dst] ?? (src.startsWith('.') || src.startsWith('/') ? join(PROJECT_ROOT, src) : join(volumesDir, src));
    if (!src.startsWith('.') && !src.startsWith('/')) mkdirSync(host, { recursive: true });
    return { dst, host };
  });
  return (p) => {
    for (const { dst, host } of table) if (p === dst || p.startsWith(`${dst}/`)) return host + p.slice(dst.length);
    return p;
  };
}

/** Starts a process of the image as compose would: entrypoint (+ command, or the image's CMD when not overridden). */
function startService(image: Image, name: string, argv: string[], env: Record<string, string>, logFile: string): ManagedProcess {
  const [program, ...args] = argv;
  if (program !== 'node') throw new Error(`${name}: entrypoint ${String(program)} is not node`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: join(image.root, image.workdir),
    // A container's environment: the image's ENV and the service's environment, nothing from this machine.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(image.root, 'home'), ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return new ManagedProcess(name, child, logFile);
}

/** Runs a compose healthcheck (`CMD node -e …`) with its port adapted; true when it exits 0. */
function healthcheck(name: string, from: number, to: number): boolean {
  const [kind, program, ...args] = service(name).healthcheck.test;
  if (kind !== 'CMD' || program !== 'node') throw new Error(`${name}: healthcheck ${String(kind)} ${String(program)} not reproduced`);
  const r = spawnSync(process.execPath, args.map((a) => a.replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${to}`)), { timeout: 15_000 });
  return r.status === 0;
}

function logTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '(no log)';
}

describe('the production image (Dockerfile) with docker-compose.yml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-image-'));
  let image: Image;
  let influx: InfluxdProcess | undefined;
  let hub: ManagedProcess | undefined;
  let nodeRed: ManagedProcess | undefined;

  beforeAll(() => {
    image = assembleImage(join(dir, 'build'));
  }, 600_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await hub?.stop();
    await influx?.stop();
    if (process.env.IOC_KEEP_TEST_DIRS === undefined) rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('holds production dependencies only, and no tests', () => {
    const app = join(image.root, image.workdir);
    expect(existsSync(join(app, 'node_modules', 'aedes')), 'aedes installed').toBe(true);
    for (const dev of ['vitest', 'typescript', 'eslint', 'tsx']) expect(existsSync(join(app, 'node_modules', dev)), `${dev} in the image`).toBe(false);
    const tests: string[] = [];
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name === 'node_modules') continue;
        if (e.isDirectory()) walk(join(d, e.name));
        else {
          files.push(relative(app, join(d, e.name)));
          if (/\.test\.[cm]?[jt]s$/.test(e.name)) tests.push(relative(app, join(d, e.name)));
        }
      }
    };
    walk(app);
    expect(tests).toEqual([]);
    // Nothing of testkit/ (the test harness, test brokers, the leak check), under any name.
    expect(files.length).toBeGreaterThan(50);
    expect(testkitModuleNames().size).toBeGreaterThan(10);
    expect(testkitFilesIn(files)).toEqual([]);
  });

  it('starts the hub (ENTRYPOINT + CMD, compose env and volumes, hub/samples/hub.yaml) and Node-RED connects to it', async () => {
    const dotEnv = {
      INFLUXDB_ADMIN_USER: 'admin',
      INFLUXDB_ADMIN_PASSWORD: 'admin-secret-1',
      NODE_RED_CREDENTIAL_SECRET: 'credential-secret-for-the-image-test',
      NODE_RED_SERVICE_TOKEN: '',
    };
    // InfluxDB as compose runs it: authentication on, the hub connecting as its admin user.
    influx = await InfluxdProcess.start({ dir: join(dir, 'influxdb'), authEnabled: true });
    const created = await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE USER ${dotEnv.INFLUXDB_ADMIN_USER} WITH PASSWORD '${dotEnv.INFLUXDB_ADMIN_PASSWORD}' WITH ALL PRIVILEGES` }),
    });
    expect(created.status).toBe(200);

    const mqttPort = await freePort();
    const mqttsPort = await freePort();
    const httpPort = await freePort();
    const volumes = join(dir, 'volumes');
    // The mounted hub.yaml is the sample, with the services: entry the README has the operator paste into it.
    const hubYaml = join(dir, 'hub.yaml');
    // The compose stack mounts ./tls: the operator puts the hub's certificate there as tls/README.md shows.
    const tlsDir = join(dir, 'tls');
    mkdirSync(tlsDir);
    const ssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: tlsDir, stdio: 'ignore' });
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=ioc-hub-ca']);
    ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'hub.key', '-out', 'hub.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(tlsDir, 'hub.ext'), 'subjectAltName=DNS:localhost\n');
    ssl(['x509', '-req', '-in', 'hub.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'hub.crt', '-extfile', 'hub.ext']);
    const hubPath = mounts('hub', volumes, { '/etc/ioc-hub/hub.yaml': hubYaml, '/etc/ioc-hub/tls': tlsDir });
    const hubEnv = (): Record<string, string> => ({
      ...image.env,
      ...Object.fromEntries(Object.entries(service('hub').environment).map(([k, v]) => [k, hubPath(interpolate(v, dotEnv))])),
      // Adapted: the influxdb service's address, loopback instead of 0.0.0.0, free ports instead of 1883/8080.
      IOC_HUB_INFLUX_URL: influx?.url ?? '',
      IOC_HUB_MQTT_HOST: '127.0.0.1',
      IOC_HUB_MQTT_PORT: String(mqttPort),
      IOC_HUB_MQTT_TLS_PORT: String(mqttsPort),
      IOC_HUB_HTTP_HOST: '127.0.0.1',
      IOC_HUB_HTTP_PORT: String(httpPort),
    });
    const hubCli = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const [, ...nodeArgs] = image.entrypoint;
      const r = spawnSync(process.execPath, [...nodeArgs, ...args.map(hubPath)], {
        cwd: join(image.root, image.workdir),
        env: { PATH: process.env.PATH ?? '', ...hubEnv() },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    // README: `docker compose run --rm --no-deps hub services token --name node-red`.
    writeFileSync(hubYaml, readFileSync(join(PROJECT_ROOT, 'hub', 'samples', 'hub.yaml'), 'utf8'));
    const token = hubCli(['services', 'token', '--name', 'node-red']);
    expect(token.status, `ioc-hub services token failed:\n${token.stderr}`).toBe(0);
    const printed = z.object({ token: z.string().min(20), services: z.array(z.unknown()).length(1) }).parse(parse(token.stdout));
    const doc = parseDocument(readFileSync(hubYaml, 'utf8'));
    doc.set('services', printed.services);
    // Paths inside the container (the TLS files, the registry) point into the mounted folders here.
    visit(doc, {
      Scalar(_key, node) {
        if (isScalar(node) && typeof node.value === 'string' && node.value.startsWith('/')) node.value = hubPath(node.value);
      },
    });
    writeFileSync(hubYaml, doc.toString());
    dotEnv.NODE_RED_SERVICE_TOKEN = printed.token;

    hub = startService(image, 'hub', [...image.entrypoint, ...image.cmd.map(hubPath)], hubEnv(), join(dir, 'hub.log'));
    const hubUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await waitUntil('hub /healthz 200', async () => (await fetch(`${hubUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200, 60_000);
    } catch (err: unknown) {
      throw new Error(`the hub did not become healthy:\n${logTail(join(dir, 'hub.log'))}`, { cause: err });
    }
    expect(healthcheck('hub', 8080, httpPort), 'compose healthcheck of hub').toBe(true);
    // The MQTTS listener agents use over the WAN (the only MQTT port compose publishes) answers with the
    // mounted certificate: a TLS client that trusts only that CA reaches CONNACK (refused: no such agent).
    await expect(
      connectAs(`mqtts://localhost:${mqttsPort}`, 'xa-khong-co/pi-1', 'x'.repeat(43), { ca: readFileSync(join(tlsDir, 'ca.crt')), rejectUnauthorized: true }).then(endClient),
    ).rejects.toThrow(/Not authorized|Bad username/i);
    const refusedBefore = parsePromText(await (await fetch(`${hubUrl}/metrics`)).text()).get('ioc_hub_auth_failures_total');
    expect(refusedBefore, 'the probe above was refused and counted').toBe(1);

    // README: `docker compose exec hub node bin/ioc-hub.js sites import --csv data/… --config /etc/ioc-hub/hub.yaml`.
    const csv = readdirSync(join(image.root, image.workdir, 'data')).find((f) => f.endsWith('.csv'));
    expect(csv, 'a commune list in data/').toBeDefined();
    const imported = hubCli(['sites', 'import', '--csv', `data/${csv ?? ''}`, '--config', '/etc/ioc-hub/hub.yaml']);
    expect(imported.status, `sites import failed:\n${imported.stderr}${imported.stdout}`).toBe(0);

    // Node-RED as compose's node-red service runs it.
    const nr = service('node-red');
    const nrPort = await freePort();
    const nrPath = mounts('node-red', volumes);
    const nrArgv = [...(nr.entrypoint ?? image.entrypoint), ...(nr.command ?? (nr.entrypoint === undefined ? image.cmd : []))];
    const nrEnv = {
      ...image.env,
      ...Object.fromEntries(Object.entries(nr.environment).map(([k, v]) => [k, nrPath(interpolate(v, dotEnv))])),
      // Adapted: the hub service's address and port, a free port on loopback for Node-RED itself.
      IOC_HUB_MQTT_HOST: '127.0.0.1',
      IOC_HUB_MQTT_PORT: String(mqttPort),
      IOC_NR_HOST: '127.0.0.1',
      IOC_NR_PORT: String(nrPort),
    };
    nodeRed = startService(image, 'node-red', nrArgv, nrEnv, join(dir, 'node-red.log'));
    try {
      await waitUntil('Node-RED healthcheck', () => Promise.resolve(nodeRed?.running === true && healthcheck('node-red', 1880, nrPort)), 60_000, 500);
      // Connected over MQTT with its service account: one client, no failed authentication.
      await waitUntil(
        'Node-RED connected to the hub',
        async () => {
          const m = parsePromText(await (await fetch(`${hubUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text());
          return m.get('ioc_hub_connected_clients') === 1;
        },
        30_000,
      );
    } catch (err: unknown) {
      throw new Error(`Node-RED did not serve or connect:\n${logTail(join(dir, 'node-red.log'))}\n--- hub:\n${logTail(join(dir, 'hub.log'))}`, { cause: err });
    }
    const metrics = parsePromText(await (await fetch(`${hubUrl}/metrics`)).text());
    expect(metrics.get('ioc_hub_auth_failures_total'), 'Node-RED authenticated at its first try').toBe(refusedBefore);
    expect(hub.running && nodeRed.running).toBe(true);
  }, 180_000);
});
