// The README's first command, shortened: the demo starts everything, data becomes queryable, it stops cleanly;
// its state (tokens, registry) stays outside the checkout; one demo per state folder; an agent may stop under it.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runProgram } from '../testkit/child-process.ts';
import { demoStateDir } from '../testkit/demo-state.ts';

interface Demo {
  child: ChildProcessByStdio<null, Readable, Readable>;
  output: () => string;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  closed: Promise<number | null>;
}

const running: Demo[] = [];
const dirs: string[] = [];

function startDemo(args: readonly string[], env: NodeJS.ProcessEnv): Demo {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'demo.ts'), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: string): void => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const demo: Demo = {
    child,
    output: () => out,
    closed,
    waitFor: (re, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m === null) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${re} in the demo output:\n${out}`));
        }, timeoutMs);
        void closed.then(() => setTimeout(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`the demo exited without ${re}:\n${out}`));
          }
        }, 50));
        listeners.add(check);
        check();
      }),
  };
  running.push(demo);
  return demo;
}

function stateHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-demo-state-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const d of running) {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGTERM');
      const t = setTimeout(() => d.child.kill('SIGKILL'), 20_000);
      await d.closed;
      clearTimeout(t);
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The `export NAME=value` lines the demo prints for the CLIs. */
function exportedEnv(out: string): Record<string, string> {
  return Object.fromEntries([...out.matchAll(/^ {2}export (IOC_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

describe('npm run demo', () => {
  it('--help exits 0 with options, environment, example and exit status; a usage error exits 2', async () => {
    const help = startDemo(['--help'], {});
    expect(await help.closed).toBe(0);
    expect(help.output()).toMatch(/^usage: npm run demo -- [^]*Options:\n[^]*--data-dir DIR[^]*Environment:\n {2}IOC_DEMO_DIR[^]*Example:\n[^]*Exit status:\n {2}0 /);
    const bad = startDemo(['--sites', '3', '--bogus'], {});
    expect(await bad.closed).toBe(2);
    expect(bad.output()).toMatch(/^demo: unknown option --bogus/);
  }, 60_000);

  it('starts influxd, the hub, simulated offices and a real agent, prints live lines and the CLI environment, refuses a second demo, and stops cleanly, leaving no secret in the checkout', async () => {
    const xdg = stateHome();
    const demo = startDemo(['--sites', '5', '--interval-ms', '1000', '--duration', '20'], { XDG_STATE_HOME: xdg });
    await demo.waitFor(/Ctrl-C stops everything\./);
    const out0 = demo.output();
    expect(out0).toMatch(/InfluxDB\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(out0).toMatch(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(out0).toMatch(/Node-RED\s+http:\/\/127\.0\.0\.1:\d+/);
    // The console comes first, with a login per role that works.
    expect(out0.split('\n')[1]).toMatch(/^ {2}Console\s+http:\/\/127\.0\.0\.1:\d+\//);
    const consoleUrl = /Console\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out0)?.[1] ?? '';
    const tech = /login ky-thuat\s+password (\S+)\s+\(technician\)/.exec(out0)?.[1] ?? '';
    expect(out0).toMatch(/login dieu-hanh\s+password \S+\s+\(operator\)/);
    const login = await fetch(`${consoleUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ky-thuat', password: tech }) });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { user: { role: string } }).user.role).toBe('technician');
    expect((await fetch(`${consoleUrl}/`)).headers.get('content-type')).toMatch(/^text\/html/);
    // The wall beside it, open without a login.
    expect(out0).toContain(`  Wall         ${consoleUrl}/wall.html`);
    expect((await fetch(`${consoleUrl}/wall.html`)).headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${consoleUrl}/api/wall`)).status).toBe(200);
    const state = demoStateDir(PROJECT_ROOT, { XDG_STATE_HOME: xdg });
    expect(out0).toContain(`state        ${state}`);

    // The printed environment is all the CLIs need: no --url, no --config, no token copied by hand.
    const env = exportedEnv(out0);
    expect(Object.keys(env).sort()).toEqual(['IOC_EDGE_HUB_URL', 'IOC_HUB_API_TOKEN', 'IOC_HUB_API_URL', 'IOC_HUB_CONFIG']);
    const bare = { IOC_HUB_API_URL: '', IOC_HUB_API_TOKEN: '', IOC_HUB_CONFIG: '', IOC_EDGE_HUB_URL: '' };
    const withEnv = { ...bare, ...env };
    const [sitesList, alertsList, silence, noEnv] = await Promise.all([
      runProgram('ioc-hub', ['sites', 'list'], { env: withEnv }),
      runProgram('ioc-hub', ['alerts', 'list'], { env: withEnv }),
      runProgram('ioc-hub', ['silences', 'add', '--site', 'xa-lap-thach', '--duration', '1h', '--comment', 'demo test'], { env: withEnv }),
      runProgram('ioc-hub', ['silences', 'add', '--site', 'xa-lap-thach', '--duration', '1h', '--url', env.IOC_HUB_API_URL ?? ''], { env: bare }),
    ]);
    expect(sitesList.code, sitesList.stderr).toBe(0);
    expect(sitesList.stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(6);
    expect(alertsList.code, alertsList.stderr).toBe(0);
    expect(silence.code, silence.stderr).toBe(0);
    expect(JSON.parse(silence.stdout)).toMatchObject({ silence: { sites: ['xa-lap-thach'], createdBy: 'operator' } });
    expect(noEnv.code).toBe(1); // without the token the write is refused: the env is what made it work
    expect(noEnv.stderr).toMatch(/401 E_AUTH/);

    // A second demo on the same state is refused and the first goes on.
    const second = startDemo(['--sites', '2', '--duration', '5'], { XDG_STATE_HOME: xdg });
    const secondCode = await second.closed;
    expect(secondCode).not.toBe(0);
    expect(second.output()).toContain(`demo: another demo (pid ${demo.child.pid}) is running on ${state}: stop it first`);
    expect(second.output()).not.toMatch(/InfluxDB\s+http/);
    const statusLines = (): number => [...demo.output().matchAll(/agents online/g)].length;
    const before = statusLines();
    const deadline = Date.now() + 60_000;
    while (statusLines() <= before && Date.now() < deadline && demo.child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(statusLines(), demo.output()).toBeGreaterThan(before);

    const code = await demo.closed;
    const out = demo.output();
    const firstPoints = /first points queryable in InfluxDB after ([\d.]+) s/.exec(out);
    expect(firstPoints, out).not.toBeNull();
    // 8 s on a quiet machine (README); the suite runs 50- and 20-agent tests beside this one (38 s seen there).
    expect(Number(firstPoints?.[1])).toBeLessThan(60);
    // Every commune with an agent shows its state on the wall, from fresh data.
    const wall = /wall populated after ([\d.]+) s: the 6 communes with an agent show their state; (\d+) tiles \(([^)]*)\)/.exec(out);
    expect(wall, out).not.toBeNull();
    expect(Number(wall?.[2])).toBeGreaterThan(6); // the province's other communes: tiles too, blind until they have an agent
    const lines = [...out.matchAll(/agents online (\d+)\/6 · received (\d+) points .* stored (\d+) · rejected (\d+)/g)];
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const lastLine = lines.at(-1);
    expect(Number(lastLine?.[1])).toBe(6);
    expect(Number(lastLine?.[2])).toBeGreaterThan(0);
    expect(Number(lastLine?.[4])).toBe(0);
    for (const part of ['ioc-edge run', 'ioc-edge simulate', 'node-red', 'mail sink', 'ioc-hub start', 'influxd']) expect(out).toContain(`stopped ${part}`);
    expect(code, out).toBe(0);
    expect(existsSync(join(state, 'demo.pid'))).toBe(false); // the lock is released
    expect(existsSync(join(state, 'registry.db'))).toBe(true);

    // Nothing secret in the checkout, not even ignored.
    const status = spawnSync('git', ['status', '--porcelain', '--ignored'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(status.status).toBe(0);
    expect(status.stdout.split('\n').filter((l) => /registry|credential|token|env\.sh|notify\.yaml|agent\.yaml|hub\.yaml|\.demo|node-red\//.test(l))).toEqual([]);
  }, 240_000);

  it('goes on when its real agent is stopped and says so; takes over the lock of a dead demo', async () => {
    const xdg = stateHome();
    const state = demoStateDir(PROJECT_ROOT, { XDG_STATE_HOME: xdg });
    mkdirSync(state, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(state, 'demo.pid'), `${dead.stdout}\n`);
    const demo = startDemo(['--sites', '2', '--interval-ms', '1000', '--duration', '15'], { XDG_STATE_HOME: xdg });
    await demo.waitFor(new RegExp(`demo: taking over the lock of demo pid ${dead.stdout}, which is no longer running`));
    const agentPid = Number((await demo.waitFor(/real agent {3}pid (\d+)/))[1]);
    await demo.waitFor(/agents online 3\/3/);
    process.kill(agentPid, 'SIGTERM');
    // the agent stops cleanly on SIGTERM: exit code 0
    await demo.waitFor(new RegExp(`ioc-edge run \\(pid ${agentPid}\\) stopped \\(exit code 0\\); the demo goes on\\. phuong-[a-z-]+ is offline: the hub raises site-offline`));
    await demo.waitFor(/stopped \(exit code 0\); the demo goes on[^]*agents online 2\/3/);
    const code = await demo.closed;
    const out = demo.output();
    expect(out).not.toMatch(/exited unexpectedly/);
    for (const part of ['ioc-edge simulate', 'node-red', 'ioc-hub start', 'influxd']) expect(out).toContain(`stopped ${part}`);
    expect(code, out).toBe(0);
  }, 240_000);
});
