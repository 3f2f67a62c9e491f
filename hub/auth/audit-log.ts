// The audit log: one JSON line per write made through the hub (acknowledge, silence, enroll, revoke, sites
// import), who/when/what, appended and fsynced before the answer; the CLI and a running hub share the file.
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HubError, errorCode, errorMessage } from '../errors.ts';

export interface AuditEntry {
  /** ISO time. */
  at: string;
  /** The login: `service:NAME` for the API, `cli:USER` for the command line. */
  who: string;
  /** e.g. `alert.ack`, `silence.create`, `silence.delete`, `agent.enroll`, `agent.revoke`, `sites.import`. */
  action: string;
  /** What it acted on: an alert id, a silence id, `site/agent`, a file. */
  target?: string;
  detail?: Record<string, unknown>;
}

/** The audit file of a hub: `audit.jsonl` beside the registry unless configured. */
export function auditLogPath(config: { registry: { path: string }; audit?: { path?: string | undefined } }): string {
  return config.audit?.path ?? join(dirname(config.registry.path), 'audit.jsonl');
}

const TAIL_BYTES = 1024 * 1024;

export class AuditLog {
  private chain: Promise<void> = Promise.resolve();
  /** Entries that could not be written (the write itself had happened). */
  failures = 0;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Appends one entry and fsyncs it; appends are serialized in this process (O_APPEND keeps other writers whole). */
  append(entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<void> {
    const line = `${JSON.stringify({ at: entry.at ?? new Date(this.now()).toISOString(), who: entry.who, action: entry.action, ...(entry.target === undefined ? {} : { target: entry.target }), ...(entry.detail === undefined ? {} : { detail: entry.detail }) })}\n`;
    const run = this.chain.then(async () => {
      const fh = await open(this.path, 'a', 0o600);
      try {
        await fh.write(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    this.chain = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.failures++;
      throw new HubError('E_AUDIT', `audit entry not written to ${this.path}: ${errorMessage(err)}`, { cause: err });
    });
  }

  /** The newest entries (newest last), at most `limit`, from the last MiB of the file. */
  async tail(limit: number): Promise<AuditEntry[]> {
    let text: string;
    try {
      const size = (await stat(this.path)).size;
      if (size <= TAIL_BYTES) text = await readFile(this.path, 'utf8');
      else {
        const fh = await open(this.path, 'r');
        try {
          const buf = Buffer.alloc(TAIL_BYTES);
          await fh.read(buf, 0, TAIL_BYTES, size - TAIL_BYTES);
          text = buf.toString('utf8');
          text = text.slice(text.indexOf('\n') + 1); // the first line is cut
        } finally {
          await fh.close();
        }
      }
    } catch (err: unknown) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // a torn last line of a crashed writer
      }
    }
    return out.slice(-limit);
  }
}
