// Commands from the hub to one agent: published (QoS 1) on `ioc/v1/{site}/{agent}/cmd/{name}`, the agent's
// CommandDispatcher (edge/link/commands.ts) runs it and answers on `.../cmd-result/{id}`; the accept path takes
// only the results of ids issued here (IssuedCommands) and hands them back. Bounded: at most `maxPending`
// commands wait for their result at once, each at most its timeout; every refusal is counted (/metrics).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { cmdTopic, decodeCommandResult, type Command, type CommandResult } from '../../protocol/index.ts';
import type { IssuedCommands } from '../accept/budgets.ts';
import { Counter } from '../metrics.ts';

export interface CommandServiceDeps {
  publish(topic: string, payload: string): Promise<void>;
  /** The ids whose results the accept path lets through (shared with it). */
  issued: IssuedCommands;
  /** Is the agent connected now (a command to an offline agent is refused at once, not left to time out). */
  isConnected(site: string, agent: string): boolean;
  logger: Logger;
  now?: () => number;
  /** Commands waiting for their result at once (all agents): past it a new one is refused. */
  maxPending?: number;
  /** Default wait for a result. */
  timeoutMs?: number;
}

export interface SendOptions {
  timeoutMs?: number;
  /** Send even when the agent is not connected now (a retained-less QoS 1 publish reaches it only if it is). */
  ifOffline?: 'refuse' | 'send';
}

export type CommandFailureCode = 'E_AGENT_OFFLINE' | 'E_COMMAND_TIMEOUT' | 'E_COMMANDS_BUSY' | 'E_COMMANDS_STOPPED';

/** Why a command got no result (the agent's own failure is a result with ok: false, not this). */
export class CommandError extends Error {
  constructor(
    readonly code: CommandFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

interface Pending {
  site: string;
  agent: string;
  name: string;
  resolve: (r: CommandResult) => void;
  reject: (err: CommandError) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export class CommandService {
  readonly sent = new Counter('ioc_hub_commands_sent_total', 'Commands the hub sent to agents, by command', 'command');
  readonly outcomes = new Counter('ioc_hub_command_outcomes_total', 'Commands by outcome: ok, failed (the agent said so), timeout, offline, busy (maxPending reached), stopped', 'outcome');
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly deps: CommandServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ component: 'commands' });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** A fresh command id (the agent echoes it; topic-safe). */
  static newId(name: string, now = Date.now()): string {
    return `${name.slice(0, 40)}-${now.toString(36)}-${randomBytes(6).toString('hex')}`;
  }

  /**
   * Sends `name` with `args` to the agent and resolves with its result (ok or not). Rejects with a CommandError
   * when no result can come: agent offline, timeout, too many pending, service stopped.
   */
  async send(site: string, agent: string, name: string, args: Record<string, unknown> = {}, opts: SendOptions = {}): Promise<CommandResult> {
    if (this.stopped) throw this.refused('stopped', 'E_COMMANDS_STOPPED', 'the hub is stopping');
    if ((opts.ifOffline ?? 'refuse') === 'refuse' && !this.deps.isConnected(site, agent)) throw this.refused('offline', 'E_AGENT_OFFLINE', `agent ${site}/${agent} is not connected`);
    if (this.pending.size >= (this.deps.maxPending ?? 1000)) throw this.refused('busy', 'E_COMMANDS_BUSY', `${this.pending.size} commands already wait for their result`);
    const now = this.now();
    const id = CommandService.newId(name, now);
    const cmd: Command = { id, name, issuedAt: now, args };
    const timeoutMs = opts.timeoutMs ?? this.deps.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const result = new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.outcomes.inc(1, 'timeout');
        reject(new CommandError('E_COMMAND_TIMEOUT', `no result from ${site}/${agent} for ${name} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { site, agent, name, resolve, reject, timer });
    });
    // A result (or timeout) may come before the publish is acknowledged: the caller awaits it after the publish.
    result.catch(() => undefined);
    this.deps.issued.issued(site, agent, id, now);
    try {
      await this.deps.publish(cmdTopic(site, agent, name), JSON.stringify(cmd));
    } catch (err: unknown) {
      const p = this.pending.get(id);
      if (p !== undefined) {
        clearTimeout(p.timer);
        this.pending.delete(id);
      }
      throw err;
    }
    this.sent.inc(1, name);
    this.log.info({ site, agent, command: name, id }, 'command sent');
    return result;
  }

  /** A cmd-result the accept path let through (its id was issued to this agent): settles the waiting send. */
  resultArrived(site: string, agent: string, id: string, payload: Buffer): void {
    const p = this.pending.get(id);
    if (p === undefined || p.site !== site || p.agent !== agent) return;
    const decoded = decodeCommandResult(payload);
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (!decoded.ok) {
      this.outcomes.inc(1, 'failed');
      p.resolve({ id, ok: false, at: this.now(), error: `malformed result: ${decoded.error.message}`.slice(0, 1024) });
      return;
    }
    this.outcomes.inc(1, decoded.value.ok ? 'ok' : 'failed');
    p.resolve(decoded.value);
  }

  /** Rejects every waiting command; later sends are refused. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      this.outcomes.inc(1, 'stopped');
      p.reject(new CommandError('E_COMMANDS_STOPPED', 'the hub stopped before the result came'));
    }
  }

  private refused(outcome: string, code: CommandFailureCode, message: string): CommandError {
    this.outcomes.inc(1, outcome);
    return new CommandError(code, message);
  }
}

