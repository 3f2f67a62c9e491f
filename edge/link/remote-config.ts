// Remote configuration on the agent: the `config-apply` command carries a config the hub rendered for this agent.
// It is validated with the agent's own schema, written atomically over the config file (the previous file kept as
// `<file>.prev`), and the agent's parts are rebuilt with it (`ioc-edge run` loops). If the rebuilt agent cannot
// reach the hub within `remoteConfig.confirmTimeoutS`, it puts the previous file back by itself and rebuilds again;
// the outcome (applied, refused, rolled-back) is kept in `<file>.remote.json` and sent with every online status
// (`configResult`) until the next config, so the hub's history shows it once the agent is back.
import { readFileSync, rmSync } from 'node:fs';
import { stringify as stringifyYaml } from 'yaml';
import { writeFileAtomic, writeFileAtomicSync } from '../../common/atomic-file.ts';
import { readYamlFile } from '../../common/yaml-config.ts';
import { configApplyArgsSchema, configResultSchema, type Command, type ConfigResult } from '../../protocol/index.ts';
import { applyEnvOverrides, parseEdgeConfig, type EdgeConfig } from '../config.ts';
import { EdgeError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** What is kept beside the config file across restarts. */
const stateSchema = z.strictObject({
  /** A config applied and not yet confirmed by a connection to the hub. */
  pending: z.strictObject({ rev: z.int(), previousRev: z.union([z.string(), z.int()]), appliedAt: z.int() }).optional(),
  result: configResultSchema.optional(),
});
type RemoteState = z.infer<typeof stateSchema>;

export interface RemoteConfigOptions {
  /** The config file `ioc-edge run` loaded. */
  configPath: string;
  /** The config running now. */
  config: Readonly<EdgeConfig>;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Rebuild the agent's parts from the config file (after a reply has gone out). */
  restart: (why: string) => void;
  /** Delay between the command's answer and the rebuild (the answer must be published first). */
  restartDelayMs?: number;
  now?: () => number;
}

/** The keys the agent keeps from its own file when the pushed config lacks them (the hub never has the token). */
const KEPT_HUB_KEYS = ['url', 'caFile', 'certFile', 'keyFile'] as const;

export function prevPath(configPath: string): string {
  return `${configPath}.prev`;
}

export function statePath(configPath: string): string {
  return `${configPath}.remote.json`;
}

export class RemoteConfig {
  private state: RemoteState;
  private confirmTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private applying = false;
  private readonly now: () => number;

  constructor(private readonly opts: RemoteConfigOptions) {
    this.now = opts.now ?? Date.now;
    this.state = readState(statePath(opts.configPath), opts.log);
  }

  /** The outcome of the last pushed config (sent with the status). */
  result(): ConfigResult | undefined {
    return this.state.result;
  }

  /** True while a pushed config runs unconfirmed. */
  get pending(): boolean {
    return this.state.pending !== undefined;
  }

  /** The `config-apply` handler: validate, write atomically, rebuild after the answer. Throws (ok: false) on a refusal. */
  readonly apply = async (cmd: Command): Promise<unknown> => {
    const parsed = configApplyArgsSchema.safeParse(cmd.args);
    if (!parsed.success) throw new EdgeError('E_CONFIG', `config-apply: bad arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { rev, config } = parsed.data;
    if (String(this.opts.config.configRev) === String(rev)) return { rev, already: true };
    if (this.applying) throw new EdgeError('E_CONFIG', `config-apply: revision ${this.state.pending?.rev ?? '?'} is being applied`);
    let text: string;
    try {
      text = this.merge(config);
      parseEdgeConfig(applyEnvOverrides(parseYaml(text), this.opts.env), `revision ${rev}`);
    } catch (err: unknown) {
      const error = errorMessage(err).slice(0, 1000);
      await this.save({ result: { rev, state: 'refused', at: this.now(), error } });
      this.opts.log.warn({ rev, error }, 'pushed config refused');
      throw err;
    }
    this.applying = true;
    try {
      const path = this.opts.configPath;
      await writeFileAtomic(prevPath(path), readFileSync(path, 'utf8'));
      await writeFileAtomic(path, text);
      await this.save({ pending: { rev, previousRev: this.opts.config.configRev, appliedAt: this.now() }, ...(this.state.result === undefined ? {} : { result: this.state.result }) });
    } catch (err: unknown) {
      this.applying = false;
      await this.save({ result: { rev, state: 'refused', at: this.now(), error: `not written: ${errorMessage(err)}`.slice(0, 1000) } }).catch(() => undefined);
      throw err;
    }
    this.opts.log.info({ rev, previousRev: this.opts.config.configRev }, 'pushed config written; restarting with it');
    setTimeout(() => this.opts.restart(`config revision ${rev}`), this.opts.restartDelayMs ?? 300).unref();
    return { rev, restarting: true };
  };

  /** The pushed YAML with what this agent keeps of its own file: its token always, hub.url, TLS files and dataDir when left out. */
  private merge(pushed: string): string {
    const doc: unknown = parseYaml(pushed);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new EdgeError('E_CONFIG', 'config-apply: the config is not a YAML mapping');
    const current = readYamlFile(this.opts.configPath).doc as Record<string, unknown>;
    const curHub = (typeof current.hub === 'object' && current.hub !== null ? current.hub : {}) as Record<string, unknown>;
    const out = { ...(doc as Record<string, unknown>) };
    const hub = { ...((typeof out.hub === 'object' && out.hub !== null ? out.hub : {}) as Record<string, unknown>) };
    for (const k of KEPT_HUB_KEYS) if (hub[k] === undefined && curHub[k] !== undefined) hub[k] = curHub[k];
    hub.token = curHub.token;
    out.hub = hub;
    if (out.dataDir === undefined && current.dataDir !== undefined) out.dataDir = current.dataDir;
    return `# pushed by the hub (revision ${String(out.configRev)}); the previous file is ${prevPath(this.opts.configPath)}\n${stringifyYaml(out)}`;
  }

  /**
   * After the agent started with the config file: if it runs a pushed config not yet confirmed, it has
   * confirmTimeoutS to connect to the hub; connected → applied; not → the previous file back, and a rebuild.
   */
  watch(connected: () => boolean): void {
    const p = this.state.pending;
    if (p === undefined) return;
    if (String(this.opts.config.configRev) !== String(p.rev)) {
      // The file changed by other means (or a rollback already ran): nothing pending any more.
      void this.save({ ...(this.state.result === undefined ? {} : { result: this.state.result }) });
      return;
    }
    const timeoutMs = this.opts.config.remoteConfig.confirmTimeoutS * 1000;
    this.pollTimer = setInterval(() => {
      if (!connected()) return;
      this.stop();
      void this.save({ result: { rev: p.rev, state: 'applied', at: this.now() } });
      this.opts.log.info({ rev: p.rev }, 'pushed config confirmed: the hub is reachable with it');
    }, 200);
    this.confirmTimer = setTimeout(() => {
      this.stop();
      this.rollBack(p.rev, `no connection to the hub within ${this.opts.config.remoteConfig.confirmTimeoutS} s of applying it`);
    }, timeoutMs);
  }

  /** Puts the previous file back (synchronously: it must happen even while the agent stops) and rebuilds. */
  rollBack(rev: number, reason: string): void {
    const path = this.opts.configPath;
    try {
      writeFileAtomicSync(path, readFileSync(prevPath(path), 'utf8'));
      writeFileAtomicSync(statePath(path), JSON.stringify({ result: { rev, state: 'rolled-back', at: this.now(), error: reason } } satisfies RemoteState));
      rmSync(prevPath(path), { force: true });
    } catch (err: unknown) {
      this.opts.log.error({ err, rev }, 'rollback of the pushed config failed');
      return;
    }
    this.state = readState(statePath(path), this.opts.log);
    this.opts.log.warn({ rev, reason }, 'pushed config rolled back to the previous file');
    this.opts.restart(`rollback of revision ${rev}`);
  }

  stop(): void {
    clearInterval(this.pollTimer);
    clearTimeout(this.confirmTimer);
    this.pollTimer = undefined;
    this.confirmTimer = undefined;
  }

  private async save(state: RemoteState): Promise<void> {
    this.state = state;
    await writeFileAtomic(statePath(this.opts.configPath), JSON.stringify(state));
  }
}

function readState(path: string, log: Logger): RemoteState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // a damaged state file: as if none (the next pushed config writes it again)
  }
  log.warn({ path }, 'remote config state unreadable, ignored');
  return {};
}

/** When a config file does not load and a pushed config is pending, the previous file goes back (true: done). */
export function rollBackUnloadable(configPath: string, log: Logger, now = Date.now()): boolean {
  const state = readState(statePath(configPath), log);
  if (state.pending === undefined) return false;
  try {
    writeFileAtomicSync(configPath, readFileSync(prevPath(configPath), 'utf8'));
    writeFileAtomicSync(statePath(configPath), JSON.stringify({ result: { rev: state.pending.rev, state: 'rolled-back', at: now, error: 'the pushed config did not load' } } satisfies RemoteState));
  } catch (err: unknown) {
    log.error({ err }, 'rollback of the pushed config failed');
    return false;
  }
  return true;
}
