import { describe, expect, it } from 'vitest';
import { parseShellCommand, problemsOf, scanNodeRedFlows, scanPackageScripts, scanSources, type SpawnSite } from './spawned-programs.ts';

const allowed = { os: new Set(['socat', 'influxd', 'ping', 'sh']), node: new Set(['node', 'tsx']), npmBins: new Set(['vitest']) };

function programs(code: string, file = 'x.ts'): string[][] {
  return scanSources([{ file, text: code }]).map((s) => s.programs);
}

describe('spawned-programs scanner', () => {
  it('fails on a program missing from the list, naming the file and line', () => {
    const code = ["import { spawn } from 'node:child_process';", '', "spawn('mosquitto', ['-p', '1883']);", "spawn('socat', ['-d']);"].join('\n');
    const sites = scanSources([{ file: 'test/broker.test.ts', text: code }]);
    expect(sites.map((s) => [s.line, s.programs])).toEqual([
      [3, ['mosquitto']],
      [4, ['socat']],
    ]);
    const problems = problemsOf(sites, allowed);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^test\/broker\.test\.ts:3: spawn starts `mosquitto`, not in scripts\/os-packages\.json/);
  });

  it('sees every child_process function, also renamed, through a namespace, require(), import() or promisify()', () => {
    const code = [
      "import * as cp from 'node:child_process';",
      "import { execFile as ef, execFileSync, spawnSync } from 'child_process';",
      "import { promisify } from 'node:util';",
      "const { spawn: sp } = require('child_process');",
      'const run = promisify(ef);',
      "cp.spawn('a1');",
      "ef('a2', []);",
      "execFileSync('a3');",
      "spawnSync('a4');",
      "sp('a5');",
      "await run('a6', []);",
      'async function later() {',
      "  const { execFile } = await import('node:child_process');",
      "  execFile('a7');",
      '}',
      "cp.fork('./worker.js');",
    ].join('\n');
    expect(programs(code)).toEqual([['a1'], ['a2'], ['a3'], ['a4'], ['a5'], ['a6'], ['a7'], ['node']]);
  });

  it('does not take RegExp.exec or a method named spawn on another object for a spawn', () => {
    const code = ["import { spawn } from 'node:child_process';", "const m = /x(\\d+)/.exec('x1');", "pool.spawn('thing');", 'other.exec("ls");'].join('\n');
    expect(programs(code)).toEqual([]);
  });

  it('follows constants, let assignments, ??, conditionals, arrays with find, paths, imports and returning functions', () => {
    const consts = "export const SOCAT = 'socat';\n";
    const code = [
      "import { execFile, spawn } from 'node:child_process';",
      "import { existsSync } from 'node:fs';",
      "import { join } from 'node:path';",
      "import { SOCAT } from './consts.ts';",
      "const BIN = 'b1';",
      'spawn(BIN);',
      "let tool = 'b2';",
      "if (x) tool = 'b3';",
      'spawn(tool);',
      "spawn(flag ? 'b4' : process.execPath);",
      "const found = ['/usr/bin/b5', '/usr/local/bin/b5'].find((p) => existsSync(p));",
      "if (found !== undefined) execFile(found, ['-q']);",
      "spawn(join('/opt', 'bin', 'b6'));",
      'spawn(SOCAT);',
      "function tool2(): string { return 'b7'; }",
      'spawn(tool2());',
      "for (const b of ['b8', 'b9']) spawn(b);",
      "const v = 'b10';",
      'spawn(`${v}`);',
    ].join('\n');
    const sites = scanSources([
      { file: 'dir/consts.ts', text: consts },
      { file: 'dir/x.ts', text: code },
    ]);
    expect(sites.map((s) => s.programs)).toEqual([['b1'], ['b2', 'b3'], ['b4', 'node'], ['b5'], ['b6'], ['socat'], ['b7'], ['b8', 'b9'], ['b10']]);
    expect(sites.flatMap((s) => s.unresolved)).toEqual([]);
  });

  it('follows a program passed through a helper parameter to its callers, also an option with a default, a static method and a constructor', () => {
    const lib = [
      "import { spawn } from 'node:child_process';",
      'export function startServer(program: string, args: string[]) {',
      '  return spawn(program, args);',
      '}',
      'export class Server {',
      '  static start(opts: { binary?: string } = {}) {',
      "    return spawn(opts.binary ?? 'influxd', []);",
      '  }',
      '  constructor(readonly bin: string) {',
      '    spawn(bin);',
      '  }',
      '}',
    ].join('\n');
    const user = [
      "import { startServer, Server } from '../scripts/lib.ts';",
      "startServer('mosquitto', []);",
      'Server.start();',
      'Server.start({ dir: "/tmp" });',
      "Server.start({ binary: '/usr/sbin/influxd2' });",
      "new Server('redis-server');",
    ].join('\n');
    const sites = scanSources([
      { file: 'scripts/lib.ts', text: lib },
      { file: 'test/user.test.ts', text: user },
    ]);
    expect(sites.map((s) => [s.line, s.programs])).toEqual([
      [3, ['mosquitto']],
      [7, ['influxd', 'influxd2']],
      [10, ['redis-server']],
    ]);
    // a program missing from the list is reported where it is passed, not only inside the helper
    expect(problemsOf(sites, { os: new Set(['influxd', 'influxd2', 'redis-server']), node: new Set() })).toEqual([
      'test/user.test.ts:2: passes `mosquitto` to the spawn at scripts/lib.ts:3, not in scripts/os-packages.json (add {"bin": "mosquitto", "pkg": "<its Debian package>", …})',
    ]);
  });

  it('follows a helper and a constant through re-exports (testkit/ re-exports scripts/lib for the tests)', () => {
    const lib = ["import { spawn } from 'node:child_process';", "export const DAEMON = 'redis-server';", 'export function startServer(program: string) {', '  return spawn(program, []);', '}'].join('\n');
    const sites = scanSources([
      { file: 'scripts/lib.ts', text: lib },
      { file: 'testkit/server.ts', text: "export { startServer, DAEMON as SERVER } from '../scripts/lib.ts';" },
      { file: 'testkit/again.ts', text: "export { startServer } from './server.ts';" },
      { file: 'test/a.test.ts', text: ["import { startServer, SERVER } from '../testkit/server.ts';", "startServer('mosquitto');", 'startServer(SERVER);'].join('\n') },
      { file: 'test/b.test.ts', text: ["import { startServer } from '../testkit/again.ts';", "startServer('socat');"].join('\n') },
      { file: 'test/c.test.ts', text: ["import { startServer } from './elsewhere.ts';", "startServer('not-this-one');"].join('\n') },
    ]);
    expect(sites.map((s) => [s.line, s.programs, s.unresolved])).toEqual([[4, ['mosquitto', 'redis-server', 'socat'], []]]);
  });

  it('reads the programs of shell command lines: sh -c, exec, shell: true', () => {
    const code = [
      "import { exec, execSync, spawn } from 'node:child_process';",
      "spawn('sh', ['-c', 'FOO=1 mosquitto -d && sleep 1; exec socat a b | tee log']);",
      "exec('cat /etc/hostname');",
      "execSync('command -v influxd || apt-get install -y influxdb');",
      "spawn('redis-server --port 1', { shell: true });",
    ].join('\n');
    expect(programs(code)).toEqual([['mosquitto', 'sh', 'sleep', 'socat', 'tee'], ['cat', 'sh'], ['apt-get', 'sh'], ['redis-server', 'sh']]);
  });

  it('reports what it cannot read, unless an os-program comment names it', () => {
    const code = [
      "import { execFile } from 'node:child_process';",
      'export function probe(config: { path: string }) {',
      '  execFile(config.path, []);',
      '}',
      'execFile(process.env.TOOL ?? "x", []);',
      '// os-program: vcgencmd',
      'execFile(readConfig().bin, []);',
    ].join('\n');
    const sites = scanSources([
      { file: 'edge/x.ts', text: code },
      { file: 'edge/y.ts', text: "import { probe } from './x.ts';\nprobe(loadConfig());\n" },
    ]);
    expect(sites.map((s) => s.programs)).toEqual([[], ['x'], ['vcgencmd']]);
    expect(sites[0]?.unresolved[0]).toMatch(/loadConfig\(\).*passed to probe\(\) at edge\/y\.ts:2/);
    expect(sites[1]?.unresolved[0]).toMatch(/process\.env\.TOOL/);
    expect(sites[2]?.unresolved).toEqual([]);
    expect(problemsOf(sites, { os: new Set(['x', 'vcgencmd']), node: new Set() }).map((p) => p.replace(/ \(.*/, ''))).toEqual([
      'edge/x.ts:3: execFile: cannot tell which program it starts',
      'edge/x.ts:5: execFile: cannot tell which program it starts',
    ]);
  });

  it('reads npm scripts (allowing npm bins there) and Node-RED exec nodes', () => {
    const pkg = JSON.stringify({ scripts: { test: 'node scripts/ensure.mjs && vitest run', demo: 'mosquitto -d; tsx scripts/demo.ts' } }, null, 2);
    const scripts = scanPackageScripts('package.json', pkg);
    expect(scripts.map((s) => [s.via, s.programs, s.line])).toEqual([
      ['npm script "test"', ['node', 'vitest'], 3],
      ['npm script "demo"', ['mosquitto', 'tsx'], 4],
    ]);
    expect(problemsOf(scripts, allowed)).toEqual([expect.stringMatching(/^package\.json:4: npm script "demo" starts `mosquitto`/)]);
    const flows = JSON.stringify([{ id: 'n1', type: 'inject' }, { id: 'n2', type: 'exec', command: '/usr/bin/espeak hello' }]);
    expect(scanNodeRedFlows('flows/flows.json', flows).map((s: SpawnSite) => s.programs)).toEqual([['espeak']]);
  });

  it('splits shell command lines into their commands', () => {
    expect(parseShellCommand('A=1 B=2 x -v && (y 2>&1 | z) ; echo $(w) `v`').programs).toEqual(['x', 'y', 'z', 'w', 'v']);
    expect(parseShellCommand('$TOOL --x').unresolved).toEqual(['`$TOOL` in `$TOOL --x`']);
  });
});
