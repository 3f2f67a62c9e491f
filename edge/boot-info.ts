// Facts about this boot of the device that go into the retained status message.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';

let processBootId: string | undefined;

/** The kernel's boot id when readable, else a random id per process (stable for its life). */
export function readBootId(path = BOOT_ID_PATH): string {
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (id.length > 0) return id.slice(0, 64);
  } catch {
    // not Linux, or no /proc: use a per-process id
  }
  processBootId ??= randomUUID();
  return processBootId;
}

/**
 * Whether the clock is NTP-synchronised: an explicit override (option or IOC_EDGE_CLOCK_SYNCED=1/0)
 * wins, else systemd-timesyncd's flag file. A Pi has no RTC, so before sync its clock can be far off.
 */
export function readClockSynced(override?: boolean, env: NodeJS.ProcessEnv = process.env, flagPath = TIMESYNC_FLAG): boolean {
  if (override !== undefined) return override;
  const fromEnv = env.IOC_EDGE_CLOCK_SYNCED;
  if (fromEnv === '1' || fromEnv === 'true') return true;
  if (fromEnv === '0' || fromEnv === 'false') return false;
  return existsSync(flagPath);
}
