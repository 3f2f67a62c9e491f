// The engine's state on disk: one JSON file replaced atomically; writes are serialized and coalesced.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { errorCode, errorMessage } from '../errors.ts';
import { AlertError } from './errors.ts';

export class JsonStateStore<T> {
  private writing: Promise<void> | undefined;
  private next: string | undefined;

  constructor(readonly path: string) {}

  /** The stored state, or undefined when there is none yet. */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err: unknown) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw new AlertError('E_ALERT_STATE_FILE', `cannot read alert state ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err: unknown) {
      throw new AlertError('E_ALERT_STATE_FILE', `alert state ${this.path} is not valid JSON`, { cause: err });
    }
  }

  /** Queues a write of `state`; only the latest pending state is written. */
  save(state: T): Promise<void> {
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
