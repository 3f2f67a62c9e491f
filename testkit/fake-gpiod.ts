// Test helper: a temp dir with fake gpiod tools on a PATH of their own (fake-gpiod.mjs), a fake /dev with
// gpiochip nodes, and a log of every tool run (to check no gpiomon outlives its collector).
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FakeChip {
  label: string;
  /** Line names by offset. */
  lines: string[];
}

export interface FakeBoardSpec {
  /** libgpiod version the tools claim: `1.6.3` or `2.1.3`. */
  version: string;
  chips: Record<string, FakeChip>;
  /** Physical levels, `gpiochip0:17` → 1 (default 0). */
  levels?: Record<string, number>;
  /** Lines another program holds (EBUSY). */
  busy?: string[];
  /** `gpiochip0:17` → a recorded gpiomon output that the fake replays. */
  recordings?: Record<string, string>;
  /** Which tools exist (default: 1.6 all four, 2.x without gpiofind). */
  tools?: string[];
  /** Put setpriv (util-linux) on the PATH too (default true). */
  setpriv?: boolean;
}

export interface ToolRun {
  tool: string;
  pid: number;
  args?: string[];
  exit?: number;
  msg?: string;
  /** gpiomon printed its whole recording. */
  replayed?: boolean;
}

export interface FakeGpiod {
  dir: string;
  devDir: string;
  env: NodeJS.ProcessEnv;
  runs(): Promise<ToolRun[]>;
  /** Waits until `n` gpiomon have printed their whole recording. */
  replayed(n: number, timeoutMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

const FAKE = fileURLToPath(new URL('./fake-gpiod.mjs', import.meta.url));

/** The 58 line names of a Pi 4's pinctrl-bcm2711 chip (GPIO0..GPIO27 on the header, then the SoC's own). */
export function pi4LineNames(): string[] {
  return Array.from({ length: 58 }, (_, i) => (i <= 27 ? `GPIO${i}` : `SOC${i}`));
}

export async function makeFakeGpiod(spec: FakeBoardSpec): Promise<FakeGpiod> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-gpiod-'));
  const bin = join(dir, 'bin');
  const devDir = join(dir, 'dev');
  await mkdir(bin);
  await mkdir(devDir);
  const logPath = join(dir, 'runs.log');
  await writeFile(join(dir, 'board.json'), JSON.stringify({ ...spec, log: logPath }));
  const tools = spec.tools ?? (spec.version.startsWith('1.') ? ['gpiomon', 'gpioget', 'gpiofind', 'gpioinfo'] : ['gpiomon', 'gpioget', 'gpioinfo']);
  for (const t of tools) {
    const p = join(bin, t);
    await writeFile(p, `#!/bin/sh\nexec '${process.execPath}' '${FAKE}' ${t} "$@"\n`);
    await chmod(p, 0o755);
  }
  if (spec.setpriv !== false && existsSync('/usr/bin/setpriv')) await symlink('/usr/bin/setpriv', join(bin, 'setpriv'));
  for (const c of Object.keys(spec.chips)) await writeFile(join(devDir, c), '');
  const runs = async (): Promise<ToolRun[]> => {
    const text = await readFile(logPath, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as ToolRun);
  };
  return {
    dir,
    devDir,
    // Only the fakes: the real tools in /usr/bin must not answer in their place.
    env: { PATH: bin, FAKE_GPIOD_DIR: dir },
    runs,
    async replayed(n, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while ((await runs()).filter((r) => r.replayed === true).length < n) {
        if (Date.now() > end) throw new Error(`fewer than ${n} gpiomon replays done`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Whether a process is still running (a zombie waiting for its new parent to reap it has ended). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
