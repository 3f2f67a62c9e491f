// A real alerting chain for tests and the bench: the hub in-process (capturing sink), a local SMTP sink
// (smtp-server), Node-RED embedded with the flows, and raw mqtt.js "agents" holding registry credentials.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SMTPServer } from 'smtp-server';
import { NodeRedRuntime } from '../flows/runtime.ts';
import type { NotifyConfigInput } from '../flows/lib/notify-config.ts';
import { hubTags } from '../hub/accept/enrich.ts';
import { parseHubConfig, type HubConfigInput } from '../hub/config.ts';
import { Hub } from '../hub/hub.ts';
import type { Site } from '../hub/agents/registry.ts';
import type { HubPoint, Sink } from '../hub/write/sink.ts';
import { generateToken, hashToken } from '../hub/agents/token.ts';
import { agentIdentity, statusTopic, telemetryTopic, type Batch, type Status } from '../protocol/index.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { waitUntil } from './wait.ts';

export interface Mail {
  to: string;
  subject: string;
  alertId: string;
  kind: string;
  site: string;
  rule: string;
  /** The Message-ID header (stable per delivery: the same on every retry). */
  messageId: string;
  at: number;
}

export class CapturingSink implements Sink {
  readonly points: HubPoint[] = [];
  async write(points: readonly HubPoint[]): Promise<void> {
    for (const p of points) if (p.measurement === 'alert') this.points.push(p);
  }
}

export interface AlertStackOptions {
  sites: number;
  rulesYaml: string;
  notify?: Partial<NotifyConfigInput>;
  startupGrace?: string;
  /** More `alerts:` settings of the hub (caps…). */
  hubAlerts?: Record<string, unknown>;
  /** A real InfluxDB instead of the capturing sink (hostile tests with a bystander). */
  influxUrl?: string;
  /** Per-agent budgets of the hub (a test of the alert caps lifts the series budget so the engine sees every series). */
  budgets?: Record<string, unknown>;
  /** The sites' areas, site i in areas[i % length]; default tam-dao and lap-thach. */
  areas?: readonly string[];
  /** The flows' clock (duty rosters, escalation timing): a shift or a holiday without waiting for one. */
  nodeRedNow?: () => number;
}

const LOW_SCRYPT = { N: 1024, r: 8, p: 1 };

export class AlertStack {
  readonly mails: Mail[] = [];
  readonly sink = new CapturingSink();
  readonly sites: Site[] = [];
  private readonly tokens = new Map<string, string>();
  readonly agents = new Map<string, MqttClient>();
  private hubNow: Hub | undefined;
  private nodeRedNow: NodeRedRuntime | undefined;
  private smtp: SMTPServer | undefined;
  private smtpPort = 0;
  private hubConfig: ReturnType<typeof parseHubConfig> | undefined;
  private useSink = true;
  apiToken = '';

  private constructor(readonly dir: string) {}

  get hub(): Hub {
    if (this.hubNow === undefined) throw new Error('hub not started');
    return this.hubNow;
  }

  get nodeRed(): NodeRedRuntime {
    if (this.nodeRedNow === undefined) throw new Error('Node-RED not started');
    return this.nodeRedNow;
  }

  static async start(opts: AlertStackOptions): Promise<AlertStack> {
    const s = new AlertStack(mkdtempSync(join(tmpdir(), 'ioc-alerts-')));
    await s.init(opts);
    return s;
  }

  private async init(opts: AlertStackOptions): Promise<void> {
    const [mqttPort, httpPort, smtpPort] = [await freePort(), await freePort(), await freePort()];
    this.smtpPort = smtpPort;
    await this.smtpUp();

    const rulesFile = join(this.dir, 'alerts.yaml');
    writeFileSync(rulesFile, opts.rulesYaml);
    const token = generateToken();
    this.apiToken = `node-red:${token}`;
    const input: HubConfigInput = {
      mqtt: { host: '127.0.0.1', port: mqttPort },
      http: { host: '127.0.0.1', port: httpPort },
      registry: { path: join(this.dir, 'registry.json') },
      log: { level: 'silent' },
      alerts: { rulesFile, startupGrace: opts.startupGrace ?? '1s', evaluateIntervalMs: 100, ...opts.hubAlerts },
      services: [{ name: 'node-red', tokenHash: await hashToken(token, LOW_SCRYPT), api: ['alerts:write'] }],
      ...(opts.influxUrl === undefined ? {} : { influx: { url: opts.influxUrl, flushIntervalMs: 20 } }),
      ...(opts.budgets === undefined ? {} : { budgets: opts.budgets }),
    };
    this.useSink = opts.influxUrl === undefined;
    this.hubConfig = parseHubConfig(input);
    await this.startHub();
    for (let i = 0; i < opts.sites; i++) {
      const site: Site = { slug: `xa-${i}`, name: `Xã ${i}`, code: `${10000 + i}`, province: 'vinh-phuc', provinceName: 'Vĩnh Phúc', area: opts.areas?.[i % opts.areas.length] ?? (i % 2 === 0 ? 'tam-dao' : 'lap-thach'), areaName: '', lat: 21.3, lon: 105.5 };
      this.sites.push(site);
      await this.hub.registry.upsertSite(site);
    }
    for (const e of await this.hub.registry.enrollMany(this.sites.map((s) => ({ site: s.slug, agent: 'pi-1' })))) this.tokens.set(e.site, e.token);

    this.nodeRedNow = new NodeRedRuntime({
      userDir: join(this.dir, 'node-red'),
      mqtt: { host: '127.0.0.1', port: mqttPort, username: 'service:node-red', password: token },
      credentialSecret: 'test-secret',
      notify: {
        smtp: { host: '127.0.0.1', port: smtpPort },
        routes: [{ areas: ['tam-dao'], email: ['tam-dao@ioc.test'] }],
        defaultRoute: { email: ['ops@ioc.test'] },
        escalation: { after: '4s', email: ['lead@ioc.test'] },
        hubApi: { url: `http://127.0.0.1:${httpPort}`, token: this.apiToken },
        ...opts.notify,
      },
      ...(opts.nodeRedNow === undefined ? {} : { now: opts.nodeRedNow }),
    });
    await this.nodeRedNow.start();
    await waitUntil('Node-RED subscribed', async () => this.hub.broker.connectedClients >= 1, 20_000, 50);
    // the subscription follows the connection closely
    await new Promise((r) => setTimeout(r, 300));
  }

  /** (Re)opens the SMTP sink on its port. */
  async smtpUp(): Promise<void> {
    if (this.smtp !== undefined) return;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        let raw = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (raw += d));
        stream.on('end', () => {
          const header = (name: string): string => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1]?.trim() ?? '';
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), subject: header('Subject'), alertId: header('X-IOC-Alert-Id'), kind: header('X-IOC-Alert-Kind'), site: header('X-IOC-Alert-Site'), rule: header('X-IOC-Alert-Rule'), messageId: header('Message-ID'), at: performance.now() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(this.smtpPort, '127.0.0.1', () => resolve());
    });
    this.smtp = smtp;
  }

  /** Closes the SMTP sink: its port refuses connections until smtpUp(). */
  async smtpDown(): Promise<void> {
    const smtp = this.smtp;
    this.smtp = undefined;
    if (smtp !== undefined) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }

  get smtpSinkPort(): number {
    return this.smtpPort;
  }

  async startHub(): Promise<void> {
    if (this.hubConfig === undefined) throw new Error('no hub config');
    this.hubNow = new Hub(this.hubConfig, { ...(this.useSink ? { sink: this.sink } : {}), registry: { scrypt: LOW_SCRYPT } });
    await this.hubNow.start();
  }

  async restartHub(): Promise<void> {
    await this.hub.stop();
    await this.startHub();
  }

  /** The enrolled `pi-1` of a site (for a bystander agent of its own). */
  credentials(site: string): { site: string; agent: string; token: string } {
    return { site, agent: 'pi-1', token: this.tokens.get(site) ?? '' };
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.hub.mqttPort}`;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.hub.httpPort}`;
  }

  /** Connects the site's agent (will: offline) and publishes its retained online status. */
  async online(site: string): Promise<MqttClient> {
    const id = agentIdentity(site, 'pi-1');
    const status = (online: boolean): string => JSON.stringify({ online, ts: Date.now(), version: 'test', bootId: 'b', configRev: 1, clockSynced: true } satisfies Status);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.hub.mqttPort}`, {
      clientId: id,
      username: id,
      password: this.tokens.get(site) ?? '',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: { topic: statusTopic(site, 'pi-1'), payload: Buffer.from(status(false)), qos: 1, retain: true },
    });
    await client.publishAsync(statusTopic(site, 'pi-1'), status(true), { qos: 1, retain: true });
    this.agents.set(site, client);
    return client;
  }

  /** Drops the connection without DISCONNECT: the broker publishes the will (offline). */
  offline(site: string): void {
    const c = this.agents.get(site);
    this.agents.delete(site);
    c?.stream.destroy();
    c?.end(true);
  }

  async telemetry(site: string, points: Batch['points']): Promise<void> {
    const c = this.agents.get(site);
    if (c === undefined) throw new Error(`${site} not connected`);
    await c.publishAsync(telemetryTopic(site, 'pi-1'), JSON.stringify({ seq: Date.now(), sentAt: Date.now(), points } satisfies Batch), { qos: 1 });
  }

  tags(site: Site): Record<string, string> {
    return hubTags(site, 'pi-1');
  }

  mailsFor(pred: (m: Mail) => boolean): Mail[] {
    return this.mails.filter(pred);
  }

  async stop(): Promise<void> {
    for (const c of this.agents.values()) c.end(true);
    await this.nodeRedNow?.stop();
    await this.hubNow?.stop();
    await this.smtpDown();
    if (process.env.IOC_KEEP_TEST_DIRS === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
