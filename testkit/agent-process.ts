// A real `ioc-edge run` process for cross-component tests: its config (hub, credentials, a fast batch flush,
// the given collector lines) written into the stack's folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProgram, type ManagedProcess } from '../scripts/lib/child-process.ts';
import type { AgentCredentials, Stack } from './stack.ts';

/** `collectors`: YAML lines of the `collectors:` list, each starting with `  - `. */
export function startAgentProcess(stack: Stack, me: AgentCredentials, collectors: readonly string[]): ManagedProcess {
  const dataDir = join(stack.dir, `${me.agent}-${me.site}-data`);
  mkdirSync(dataDir, { recursive: true });
  const config = join(stack.dir, `${me.site}-${me.agent}.yaml`);
  writeFileSync(
    config,
    [
      `site: ${me.site}`,
      `agent: ${me.agent}`,
      'hub:',
      `  url: ${stack.mqttUrl}`,
      `  token: ${me.token}`,
      `dataDir: ${dataDir}`,
      'batch:',
      '  flushIntervalMs: 200',
      'collectors:',
      ...collectors,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return startProgram('ioc-edge', ['run', '--config', config], join(stack.dir, `${me.site}-${me.agent}.log`));
}
