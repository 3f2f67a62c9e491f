// The A/B install of the agent: `<root>/current` is a symlink to the slot in use (`a`, `b`, or the folder of the
// first install), the other slot takes the next version, and `<root>/update-state.json` records the trial of a
// new version (its deadline and start attempts) for the launcher. Node built-ins only: the launcher reads it
// before anything else of the agent loads.
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface SlotState {
  /** trial: the new version runs until it proves healthy; committed: it did; rolled-back: it did not, `previous` runs. */
  state: 'trial' | 'committed' | 'rolled-back';
  version: string;
  slot: string;
  previous: string;
  previousVersion: string;
  /** Epoch ms: a trial not committed by then is switched back. */
  deadline: number;
  attempts: number;
  maxAttempts: number;
  reason?: string;
  at: number;
}

export const STATE_FILE = 'update-state.json';
export const CURRENT_LINK = 'current';

/** The slot folder (`<root>/<slot>`) of a file inside it at `<slot>/<sub>/<file>`, e.g. `edge/update/x.js`. */
export function slotDirOf(fileInSlot: string, depth: number): string {
  let d = fileInSlot;
  for (let i = 0; i < depth; i++) d = dirname(d);
  return d;
}

/** The install root when `slotDir` is the target of `<root>/current`; otherwise undefined (a checkout, a plain extract). */
export function installRootOf(slotDir: string): string | undefined {
  const root = dirname(slotDir);
  try {
    if (!lstatSync(join(root, CURRENT_LINK)).isSymbolicLink()) return undefined;
    return realpathSync(join(root, CURRENT_LINK)) === realpathSync(slotDir) ? root : undefined;
  } catch {
    return undefined;
  }
}

/** The slot `current` points at (its folder name under root). */
export function currentSlot(root: string): string {
  return basename(resolve(root, readlinkSync(join(root, CURRENT_LINK))));
}

/** The slot a new version goes into: `a`, unless `a` runs now. */
export function otherSlot(current: string): string {
  return current === 'a' ? 'b' : 'a';
}

/** Points `current` at `slot` atomically (a new link renamed over the old one). */
export function switchCurrent(root: string, slot: string): void {
  const tmp = join(root, `.${CURRENT_LINK}.${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(slot, tmp);
  renameSync(tmp, join(root, CURRENT_LINK));
}

export function readSlotState(root: string): SlotState | undefined {
  try {
    const raw: unknown = JSON.parse(readFileSync(join(root, STATE_FILE), 'utf8'));
    if (typeof raw !== 'object' || raw === null) return undefined;
    const s = raw as Partial<SlotState>;
    if ((s.state !== 'trial' && s.state !== 'committed' && s.state !== 'rolled-back') || typeof s.slot !== 'string' || typeof s.previous !== 'string' || typeof s.version !== 'string') return undefined;
    return {
      state: s.state,
      version: s.version,
      slot: s.slot,
      previous: s.previous,
      previousVersion: typeof s.previousVersion === 'string' ? s.previousVersion : '',
      deadline: typeof s.deadline === 'number' ? s.deadline : 0,
      attempts: typeof s.attempts === 'number' ? s.attempts : 0,
      maxAttempts: typeof s.maxAttempts === 'number' ? s.maxAttempts : 3,
      ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
      at: typeof s.at === 'number' ? s.at : 0,
    };
  } catch {
    return undefined; // none yet, or torn: no trial runs
  }
}

/** Writes the state durably (temp file, fsync, rename) so a power cut leaves the old or the new one. */
export function writeSlotState(root: string, state: SlotState): void {
  const file = join(root, STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(state)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Switches back to the previous slot and records why. */
export function rollBack(root: string, state: SlotState, reason: string, now: number): SlotState {
  switchCurrent(root, state.previous);
  const next: SlotState = { ...state, state: 'rolled-back', reason, at: now };
  writeSlotState(root, next);
  return next;
}

/**
 * The launcher's decision at each start of `run`: the slot to run and, during a trial, its deadline. A trial past
 * its deadline or its start attempts is switched back first (the new version could not start or stay healthy).
 */
export function launchStep(root: string, now: number): { slot: string; trialDeadline?: number; rolledBack?: SlotState } {
  const slot = currentSlot(root);
  const state = readSlotState(root);
  if (state === undefined || state.state !== 'trial' || state.slot !== slot) return { slot };
  if (now > state.deadline) {
    const rolled = rollBack(root, state, `not connected and sending within the health check (${state.attempts} starts)`, now);
    return { slot: rolled.previous, rolledBack: rolled };
  }
  if (state.attempts >= state.maxAttempts) {
    const rolled = rollBack(root, state, `did not stay up: ${state.attempts} starts without passing the health check`, now);
    return { slot: rolled.previous, rolledBack: rolled };
  }
  writeSlotState(root, { ...state, attempts: state.attempts + 1, at: now });
  return { slot, trialDeadline: state.deadline };
}
