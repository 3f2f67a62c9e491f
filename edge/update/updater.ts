// The agent's side of a software update: the hub's `update` command names a version, the manifest's URL and the
// manifest's signature. Before anything is written the manifest's ed25519 signature is checked against the key the
// agent trusts (`update.publicKey`), then the archive's size and sha256 against the manifest; only then is it
// unpacked into the other slot, the trial recorded (edge/update/slots.ts) and `current` switched, and the agent
// restarts into it. The new version commits once it is connected and a batch of its own is acknowledged; the
// launcher switches back a trial that does not (edge/update/launcher.ts). `update-status` reports the slot state.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestBytes, parseManifest, updateArgsSchema, verifyRelease, type ReleaseManifest } from '../../protocol/index.ts';
import type { EdgeConfig } from '../config.ts';
import { EdgeError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { AGENT_VERSION } from '../version.ts';
import { currentSlot, installRootOf, otherSlot, readSlotState, slotDirOf, switchCurrent, writeSlotState, type SlotState } from './slots.ts';

const MAX_MANIFEST_BYTES = 64 * 1024;

export interface UpdaterDeps {
  config: Readonly<EdgeConfig>;
  logger: Logger;
  /** Is the link connected and has a batch of this process been acknowledged (the health check). */
  healthy: () => boolean;
  /** Asks the CLI to stop the agent, so that systemd starts the new `current`. */
  requestRestart: () => void;
  /** The install root; default: found from this file's place (`<root>/<slot>/edge/update/updater.js`). */
  root?: string | undefined;
  now?: () => number;
}

export interface UpdateStatus {
  running: string;
  slot: string | null;
  state: SlotState | null;
}

export class Updater {
  private readonly log: Logger;
  private readonly root: string | undefined;
  private readonly now: () => number;
  private busy = false;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: UpdaterDeps) {
    this.log = deps.logger.child({ component: 'updater' });
    this.root = deps.root ?? installRootOf(slotDirOf(fileURLToPath(import.meta.url), 3));
    this.now = deps.now ?? Date.now;
  }

  /** During a trial of this version: commits it as soon as the health check passes. */
  start(): void {
    const root = this.root;
    if (root === undefined) return;
    const state = readSlotState(root);
    if (state?.state !== 'trial' || state.version !== AGENT_VERSION || state.slot !== currentSlot(root)) return;
    this.log.info({ version: state.version, deadline: new Date(state.deadline).toISOString() }, 'update on trial: waiting for the health check');
    this.commitTimer = setInterval(() => {
      if (!this.deps.healthy()) return;
      clearInterval(this.commitTimer);
      const now = readSlotState(root);
      if (now?.state !== 'trial' || now.slot !== state.slot) return;
      writeSlotState(root, { ...now, state: 'committed', at: this.now() });
      this.log.info({ version: now.version, attempts: now.attempts }, 'update committed: connected and sending');
    }, 500);
    this.commitTimer.unref();
  }

  stop(): void {
    clearInterval(this.commitTimer);
  }

  status(): UpdateStatus {
    const root = this.root;
    return { running: AGENT_VERSION, slot: root === undefined ? null : currentSlot(root), state: root === undefined ? null : (readSlotState(root) ?? null) };
  }

  /** The `update` command: verify, install into the other slot, switch, restart. Resolves before the restart. */
  async install(args: unknown): Promise<{ version: string; slot?: string; already?: boolean; downloadMs?: number; unpackMs?: number }> {
    const parsed = updateArgsSchema.safeParse(args);
    if (!parsed.success) throw new EdgeError('E_UPDATE', `update: bad arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { version, manifestUrl, signature } = parsed.data;
    const publicKey = this.deps.config.update.publicKey;
    if (publicKey === undefined) throw new EdgeError('E_UPDATE', 'update refused: no update.publicKey in the agent config');
    const root = this.root;
    if (root === undefined) throw new EdgeError('E_UPDATE', 'update refused: the agent does not run from an A/B install (<root>/current → slot)');
    if (version === AGENT_VERSION) return { version, already: true };
    if (this.busy) throw new EdgeError('E_UPDATE', 'update refused: another update is being installed');
    this.busy = true;
    try {
      const manifestData = await this.fetchBytes(manifestUrl, MAX_MANIFEST_BYTES);
      if (!verifyRelease(manifestData, signature, publicKey)) {
        this.log.warn({ version, manifestUrl }, 'update refused: bad signature');
        throw new EdgeError('E_UPDATE', `update refused: the signature of ${version}'s manifest does not verify with update.publicKey`);
      }
      const m = parseManifest(manifestData);
      if (!m.ok) throw new EdgeError('E_UPDATE', `update refused: ${m.error}`);
      const manifest = m.manifest;
      if (manifest.version !== version || !manifestBytes(manifest).equals(manifestData)) throw new EdgeError('E_UPDATE', `update refused: the manifest is of ${manifest.version}, not ${version}`);
      const running = currentSlot(root);
      const slot = otherSlot(running);
      const archive = join(root, `.incoming-${manifest.version}.tar.gz`);
      const t0 = this.now();
      let downloadMs = 0;
      try {
        await this.download(new URL(manifest.archive, manifestUrl).href, archive, manifest);
        downloadMs = this.now() - t0;
        await this.unpack(archive, join(root, slot));
      } finally {
        rmSync(archive, { force: true });
      }
      this.checkUnpacked(join(root, slot), manifest.version);
      const now = this.now();
      writeSlotState(root, {
        state: 'trial',
        version: manifest.version,
        slot,
        previous: running,
        previousVersion: AGENT_VERSION,
        deadline: now + this.deps.config.update.healthTimeoutS * 1000,
        attempts: 0,
        maxAttempts: this.deps.config.update.maxAttempts,
        at: now,
      });
      switchCurrent(root, slot);
      this.log.info({ version: manifest.version, slot, bytes: manifest.size }, 'update installed: restarting into it');
      // The command's result goes out first; then the agent stops and systemd starts `current`.
      setTimeout(() => this.deps.requestRestart(), 1000).unref();
      return { version: manifest.version, slot, downloadMs, unpackMs: this.now() - t0 - downloadMs };
    } finally {
      this.busy = false;
    }
  }

  private authHeader(): Record<string, string> {
    const { site, agent, hub } = this.deps.config;
    return { authorization: `Bearer ${site}/${agent}:${hub.token}` };
  }

  private async fetchBytes(url: string, max: number): Promise<Buffer> {
    const res = await this.request(url, 30_000);
    const data = Buffer.from(await res.arrayBuffer());
    if (data.length > max) throw new EdgeError('E_UPDATE', `update: ${url} is larger than ${max} bytes`);
    return data;
  }

  private async request(url: string, timeoutMs: number): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, { headers: this.authHeader(), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err: unknown) {
      throw new EdgeError('E_UPDATE', `update: cannot fetch ${url}: ${errorMessage(err)}`, { cause: err });
    }
    if (!res.ok) throw new EdgeError('E_UPDATE', `update: ${url} answered ${res.status}`);
    return res;
  }

  /** Streams the archive to disk, hashing it; more bytes than the manifest says, or another sha256, refuses it. */
  private async download(url: string, file: string, manifest: ReleaseManifest): Promise<void> {
    const res = await this.request(url, this.deps.config.update.downloadTimeoutS * 1000);
    if (res.body === null) throw new EdgeError('E_UPDATE', `update: ${url} had no body`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(file, { mode: 0o600 });
    try {
      for await (const chunk of res.body) {
        size += chunk.byteLength;
        if (size > manifest.size) throw new EdgeError('E_UPDATE', `update refused: the archive is larger than the manifest's ${manifest.size} bytes`);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    } finally {
      await new Promise<void>((r) => out.end(r));
    }
    const digest = hash.digest('hex');
    if (size !== manifest.size || digest !== manifest.sha256) throw new EdgeError('E_UPDATE', `update refused: the archive (${size} bytes, sha256 ${digest.slice(0, 12)}…) is not the signed one (${manifest.size} bytes, ${manifest.sha256.slice(0, 12)}…)`);
  }

  private async unpack(archive: string, slotDir: string): Promise<void> {
    rmSync(slotDir, { recursive: true, force: true });
    mkdirSync(slotDir, { recursive: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('tar', ['-xzf', archive, '-C', slotDir, '--strip-components=1', '--no-same-owner'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-1000)));
      child.once('error', reject);
      child.once('exit', (c) => {
        if (c !== 0) this.log.warn({ stderr }, 'tar failed');
        resolve(c);
      });
    });
    if (code !== 0) throw new EdgeError('E_UPDATE', `update: unpacking into ${slotDir} failed (tar exit ${String(code)})`);
  }

  private checkUnpacked(slotDir: string, version: string): void {
    let v: unknown;
    try {
      v = (JSON.parse(readFileSync(join(slotDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
    } catch (err: unknown) {
      throw new EdgeError('E_UPDATE', `update: the unpacked bundle has no package.json`, { cause: err });
    }
    if (v !== version || !existsSync(join(slotDir, 'bin', 'ioc-edge.js'))) throw new EdgeError('E_UPDATE', `update: the unpacked bundle is not ioc-edge ${version}`);
  }
}
