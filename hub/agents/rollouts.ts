// The rollout runner: drives the running rollout (release-store.ts) one tick at a time. Wave by wave, it sends each
// connected agent of the wave the `update` command (manifest URL + signature, commands.ts), then waits for the
// agent to come back on the new version and say, through `update-status`, that the version is committed (the
// agent's health check passed). An agent that refuses (a bad signature), times out, or comes back switched to
// its old version failed. When a wave's failures pass the rollout's `maxFailures` the rollout stops; when every
// agent of a wave is done, failed or offline, the next wave starts. Offline agents are sent the update when they
// connect again (agentState events kick a tick), in whichever wave they are, while the rollout runs.
import type { Logger } from 'pino';
import type { CommandResult } from '../../protocol/index.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import { Counter } from '../metrics.ts';
import type { AgentStateTable } from './agent-state.ts';
import { CommandError, type CommandService } from './commands.ts';
import type { ReleaseStore, RolloutAgent, RolloutRecord } from './release-store.ts';

export interface RolloutRunnerDeps {
  store: ReleaseStore;
  commands: Pick<CommandService, 'send'>;
  agentState: AgentStateTable;
  audit: AuditLog;
  logger: Logger;
  /** The hub's HTTP address as agents reach it. */
  baseUrl: () => string;
  tickMs: number;
  agentTimeoutMs: number;
  parallel: number;
  now?: () => number;
}

const key = (site: string, agent: string): string => `${site}/${agent}`;
/** How long an agent has to download and verify a bundle before its `update` command times out. */
const UPDATE_COMMAND_TIMEOUT_MS = 10 * 60_000;
const STATUS_CHECK_EVERY_MS = 2000;
const PROBE_TIMEOUT_MS = 10_000;

/** The agent did not answer the probe before `update`: nothing was sent, it stays pending. */
class ProbeFailed extends Error {
  constructor(cause: unknown) {
    super('no answer to update-status', { cause });
  }
}

export class RolloutRunner {
  readonly outcomes = new Counter('ioc_hub_update_outcomes_total', 'Agents of rollouts by outcome: updated, refused (the agent said no: bad signature, download), rolled_back, timeout', 'outcome');
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  /** Agents with a command in flight (update or update-status). */
  private readonly busy = new Set<string>();
  private readonly lastCheck = new Map<string, number>();
  /** What an agent said of its install (download and unpack time), for its outcome's detail. */
  private readonly installed = new Map<string, { at: number; text: string }>();

  constructor(private readonly deps: RolloutRunnerDeps) {
    this.log = deps.logger.child({ component: 'rollouts' });
    this.now = deps.now ?? Date.now;
    deps.agentState.onEvent((e) => {
      if (e.kind === 'connection' ? e.connected : e.status.online) this.kick();
    });
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.kick(), this.deps.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs a tick now (or right after the one running). */
  kick(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    void this.tick()
      .catch((err: unknown) => this.log.error({ err }, 'rollout tick failed'))
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          setTimeout(() => this.kick(), 50).unref();
        }
      });
  }

  private async tick(): Promise<void> {
    const status = this.deps.store.status();
    if (status === undefined) return;
    const { rollout, agents } = status;
    const now = this.now();
    // Agents installing when a rollout stopped still finish, and their outcome is recorded.
    for (const a of agents) if (a.state === 'installing') this.watchInstalling(rollout, a, now);
    if (rollout.state !== 'running') return;
    const wave = agents.filter((a) => a.wave === rollout.wave);
    const failed = wave.filter((a) => a.state === 'failed').length;
    if (failed > rollout.maxFailures) {
      const reason = `wave ${rollout.wave}: ${failed} of ${wave.length} agents failed (more than ${rollout.maxFailures})`;
      this.deps.store.advance(rollout.id, { state: 'stopped', reason }, now);
      this.log.warn({ rollout: rollout.id, version: rollout.version, wave: rollout.wave, failed }, 'rollout stopped: too many failures');
      await this.audit('release.rollout.stopped', rollout, { reason, wave: rollout.wave, failed });
      return;
    }
    const settled = (a: RolloutAgent): boolean => a.state === 'done' || a.state === 'failed' || (a.state === 'pending' && !this.connected(a));
    const lastWave = Math.max(...agents.map((a) => a.wave));
    if (wave.every(settled)) {
      if (rollout.wave < lastWave) {
        this.deps.store.advance(rollout.id, { wave: rollout.wave + 1 }, now);
        this.log.info({ rollout: rollout.id, version: rollout.version, wave: rollout.wave + 1 }, 'rollout: next wave');
        await this.audit('release.rollout.wave', rollout, { wave: rollout.wave + 1, done: wave.filter((a) => a.state === 'done').length, failed });
        this.kick();
        return;
      }
      if (agents.every((a) => a.state === 'done' || a.state === 'failed')) {
        this.deps.store.advance(rollout.id, { state: 'done' }, now);
        this.log.info({ rollout: rollout.id, version: rollout.version }, 'rollout done');
        await this.audit('release.rollout.done', rollout, { done: agents.filter((a) => a.state === 'done').length, failed: agents.filter((a) => a.state === 'failed').length });
        return;
      }
    }
    // Agents of this wave and of earlier ones (offline until now) that are connected and not updated yet.
    const release = this.deps.store.getRelease(rollout.version);
    if (release === undefined) return;
    const inFlight = agents.filter((a) => a.state === 'installing').length + this.busy.size;
    let room = this.deps.parallel - inFlight;
    for (const a of agents) {
      if (room <= 0) break;
      if (a.wave > rollout.wave || a.state !== 'pending' || !this.connected(a) || this.busy.has(key(a.site, a.agent))) continue;
      room--;
      this.sendUpdate(rollout, a, release.signature);
    }
  }

  private connected(a: { site: string; agent: string }): boolean {
    return this.deps.agentState.get(a.site, a.agent)?.connected === true;
  }

  private sendUpdate(rollout: RolloutRecord, a: RolloutAgent, signature: string): void {
    const k = key(a.site, a.agent);
    this.busy.add(k);
    const manifestUrl = `${this.deps.baseUrl().replace(/\/+$/, '')}/releases/${encodeURIComponent(rollout.version)}/manifest.json`;
    let sentAt = this.now();
    // An agent that has just connected may not have subscribed to its commands yet (its status comes first): a short
    // `update-status` proves it listens before the long `update` is sent; no answer leaves it pending for the next tick.
    void this.deps.commands
      .send(a.site, a.agent, 'update-status', {}, { timeoutMs: PROBE_TIMEOUT_MS })
      .then(() => {
        sentAt = this.now();
        return this.deps.commands.send(a.site, a.agent, 'update', { version: rollout.version, manifestUrl, signature }, { timeoutMs: UPDATE_COMMAND_TIMEOUT_MS });
      }, (err: unknown) => {
        throw new ProbeFailed(err);
      })
      .then(async (r: CommandResult) => {
        if (!r.ok) return await this.finish(rollout, a, 'failed', 'refused', `refused: ${r.error ?? 'no reason given'}`);
        const already = typeof r.result === 'object' && r.result !== null && 'already' in r.result && r.result.already === true;
        if (already) return await this.finish(rollout, a, 'done', 'updated', 'already on this version');
        const res = typeof r.result === 'object' && r.result !== null ? (r.result as Record<string, unknown>) : {};
        const secs = (v: unknown): string => (typeof v === 'number' ? (v / 1000).toFixed(1) : '?');
        this.installed.set(k, { at: this.now(), text: `download ${secs(res.downloadMs)} s, unpack ${secs(res.unpackMs)} s, answered after ${((this.now() - sentAt) / 1000).toFixed(1)} s` });
        this.deps.store.setAgent(rollout.id, a.site, a.agent, { state: 'installing', sentAt, detail: 'installed, restarting into it' });
        return undefined;
      })
      .catch(async (err: unknown) => {
        // Not listening yet, or offline between the check and the send: it gets the update at a later tick.
        if (err instanceof ProbeFailed) return;
        if (err instanceof CommandError && err.code === 'E_AGENT_OFFLINE') return;
        if (err instanceof CommandError && err.code === 'E_COMMANDS_BUSY') return;
        await this.finish(rollout, a, 'failed', 'timeout', `no answer to update: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.busy.delete(k);
        this.kick();
      });
  }

  /** An agent that accepted: done once it runs the version, committed; failed if it came back switched to its old one. */
  private watchInstalling(rollout: RolloutRecord, a: RolloutAgent, now: number): void {
    const k = key(a.site, a.agent);
    if (now - (a.sentAt ?? now) > this.deps.agentTimeoutMs) {
      void this.finish(rollout, a, 'failed', 'timeout', `not running ${rollout.version}, committed, within ${Math.round(this.deps.agentTimeoutMs / 1000)} s`);
      return;
    }
    if (!this.connected(a) || this.busy.has(k) || now - (this.lastCheck.get(k) ?? 0) < STATUS_CHECK_EVERY_MS) return;
    this.lastCheck.set(k, now);
    this.busy.add(k);
    void this.deps.commands
      .send(a.site, a.agent, 'update-status', {}, { timeoutMs: 10_000 })
      .then(async (r) => {
        const s = slotStateOf(r.result);
        if (s === undefined || s.version !== rollout.version) return; // the agent wrote its trial before it accepted
        const how = this.installed.get(k);
        const timing = how === undefined ? '' : `; ${how.text}, restart and health check ${((this.now() - how.at) / 1000).toFixed(1)} s`;
        if (s.state === 'committed') await this.finish(rollout, a, 'done', 'updated', `running ${rollout.version} (${s.attempts} starts${timing})`);
        else if (s.state === 'rolled-back') await this.finish(rollout, a, 'failed', 'rolled_back', `rolled back to ${s.previousVersion}: ${s.reason ?? 'no reason given'}`);
      })
      .catch(() => undefined) // restarting: asked again at the next tick
      .finally(() => this.busy.delete(k));
  }

  private async finish(rollout: RolloutRecord, a: RolloutAgent, state: 'done' | 'failed', outcome: string, detail: string): Promise<void> {
    this.installed.delete(key(a.site, a.agent));
    this.deps.store.setAgent(rollout.id, a.site, a.agent, { state, detail, doneAt: this.now() });
    this.outcomes.inc(1, outcome);
    this.log.info({ rollout: rollout.id, version: rollout.version, site: a.site, agent: a.agent, outcome, detail }, 'agent update finished');
    await this.audit('release.update', rollout, { outcome, detail }, `${a.site}/${a.agent}`);
    this.kick();
  }

  private async audit(action: string, rollout: RolloutRecord, detail: Record<string, unknown>, target?: string): Promise<void> {
    try {
      await this.deps.audit.append({ who: 'hub', action, target: target ?? `rollout ${rollout.id}`, detail: { version: rollout.version, rollout: rollout.id, ...detail } });
    } catch (err: unknown) {
      this.log.error({ err, action }, 'audit entry not written');
    }
  }
}

interface ReportedSlotState {
  state: string;
  version: string;
  previousVersion: string;
  attempts: number;
  reason?: string;
  at: number;
}

/** The `state` of an agent's `update-status` result (edge/update/updater.ts UpdateStatus), if it has one. */
function slotStateOf(result: unknown): ReportedSlotState | undefined {
  if (typeof result !== 'object' || result === null || !('state' in result)) return undefined;
  const s: unknown = result.state;
  if (typeof s !== 'object' || s === null) return undefined;
  const o = s as Record<string, unknown>;
  if (typeof o.state !== 'string' || typeof o.version !== 'string' || typeof o.at !== 'number') return undefined;
  return {
    state: o.state,
    version: o.version,
    previousVersion: typeof o.previousVersion === 'string' ? o.previousVersion : '',
    attempts: typeof o.attempts === 'number' ? o.attempts : 0,
    ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
    at: o.at,
  };
}
