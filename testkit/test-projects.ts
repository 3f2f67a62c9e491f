// The two vitest projects (vitest.config.ts): `unit` — pure tests, no server, no child process, fast — and
// `system` — tests that start real servers or processes (influxd, the hub, a broker on a port, socat, fake
// gpiod tools, the agent CLI…). Membership is by what a test does: SYSTEM_TESTS names those that start
// something, by file name wherever the folder may change; every other test file is a unit test.
// test/test-projects.test.ts holds both lists to it: no unit test imports something that starts a server
// or a process, and every pattern below still names a file.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The test files that start real servers or processes. */
export const SYSTEM_TESTS = [
  // cross-component: the stack (influxd + the hub), the agent and hub CLIs, the image, the tarball, Compose, Node-RED
  'test/**/*.test.ts',
  // edge: a broker on a port, local servers to probe, the CLI, socat, ping, the fake gpiod tools
  'edge/**/agent.test.ts',
  'edge/**/simulator.test.ts',
  'edge/**/link.test.ts',
  'edge/**/cli.test.ts',
  'edge/**/display.test.ts',
  'edge/**/dns.test.ts',
  'edge/**/http.test.ts',
  'edge/**/icmp.test.ts',
  'edge/**/modbus.test.ts',
  'edge/**/queue.test.ts',
  'edge/**/tcp.test.ts',
  'edge/**/gpio.test.ts',
  'edge/**/gpiod-cli.test.ts',
  'edge/**/gpiod-pin.test.ts',
  // hub: real influxd, the ioc-hub CLI
  'hub/**/hub.test.ts',
  'hub/**/influx-schema.test.ts',
  'hub/**/cli-*.test.ts',
  // journal: a writer process killed with SIGKILL
  'journal/**/journal.test.ts',
  // scripts/lib: guarded children, the demo lock across processes, an SMTP server, the scanner on real programs
  'scripts/lib/child-process.test.ts',
  'scripts/lib/demo-state.test.ts',
  'scripts/lib/mail-sink.test.ts',
  'scripts/lib/spawned-programs.test.ts',
];

/** test/ files that are pure all the same (they read files and generate dashboards): unit tests. */
export const UNIT_EXCEPTIONS = ['test/dashboards-generated.test.ts', 'test/dashboards-provisioning.test.ts', 'test/test-projects.test.ts'];

const TEST_ROOTS = ['protocol', 'journal', 'common', 'edge', 'hub', 'dashboards', 'flows', 'test', 'testkit', 'scripts'];
const SKIP = new Set(['node_modules', 'dist', '.git', 'generated']);

/** `**` (any folders), `*` (within a name) and `{a,b}` of a glob, as a regular expression over a relative path. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += c.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const systemRes = SYSTEM_TESTS.map(globToRegExp);

/** The project a test file (path relative to the checkout, `/`-separated) belongs to. */
export function projectOf(file: string): 'unit' | 'system' {
  if (UNIT_EXCEPTIONS.includes(file)) return 'unit';
  return systemRes.some((r) => r.test(file)) ? 'system' : 'unit';
}

/** Every `*.test.ts` file of the checkout, relative to `root`. */
export function allTestFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      if (SKIP.has(e.name)) continue;
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.test.ts')) out.push(path);
    }
  };
  for (const dir of TEST_ROOTS) if (existsSync(join(root, dir))) walk(dir);
  return out.sort();
}

/** The test files of one project: vitest.config.ts gives these to vitest as its `include`. */
export function testFilesOf(project: 'unit' | 'system', root: string): string[] {
  return allTestFiles(root).filter((f) => projectOf(f) === project);
}
