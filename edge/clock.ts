// Wall clock vs monotonic clock on a device without an RTC: tells whether the wall clock can be trusted yet.
import { existsSync } from 'node:fs';

export type ClockSyncState = 'synced' | 'unsynced' | 'unknown';

/** The clocks the batcher stamps and corrects points with (a fake one in tests). */
export interface EdgeClock {
  /** Wall clock, epoch ms. */
  now(): number;
  /** Monotonic ms (any origin): unaffected by NTP steps. */
  mono(): number;
  /** Whether the wall clock is NTP-synchronised. */
  syncState(): ClockSyncState;
}

const TIMESYNC_DIR = '/run/systemd/timesync';
const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';

/**
 * synced: IOC_EDGE_CLOCK_SYNCED=1 or timesyncd's flag file; unsynced: IOC_EDGE_CLOCK_SYNCED=0, or timesyncd
 * runs (its folder exists) without the flag yet; unknown: no way to tell (not systemd): points are not held.
 */
export function readClockSyncState(env: NodeJS.ProcessEnv = process.env, dir = TIMESYNC_DIR, flag = TIMESYNC_FLAG): ClockSyncState {
  const fromEnv = env.IOC_EDGE_CLOCK_SYNCED;
  if (fromEnv === '1' || fromEnv === 'true') return 'synced';
  if (fromEnv === '0' || fromEnv === 'false') return 'unsynced';
  if (existsSync(flag)) return 'synced';
  return existsSync(dir) ? 'unsynced' : 'unknown';
}

export const systemClock: EdgeClock = {
  now: () => Date.now(),
  mono: () => performance.now(),
  syncState: () => readClockSyncState(),
};
