// The agent as systemd runs it on a Pi, for tests: the shipped unit's ExecStart (its node flags, the launcher of
// `<root>/current`, its arguments) with /opt/ioc-edge mapped to a test folder and the config path replaced, and its
// `Restart=always` honoured: when the process exits (an update's restart, a crash) it is started again after
// `restartMs` (the unit's RestartSec, shortened for tests). An A/B install: a release tarball extracted into
// `<root>`, `<root>/current` linking to it, as the README's "Deploy to a Raspberry Pi" does.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, PROJECT_ROOT, spawnGuarded } from '../scripts/lib/child-process.ts';
import { unitExecStart } from './agent-sample.ts';

const UNIT = join(PROJECT_ROOT, 'edge', 'deploy', 'ioc-edge.service');
const INSTALL_ROOT = '/opt/ioc-edge';

/** Extracts a release tarball into `root` and points `root/current` at it; returns the release's folder name. */
export function installRelease(tarball: string, root: string): string {
  mkdirSync(root, { recursive: true });
  const r = spawnSync('tar', ['-xzf', tarball, '-C', root], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -xzf ${tarball}: ${r.stderr}`);
  const [folder] = readdirSync(root).filter((f) => f.startsWith('ioc-edge-agent-'));
  if (folder === undefined) throw new Error(`${tarball} holds no ioc-edge-agent-* folder`);
  symlinkSync(folder, join(root, 'current'));
  return folder;
}

export class EdgeUnit {
  private proc: ManagedProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Process starts so far. */
  starts = 0;
  readonly restartMs: number;
  private readonly exec: ReturnType<typeof unitExecStart>;

  constructor(
    readonly root: string,
    private readonly config: string,
    readonly logFile: string,
    opts: { restartMs?: number } = {},
  ) {
    const unit = readFileSync(UNIT, 'utf8');
    if (!/^Restart=always$/m.test(unit)) throw new Error('the unit no longer restarts always: the update restart relies on it');
    this.exec = unitExecStart(unit);
    this.restartMs = opts.restartMs ?? Number(/^RestartSec=(\d+)$/m.exec(unit)?.[1] ?? 5) * 1000;
  }

  private mapped(p: string): string {
    return p.startsWith(`${INSTALL_ROOT}/`) ? join(this.root, p.slice(INSTALL_ROOT.length + 1)) : p;
  }

  start(): void {
    if (this.stopping) return;
    this.starts += 1;
    const args = this.exec.args.map((a) => (a === '/etc/ioc-edge/agent.yaml' ? this.config : a));
    const fd = openSync(this.logFile, 'a');
    const child = spawnGuarded(process.execPath, [...this.exec.nodeFlags, this.mapped(this.exec.launcher), ...args], {
      cwd: join(this.root, 'current'),
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const proc = new ManagedProcess(`ioc-edge unit ${this.root}`, child, this.logFile, true);
    this.proc = proc;
    void proc.exited.then(() => {
      if (this.stopping || this.proc !== proc) return;
      this.timer = setTimeout(() => this.start(), this.restartMs);
    });
  }

  get running(): boolean {
    return this.proc?.running === true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.proc?.stop();
  }
}
