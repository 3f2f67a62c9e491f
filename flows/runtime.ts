// Node-RED embedded in this process (RED.init on our own http server), with the flows of flows/flows.json and
// `global.get('ioc')` bound to the tested TypeScript in flows/lib. One runtime per process (Node-RED is a singleton).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFlowsContext, type FlowsContext } from './lib/flows-context.ts';
import type { NotifyConfigInput } from './lib/notify-config.ts';

const FLOWS_DIR = dirname(fileURLToPath(import.meta.url));

interface RedApi {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpNode: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}

export interface NodeRedRuntimeOptions {
  /** Node-RED's working folder (context, .config files); the flow file is copied there unless `flowFile` is given. */
  userDir: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The hub's MQTT listener and this service account (`service:NAME` user, its token). */
  mqtt: { host: string; port: number; username: string; password: string };
  credentialSecret: string;
  notify: NotifyConfigInput;
  flowFile?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** The flows' clock (duty rosters, escalation, limits); tests inject one (IOC_NR_CLOCK). */
  now?: () => number;
}

export class NodeRedRuntime {
  private server: Server | undefined;
  private red: RedApi | undefined;
  private boundPort = 0;
  /** The logic behind the flows (counters for tests). */
  readonly context: FlowsContext;

  constructor(private readonly opts: NodeRedRuntimeOptions) {
    // The delivery queue lives in Node-RED's user dir, so that a restart loses no notification.
    this.context = createFlowsContext(opts.notify, opts.now, { deliveryPath: join(opts.userDir, 'notify-delivery.json') });
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const { opts } = this;
    mkdirSync(opts.userDir, { recursive: true });
    const flowFile = opts.flowFile ?? join(opts.userDir, 'flows.json');
    if (opts.flowFile === undefined) copyFileSync(join(FLOWS_DIR, 'flows.json'), flowFile);
    // Credentials hold only ${ENV} references, encrypted the way Node-RED expects (aes-256-ctr, sha256(secret)).
    writeFileSync(flowFile.replace(/\.json$/, '_cred.json'), JSON.stringify(encryptCredentials(opts.credentialSecret, { 'hub-broker': { user: '${IOC_NR_MQTT_USERNAME}', password: '${IOC_NR_MQTT_PASSWORD}' } })));
    // Node-RED resolves ${VAR} in node properties from the process environment.
    process.env.IOC_HUB_MQTT_HOST = opts.mqtt.host;
    process.env.IOC_HUB_MQTT_PORT = String(opts.mqtt.port);
    process.env.IOC_NR_MQTT_USERNAME = opts.mqtt.username;
    process.env.IOC_NR_MQTT_PASSWORD = opts.mqtt.password;
    process.env.IOC_NR_MQTT_CLIENT_ID = `${opts.mqtt.username}-${randomBytes(3).toString('hex')}`;
    const require = createRequire(import.meta.url);
    const base = require(join(FLOWS_DIR, 'settings.cjs')) as Record<string, unknown>;
    const red = require('node-red') as RedApi;
    const server = createServer((req, res) =>
      red.httpNode(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    );
    red.init(server, {
      ...base,
      flowFile,
      userDir: opts.userDir,
      credentialSecret: opts.credentialSecret,
      httpAdminRoot: false,
      uiHost: opts.host ?? '127.0.0.1',
      uiPort: opts.port ?? 0,
      logging: { console: { level: opts.logLevel ?? 'warn', metrics: false, audit: false } },
      functionGlobalContext: { ioc: this.context },
      mqttReconnectTime: 500,
    });
    await red.start();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.boundPort = addr !== null && typeof addr === 'object' ? addr.port : 0;
    this.server = server;
    this.red = red;
    this.context.start();
  }

  async stop(): Promise<void> {
    const { server, red } = this;
    this.server = undefined;
    this.red = undefined;
    if (red !== undefined) await red.stop();
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.context.stop();
    this.context.close();
  }
}

export function encryptCredentials(secret: string, creds: Record<string, unknown>): { $: string } {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64') };
}
