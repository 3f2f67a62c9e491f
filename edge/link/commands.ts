// The command dispatcher: a command on `.../cmd/{name}` runs its registered handler, and the result (or
// the error) is what goes back on `.../cmd-result/{id}`.
import { cmdResultTopic, decodeCommand, parseTopic, type Command, type CommandResult } from '../../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';

export type CommandHandler = (cmd: Command) => Promise<unknown>;

export interface CommandReply {
  topic: string;
  payload: string;
}

export class CommandDispatcher {
  private readonly handlers = new Map<string, CommandHandler>();

  constructor(
    private readonly site: string,
    private readonly agent: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers the handler of command `name` (topic `.../cmd/{name}`). */
  handle(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  /** The reply to a message, or undefined when it is not a command to this agent or is malformed (logged). */
  async dispatch(topic: string, payload: Buffer): Promise<CommandReply | undefined> {
    const parsed = parseTopic(topic);
    if (parsed === null || parsed.kind !== 'cmd' || parsed.site !== this.site || parsed.agent !== this.agent) return undefined;
    const decoded = decodeCommand(payload);
    if (!decoded.ok) {
      this.log.warn({ topic, code: decoded.error.code, reason: decoded.error.message }, 'malformed command ignored');
      return undefined;
    }
    const cmd = decoded.value;
    const handler = this.handlers.get(parsed.name);
    let result: CommandResult;
    if (handler === undefined) {
      result = { id: cmd.id, ok: false, at: this.now(), error: `unknown command: ${parsed.name}` };
    } else {
      try {
        const value = await handler(cmd);
        result = { id: cmd.id, ok: true, at: this.now(), ...(value === undefined ? {} : { result: value }) };
      } catch (err: unknown) {
        result = { id: cmd.id, ok: false, at: this.now(), error: errorMessage(err).slice(0, 1024) };
      }
    }
    this.log.info({ command: parsed.name, id: cmd.id, ok: result.ok }, 'command handled');
    return { topic: cmdResultTopic(this.site, this.agent, cmd.id), payload: JSON.stringify(result) };
  }
}
