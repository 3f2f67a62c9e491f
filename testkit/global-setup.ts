// The suite's last check: no process it started outlives it. setup() marks this run in the environment
// that every worker and every child inherits, and names a log where scripts/lib/child-process.ts records each
// server it starts and stops. The teardown fails the run on
// - every marked process still alive (killed now, command lines listed), and
// - every logged server its starter never stopped: it died only because its starter ended (the exit hook or
//   `setpriv --pdeathsig` killed it), which would otherwise hide the leak.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHILD_LOG_ENV } from '../scripts/lib/child-process.ts';
import { describeLeftovers, describeUnstopped, isRunnerProcess, reapLeftovers, RUN_MARKER, unstoppedChildren } from './leak-check.ts';

export function setup(): () => Promise<void> {
  const run = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'ioc-test-run-'));
  const log = join(dir, 'children.log');
  process.env[RUN_MARKER] = run;
  process.env[CHILD_LOG_ENV] = log;
  return async () => {
    const left = await reapLeftovers(run, { exclude: (p) => isRunnerProcess(p) });
    let logged = '';
    try {
      logged = readFileSync(log, 'utf8');
    } catch {
      // no server was started
    }
    rmSync(dir, { recursive: true, force: true });
    const leftPids = new Set(left.map((p) => p.pid));
    const unstopped = unstoppedChildren(logged).filter((c) => !leftPids.has(c.pid));
    if (left.length === 0 && unstopped.length === 0) return;
    const parts: string[] = [];
    if (left.length > 0) parts.push(`${left.length} process(es) started by the tests were still running after the suite (killed now):\n${describeLeftovers(left)}`);
    if (unstopped.length > 0) parts.push(`${unstopped.length} server(s) started by the tests were never stopped by them (they died with the process that started them):\n${describeUnstopped(unstopped)}`);
    const message = parts.join('\n');
    console.error(`\n${message}\n`);
    // vitest reports an error thrown here ("error during close") but still exits 0: the exit code is set here.
    process.exitCode = 1;
    throw new Error(message);
  };
}
