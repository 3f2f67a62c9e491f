// Debian's Mosquitto as a bench peer: on 127.0.0.1 and a free port, either anonymous (the broker in front of
// Node-RED, as people install it) or with a password file holding the same agents' tokens (the connection
// peer: the same clients as the hub). No connection cap (max_connections -1); its file descriptor limit is
// the bench's own (`ulimit -n`, printed by the bench), which 10,000 connections must fit under.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, spawnGuarded } from '../../scripts/lib/child-process.ts';
import { freePort } from '../../scripts/lib/free-port.ts';
import type { GenAgent } from '../generator-job.ts';

export interface MosquittoPeer {
  proc: ManagedProcess;
  port: number;
  url: string;
}

async function accepts(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts mosquitto in `dir`; with `agents`, only they may connect (username `site/agent`, password its token). */
export async function startMosquitto(dir: string, agents?: readonly GenAgent[]): Promise<MosquittoPeer> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'max_connections -1',
    'persistence false',
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'connection_messages false',
    // started as root, it would switch to the `mosquitto` user, who cannot read the bench's 0700 temp folder
    `user ${userInfo().username}`,
  ];
  if (agents === undefined) lines.push('allow_anonymous true');
  else {
    const pw = join(dir, 'passwords');
    writeFileSync(pw, agents.map((a) => `${a.site}/${a.agent}:${a.token}\n`).join(''), { mode: 0o600 });
    const r = spawnSync('mosquitto_passwd', ['-U', pw], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`mosquitto_passwd -U: ${r.stderr}`);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const log = join(dir, 'mosquitto.out');
  const fd = openSync(log, 'a');
  const child = spawnGuarded('mosquitto', ['-c', conf], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const proc = new ManagedProcess('mosquitto', child, log);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (!proc.running || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`mosquitto did not start; see ${log} and ${join(dir, 'mosquitto.log')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, url: `mqtt://127.0.0.1:${port}` };
}
