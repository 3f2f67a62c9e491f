// The config of a commune office's agent as shipped: a sample file (its default collectors kept) pointed at a
// test stack's hub with an enrolled agent's credentials and a data folder of its own.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { AgentCredentials } from '../scripts/lib/hub-setup.ts';

export function sampleConfigFor(hubMqttUrl: string, me: AgentCredentials, sample: string, dataDir: string): string {
  const doc = parseDocument(readFileSync(sample, 'utf8'));
  doc.set('site', me.site);
  doc.set('agent', me.agent);
  doc.setIn(['hub', 'url'], hubMqttUrl);
  doc.setIn(['hub', 'token'], me.token);
  doc.set('dataDir', dataDir);
  return doc.toString();
}

/** The shipped systemd unit's ExecStart: the node binary, its flags, the launcher and the agent's arguments. */
export function unitExecStart(unit: string): { node: string; nodeFlags: string[]; launcher: string; args: string[] } {
  const line = /^ExecStart=(.+)$/m.exec(unit)?.[1];
  if (line === undefined) throw new Error('the unit has no ExecStart');
  const [node = '', ...rest] = line.trim().split(/\s+/);
  const nodeFlags: string[] = [];
  while (rest[0]?.startsWith('-') === true) nodeFlags.push(rest.shift() ?? '');
  const launcher = rest.shift() ?? '';
  return { node, nodeFlags, launcher, args: rest };
}
