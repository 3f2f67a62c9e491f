// The engine's state on disk (alerts, silences, resolved history, rule memory): one JSON file, validated with its
// schema on load, replaced atomically on save; writes are serialized and coalesced. A file that does not parse or
// does not match the schema is moved aside (`<path>.corrupt`), logged and counted, and the engine starts afresh:
// alerts re-derive from fresh data, which is better than a hub that does not start.
import { readFile, rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ALERT_STATES, SEVERITIES, describeIssues } from '../../protocol/index.ts';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { errorCode, errorMessage } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import type { Alert } from './alert.ts';
import { AlertError } from './errors.ts';
import type { Silence } from './silences.ts';

// Plain types, not the wire limits of protocol/: the file is checked for what the engine relies on.
const summarySchema = z.object({ vi: z.string(), en: z.string() });
const labelsSchema = z.record(z.string(), z.string());
const recordShape = {
  id: z.string(),
  site: z.string(),
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  state: z.enum(ALERT_STATES),
  since: z.number(),
  updatedAt: z.number(),
  value: z.number().optional(),
  summary: summarySchema,
  labels: labelsSchema,
  ackedBy: z.string().optional(),
  late: z.literal(true).optional(),
  endsAt: z.number().optional(),
};

const alertSchema = z.object({
  ...recordShape,
  key: z.string(),
  instance: z.string(),
  firingAt: z.number().optional(),
  active: z.boolean(),
  clearSince: z.number().optional(),
  announced: z.boolean(),
  forMs: z.number(),
  clearForMs: z.number(),
  holdMs: z.number(),
  marksSiteDown: z.boolean(),
  derived: z.boolean(),
  overflowOf: z.string().optional(),
}) satisfies z.ZodType<Alert>;

const silenceSchema = z.object({
  id: z.string(),
  kind: z.enum(['silence', 'maintenance']),
  sites: z.array(z.string()).optional(),
  areas: z.array(z.string()).optional(),
  rules: z.array(z.string()).optional(),
  severities: z.array(z.string()).optional(),
  allSites: z.literal(true).optional(),
  startsAt: z.number(),
  endsAt: z.number(),
  createdBy: z.string(),
  comment: z.string(),
}) satisfies z.ZodType<Silence>;

export const alertStateSchema = z.object({
  version: z.literal(1),
  alerts: z.array(alertSchema).default([]),
  silences: z.array(silenceSchema).default([]),
  history: z.array(z.object(recordShape)).default([]),
  /** Each rule's memory, checked by the rule itself (its `restore`). */
  rules: z.record(z.string(), z.unknown()).default({}),
});
export type AlertState = z.output<typeof alertStateSchema>;

export class AlertStateFile {
  private writing: Promise<void> | undefined;
  private next: string | undefined;
  private readonly log: Logger;
  /** Loads that found the file corrupt (and started afresh). */
  corrupt = 0;

  constructor(
    readonly path: string,
    logger?: Logger,
  ) {
    this.log = (logger ?? silentLogger()).child({ component: 'alert-state' });
  }

  /**
   * The stored state; undefined when there is none yet, or when the file is corrupt (then moved aside, logged and
   * counted). A file that cannot be read at all (permissions) throws E_ALERT_STATE_FILE: that needs an operator.
   */
  async load(): Promise<AlertState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err: unknown) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw new AlertError('E_ALERT_STATE_FILE', `cannot read alert state ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err: unknown) {
      return this.discard(`not valid JSON (${errorMessage(err)})`);
    }
    const parsed = alertStateSchema.safeParse(raw);
    if (!parsed.success) return this.discard(describeIssues(parsed.error.issues, 5));
    return parsed.data;
  }

  private async discard(problem: string): Promise<undefined> {
    this.corrupt++;
    const aside = `${this.path}.corrupt`;
    try {
      await rename(this.path, aside);
    } catch (err: unknown) {
      this.log.warn({ path: this.path, err: errorMessage(err) }, 'corrupt alert state not moved aside');
    }
    this.log.error({ code: 'E_ALERT_STATE_FILE', path: this.path, movedTo: aside, problem }, 'alert state file is corrupt: starting with no saved alerts, silences or rule memory');
    return undefined;
  }

  /** Queues a write of `state`; only the latest pending state is written. */
  save(state: AlertState): Promise<void> {
    return this.saveText(JSON.stringify(state));
  }

  /** Same, with the state already serialized (one pass over a large state instead of a copy and a pass). */
  saveText(text: string): Promise<void> {
    this.next = text;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.next !== undefined) {
      const text = this.next;
      this.next = undefined;
      await writeFileAtomic(this.path, `${text}\n`);
    }
  }

  /** Resolves once every queued write is on disk. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }
}

/**
 * Saves the state at most once per interval while it is dirty (rule memory can be large), and at stop. The
 * interval is measured on the real monotonic clock: the engine's clock may be a test's fake one.
 */
export class StateSaver {
  /** The state changed since the last snapshot. */
  dirty = false;
  private last = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly file: AlertStateFile,
    private readonly intervalMs: number,
    private readonly snapshot: () => AlertState,
    private readonly log: Logger,
  ) {}

  /** Saves now when due (or `force`), else once the interval is over. */
  persist(force: boolean): void {
    if (!this.dirty && !force) return;
    const now = performance.now();
    if (!force && now - this.last < this.intervalMs) {
      this.schedule();
      return;
    }
    this.last = now;
    this.dirty = false;
    this.file.saveText(JSON.stringify(this.snapshot())).catch((err: unknown) => {
      this.dirty = true;
      this.log.error({ err: errorMessage(err) }, 'alert state not saved');
    });
  }

  /** No more scheduled saves; the caller forces the last one and flushes the file. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.persist(false);
    }, this.intervalMs);
    this.timer.unref();
  }
}
