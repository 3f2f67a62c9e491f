// The suite's last check: no process it started outlives it. setup() marks this run in the environment
// that every worker and every child inherits; the teardown finds the marked processes still alive, kills
// them, lists their command lines and fails the run.
import { randomUUID } from 'node:crypto';
import { describeLeftovers, isRunnerProcess, reapLeftovers, RUN_MARKER } from './harness/leak-check.ts';

export function setup(): () => Promise<void> {
  const run = randomUUID();
  process.env[RUN_MARKER] = run;
  return async () => {
    const left = await reapLeftovers(run, { exclude: (p) => isRunnerProcess(p) });
    if (left.length === 0) return;
    const message = `${left.length} process(es) started by the tests were still running after the suite (killed now):\n${describeLeftovers(left)}`;
    console.error(`\n${message}\n`);
    // vitest reports an error thrown here ("error during close") but still exits 0: the exit code is set here.
    process.exitCode = 1;
    throw new Error(message);
  };
}
