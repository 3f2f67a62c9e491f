// `ioc-hub release keygen|add|list` and `release rollout start|status|stop`: agent software updates. The signing key
// pair is made here (its private half signs bundles, `npm run release:bundle`; agents trust the public half); a
// bundle added is stored where the hub serves it; a rollout is written to the registry database, where the running
// hub's rollout runner picks it up at its next tick (releases.tickMs) — as a stop is.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditLog, auditLogPath } from '../auth/audit-log.ts';
import { loadHubConfig, type HubConfig } from '../config.ts';
import { HubError } from '../errors.ts';
import { ReleaseStore, type RolloutStatus } from '../agents/release-store.ts';
import { CONFIG_ENV, CONFIG_OPTION, booleanOption, configPath, findCommand, formatCommandHelp, formatOverview, LAUNCHER, parseCommand, stringOption, usageError, type CommandSpec, type OptionValues } from './cli-help.ts';

export const RELEASE_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'release keygen',
    summary: 'make the ed25519 key pair that signs agent bundles (the agents trust its public half)',
    usage: ['--out-dir DIR'],
    options: { 'out-dir': { type: 'string', arg: 'DIR', help: 'writes DIR/release-signing.key (0600, keep it off the hub) and DIR/release-signing.pub' } },
    examples: ['release keygen --out-dir ~/ioc-release-key'],
    notes: ['An existing key is never overwritten. Put the public key under update.publicKey in every agent.yaml.'],
  },
  {
    command: 'release add',
    summary: 'store a signed agent bundle where the hub serves it (FILE.tar.gz with its .manifest.json and .manifest.json.sig)',
    usage: ['FILE [--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['release add dist/ioc-edge-agent-0.2.0.tar.gz --config hub.yaml'],
    notes: ['The archive must be the one its manifest names (size, sha256). The signature is checked by the agents, not here.'],
  },
  {
    command: 'release list',
    summary: 'the bundles the hub serves: version, size, sha256, added',
    usage: ['[--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['release list --config hub.yaml'],
  },
  {
    command: 'release rollout start',
    summary: 'roll a version out to every agent in waves: the canary sites, then a percentage, then the rest',
    usage: ['--version V [--canary SITE,SITE] [--percent P] [--max-failures N] [--config FILE]'],
    options: {
      version: { type: 'string', arg: 'V', help: 'a version added with `release add`' },
      canary: { type: 'string', arg: 'SITES', help: 'comma-separated site slugs updated first (wave 0)' },
      percent: { type: 'string', arg: 'P', help: 'share of the other agents in the next wave, 1–100 (default 100: the rest at once)' },
      'max-failures': { type: 'string', arg: 'N', help: 'failed agents a wave may have; one more stops the rollout (default 0)' },
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['release rollout start --version 0.2.0 --canary xa-lap-thach,xa-tam-son --percent 25 --config hub.yaml'],
    notes: ['A wave starts once every agent of the one before is updated, failed or offline; offline agents get the update when they connect.'],
  },
  {
    command: 'release rollout status',
    summary: 'the current (or last) rollout: its waves, each agent and its outcome',
    usage: ['[--json] [--config FILE]'],
    options: { json: { type: 'boolean', help: 'one JSON document, as GET /api/rollouts/current' }, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['release rollout status --config hub.yaml'],
  },
  {
    command: 'release rollout stop',
    summary: 'stop the running rollout: no further agent is sent the update',
    usage: ['[--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['release rollout stop --config hub.yaml'],
  },
];

export interface ReleaseCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Who runs it, for the audit log (`cli:USER`). */
  who: string;
}

export async function runReleaseCli(argv: readonly string[], io: ReleaseCliIo): Promise<number> {
  const found = findCommand(argv, RELEASE_COMMANDS);
  if (found === undefined) {
    const text = formatOverview('ioc-hub', 'release commands', RELEASE_COMMANDS, [`Run '${LAUNCHER} release COMMAND --help' for a command's options.`], true);
    if (argv[1] === '--help' || argv[1] === '-h') {
      io.stdout(text);
      return 0;
    }
    io.stderr(`ioc-hub: ${argv.length <= 1 ? 'release needs a command' : `unknown command: ${argv.join(' ')}`}\n${text}`);
    return 2;
  }
  const { spec } = found;
  const parsed = parseCommand('ioc-hub', spec, found.rest, spec.command === 'release add');
  if (parsed.help) {
    io.stdout(formatCommandHelp('ioc-hub', spec));
    return 0;
  }
  const { values } = parsed;
  if (spec.command === 'release keygen') return keygen(spec, values, io);
  const config = loadHubConfig({ path: configPath(values, io.env), env: io.env });
  const store = ReleaseStore.open(config);
  try {
    switch (spec.command) {
      case 'release add': {
        const file = parsed.positionals[0];
        if (file === undefined || parsed.positionals.length !== 1) throw usageError('ioc-hub', spec, 'release add: give one FILE (an ioc-edge-agent-V.tar.gz)');
        const rec = store.addRelease(resolve(file), `cli:${io.who}`);
        await audit(config, io, 'release.add', rec.version, { archive: rec.archive, size: rec.size, sha256: rec.sha256 });
        io.stdout(`added ${rec.version}: ${rec.archive}, ${rec.size} bytes, sha256 ${rec.sha256}, served from ${store.dir}\n`);
        return 0;
      }
      case 'release list':
        io.stdout(store.listReleases().map((r) => `${r.version}\t${r.size}\t${r.sha256}\t${new Date(r.addedAt).toISOString()}\t${r.addedBy}\n`).join(''));
        return 0;
      case 'release rollout start': {
        const version = stringOption(values, 'version');
        if (version === undefined || version === '') throw usageError('ioc-hub', spec, 'release rollout start: --version is required');
        const percent = numberOption(spec, values, 'percent', 100, 1, 100);
        const maxFailures = numberOption(spec, values, 'max-failures', 0, 0, 1_000_000);
        const canary = (stringOption(values, 'canary') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const status = store.startRollout({ version, canary, percent, maxFailures, by: `cli:${io.who}` });
        await audit(config, io, 'release.rollout.start', `rollout ${status.rollout.id}`, { version, canary, percent, maxFailures, agents: status.agents.length });
        io.stdout(`rollout ${status.rollout.id} of ${version} started: ${status.waves.map((w) => `wave ${w.wave}: ${w.agents} agents`).join(', ')}; a running hub begins within ${config.releases.tickMs} ms\n`);
        return 0;
      }
      case 'release rollout status': {
        const status = store.status();
        if (status === undefined) throw new HubError('E_ROLLOUT', 'no rollout yet');
        io.stdout(booleanOption(values, 'json') ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
        return 0;
      }
      case 'release rollout stop': {
        const stopped = store.stopRollout(`stopped by cli:${io.who}`);
        if (stopped === undefined) throw new HubError('E_ROLLOUT', 'no rollout is running');
        await audit(config, io, 'release.rollout.stop', `rollout ${stopped.id}`, { version: stopped.version });
        io.stdout(`rollout ${stopped.id} of ${stopped.version} stopped: no further agent is sent the update\n`);
        return 0;
      }
      default:
        throw new HubError('E_USAGE', `unknown command: ${spec.command}`);
    }
  } finally {
    store.close();
  }
}

function keygen(spec: CommandSpec, values: OptionValues, io: ReleaseCliIo): number {
  const dir = stringOption(values, 'out-dir');
  if (dir === undefined || dir === '') throw usageError('ioc-hub', spec, 'release keygen: --out-dir is required');
  const keyFile = join(dir, 'release-signing.key');
  const pubFile = join(dir, 'release-signing.pub');
  if (existsSync(keyFile) || existsSync(pubFile)) throw new HubError('E_RELEASE', `release keygen: ${keyFile} or ${pubFile} exists: never overwritten (agents trust it)`);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(pubFile, pub, { mode: 0o644, flag: 'wx' });
  io.stdout(`signing key: ${keyFile} (0600: keep it on the build machine, not on the hub)\npublic key: ${pubFile}; in every agent.yaml:\nupdate:\n  publicKey: |\n${pub.trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}\n`);
  return 0;
}

function numberOption(spec: CommandSpec, values: OptionValues, name: string, dflt: number, min: number, max: number): number {
  const text = stringOption(values, name);
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError('ioc-hub', spec, `--${name} must be an integer from ${min} to ${max}, got ${text}`);
  return n;
}

async function audit(config: HubConfig, io: ReleaseCliIo, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
  await new AuditLog(auditLogPath(config)).append({ who: `cli:${io.who}`, action, target, detail });
}

function statusText(s: RolloutStatus): string {
  const r = s.rollout;
  const lines = [
    `rollout ${r.id} of ${r.version}: ${r.state}${r.reason === undefined ? '' : ` (${r.reason})`}, wave ${r.wave}, canary ${r.canary.join(',') || '-'}, percent ${r.percent}, max failures ${r.maxFailures}, by ${r.createdBy}`,
    ...s.waves.map((w) => `wave ${w.wave}: ${w.agents} agents, ${w.done} done, ${w.failed} failed, ${w.installing} installing, ${w.pending} pending${w.seconds === null ? '' : `, ${w.seconds} s`}`),
    ...s.agents.map((a) => `${a.site}/${a.agent}\twave ${a.wave}\t${a.state}\t${a.detail ?? ''}`),
  ];
  return `${lines.join('\n')}\n`;
}
