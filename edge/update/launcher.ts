// The launcher step of an A/B install (bin/ioc-edge.js of a release runs it): before `run` loads the agent, it reads
// the slot state and counts the start of a version on trial; a trial past its deadline or its attempts is switched
// back to the previous slot. While a trial runs, a timer switches back at the deadline if the agent has not
// committed (connected and sending) and stops the process: systemd (`Restart=always`) starts the previous version.
// A new version whose code fails to load is switched back at once and the previous one runs in this process.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installRootOf, launchStep, readSlotState, rollBack, slotDirOf } from './slots.ts';

interface CliModule {
  main(argv: readonly string[]): Promise<number>;
}

async function loadCli(slotDir: string): Promise<CliModule> {
  return (await import(pathToFileURL(join(slotDir, 'edge', 'cli.js')).href)) as CliModule;
}

function note(message: string, data: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), component: 'launcher', ...data, msg: message })}\n`);
}

/** Runs `ioc-edge argv…` from the slot in use; `selfUrl` is the launcher's own module URL (bin/ioc-edge.js). */
export async function launch(argv: readonly string[], selfUrl: string): Promise<number> {
  const ownSlot = slotDirOf(fileURLToPath(selfUrl), 2);
  const root = argv[0] === 'run' ? installRootOf(ownSlot) : undefined;
  if (root === undefined) return (await loadCli(ownSlot)).main(argv);
  const step = launchStep(root, Date.now());
  if (step.rolledBack !== undefined) note('update rolled back', { version: step.rolledBack.version, to: step.rolledBack.previousVersion, reason: step.rolledBack.reason });
  const slotDir = join(root, step.slot);
  const deadline = step.trialDeadline;
  if (deadline !== undefined) {
    const timer = setTimeout(() => {
      const state = readSlotState(root);
      if (state?.state !== 'trial' || state.slot !== step.slot) return; // committed meanwhile
      const rolled = rollBack(root, state, 'not connected and sending within the health check', Date.now());
      note('update rolled back', { version: rolled.version, to: rolled.previousVersion, reason: rolled.reason });
      process.kill(process.pid, 'SIGTERM'); // the agent stops cleanly; systemd starts the previous version
    }, Math.max(0, deadline - Date.now()));
    timer.unref();
  }
  let cli: CliModule;
  try {
    cli = await loadCli(slotDir);
  } catch (err: unknown) {
    const state = readSlotState(root);
    if (deadline === undefined || state === undefined) throw err;
    const rolled = rollBack(root, state, `did not start: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500), Date.now());
    note('update rolled back', { version: rolled.version, to: rolled.previousVersion, reason: rolled.reason });
    cli = await loadCli(join(root, rolled.previous));
  }
  return cli.main(argv);
}
