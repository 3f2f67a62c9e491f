// `ioc-hub users add|passwd|list|disable|enable`: people's logins for the console, in accounts.db beside the
// registry. The file is shared with a running hub (SQLite, WAL): a change counts at its next request.
import { randomBytes } from 'node:crypto';
import { AccountStore, accountsPath, ROLES } from '../auth/accounts.ts';
import { AuditLog, auditLogPath } from '../auth/audit-log.ts';
import type { HubConfig } from '../config.ts';
import { HubError } from '../errors.ts';
import { CONFIG_ENV, CONFIG_OPTION, booleanOption, stringOption, type CommandSpec, type OptionValues } from './cli-help.ts';

const NAME = { type: 'string', arg: 'LOGIN', help: 'the login: lowercase letters, digits, . _ -' } as const;
const PASSWORD_STDIN = { type: 'boolean', help: 'read the password from the first line of standard input (else one is made and printed once)' } as const;

export const USER_COMMANDS: readonly CommandSpec[] = [
  {
    command: 'users add',
    summary: 'add a console login with a role (technician, operator, admin)',
    usage: ['--name LOGIN --role ROLE [--display-name "FULL NAME"] [--password-stdin] [--config FILE]'],
    options: {
      name: NAME,
      role: { type: 'string', arg: 'ROLE', help: `${ROLES.join(', ')}: technician acknowledges and silences, operator also reads the audit log, admin all` },
      'display-name': { type: 'string', arg: 'NAME', help: 'the full name shown and recorded when they acknowledge (default: the login)' },
      'password-stdin': PASSWORD_STDIN,
      config: CONFIG_OPTION,
    },
    env: CONFIG_ENV,
    examples: ['users add --name an --role technician --display-name "Nguyễn Văn An"', "printf '%s\\n' \"$PASS\" | npx ioc-hub users add --name binh --role operator --password-stdin"],
    notes: ['Passwords are kept as scrypt hashes in accounts.db beside the registry; a made-up password is printed once.'],
  },
  {
    command: 'users passwd',
    summary: "set a user's password (their sessions end)",
    usage: ['--name LOGIN [--password-stdin] [--config FILE]'],
    options: { name: NAME, 'password-stdin': PASSWORD_STDIN, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['users passwd --name an'],
  },
  {
    command: 'users list',
    summary: 'print the logins: name, role, state, full name (tab-separated)',
    usage: ['[--config FILE]'],
    options: { config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['users list'],
  },
  {
    command: 'users disable',
    summary: 'refuse a login from now on (its sessions end at once, in a running hub too)',
    usage: ['--name LOGIN [--config FILE]'],
    options: { name: NAME, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['users disable --name an'],
  },
  {
    command: 'users enable',
    summary: 'allow a disabled login again',
    usage: ['--name LOGIN [--config FILE]'],
    options: { name: NAME, config: CONFIG_OPTION },
    env: CONFIG_ENV,
    examples: ['users enable --name an'],
  },
];

export interface UsersCliIo {
  stdout: (text: string) => void;
  /** Standard input as text (for --password-stdin). */
  stdin?: () => Promise<string>;
  /** Who runs the command, for the audit log (`cli:USER`). */
  who: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function password(values: OptionValues, io: UsersCliIo): Promise<{ password: string; made: boolean }> {
  if (!booleanOption(values, 'password-stdin')) return { password: randomBytes(12).toString('base64url'), made: true };
  const line = (await (io.stdin ?? readStdin)()).split(/\r?\n/)[0] ?? '';
  if (line === '') throw new HubError('E_USAGE', '--password-stdin: standard input had no password');
  return { password: line, made: false };
}

function need(values: OptionValues, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new HubError('E_USAGE', `--${name} is required`);
  return v;
}

export async function runUsersCommand(command: string, config: HubConfig, values: OptionValues, io: UsersCliIo): Promise<number> {
  const store = AccountStore.open(accountsPath(config));
  const audit = (action: string, target: string, detail?: Record<string, unknown>): Promise<void> =>
    new AuditLog(auditLogPath(config)).append({ who: `cli:${io.who}`, action, target, ...(detail === undefined ? {} : { detail }) });
  try {
    switch (command) {
      case 'users add': {
        const name = need(values, 'name');
        const role = need(values, 'role');
        const pw = await password(values, io);
        const displayName = stringOption(values, 'display-name');
        const user = await store.addUser({ name, role, password: pw.password, ...(displayName === undefined ? {} : { displayName }) });
        await audit('user.add', user.name, { role: user.role, displayName: user.displayName });
        io.stdout(`added ${user.name} (${user.role}, "${user.displayName}") to ${store.path}\n${pw.made ? `password: ${pw.password}\n` : ''}`);
        return 0;
      }
      case 'users passwd': {
        const name = need(values, 'name');
        const pw = await password(values, io);
        await store.setPassword(name, pw.password);
        await audit('user.passwd', name);
        io.stdout(`password of ${name} set; their sessions have ended\n${pw.made ? `password: ${pw.password}\n` : ''}`);
        return 0;
      }
      case 'users list':
        io.stdout(store.listUsers().map((u) => `${u.name}\t${u.role}\t${u.disabled ? 'disabled' : 'enabled'}\t${u.displayName}\n`).join(''));
        return 0;
      case 'users disable':
      case 'users enable': {
        const name = need(values, 'name');
        const disabled = command === 'users disable';
        store.setDisabled(name, disabled);
        await audit(disabled ? 'user.disable' : 'user.enable', name);
        io.stdout(`${name} ${disabled ? 'disabled; their sessions have ended' : 'enabled'}\n`);
        return 0;
      }
      default:
        throw new HubError('E_USAGE', `unknown command: ${command}`);
    }
  } finally {
    store.close();
  }
}
