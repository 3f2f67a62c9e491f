// The READMEs' operator commands run as printed: every `ioc-hub …` / `ioc-edge …` line of its code blocks uses a
// launcher that works in a fresh checkout (`npx`, `node bin/…`, the container's entrypoint), and each (sub)command
// and option it names exists — checked by running `<launcher> <command> --help` as a real process.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../testkit/child-process.ts';

type Program = 'ioc-hub' | 'ioc-edge';

interface ReadmeCommand {
  line: string;
  program: Program;
  /** How it is launched here: `npx` as printed, or `node bin/….js` for `node`/docker lines. */
  launcher: 'npx' | 'node';
  words: string[];
  flags: string[];
}

/**
 * The program a command segment launches, and how to run the same program here, or 'bare' for `ioc-hub …` typed as
 * is (`command not found` in a fresh checkout). docker is not on the test machine: the container's programs are the
 * checkout's `node bin/….js` (the image's ENTRYPOINT is `node bin/ioc-hub.js`).
 */
function launch(tokens: readonly string[]): { program: Program; launcher: 'npx' | 'node'; rest: string[] } | 'bare' | undefined {
  let i = 0;
  while (/^[A-Z_][A-Z0-9_]*=/.test(tokens[i] ?? '')) i += 1; // FOO=bar cmd
  if (tokens[i] === 'sudo') {
    i += 1;
    while ((tokens[i] ?? '').startsWith('-')) i += tokens[i] === '-u' ? 2 : 1;
  }
  const cmd = tokens[i] ?? '';
  const binOf = (t: string | undefined): Program | undefined => /^(?:\/opt\/ioc-edge\/)?bin\/(ioc-hub|ioc-edge)\.js$/.exec(t ?? '')?.[1] as Program | undefined;
  if (cmd === 'ioc-hub' || cmd === 'ioc-edge') return 'bare';
  if (cmd === 'npx' && (tokens[i + 1] === 'ioc-hub' || tokens[i + 1] === 'ioc-edge')) return { program: tokens[i + 1] as Program, launcher: 'npx', rest: tokens.slice(i + 2) };
  if (cmd === 'node' && binOf(tokens[i + 1]) !== undefined) return { program: binOf(tokens[i + 1]) ?? 'ioc-hub', launcher: 'node', rest: tokens.slice(i + 2) };
  const docker = tokens.slice(i, i + 4).join(' ');
  if (docker === 'docker compose exec hub' && tokens[i + 4] === 'node' && binOf(tokens[i + 5]) !== undefined) return { program: binOf(tokens[i + 5]) ?? 'ioc-hub', launcher: 'node', rest: tokens.slice(i + 6) };
  if (docker === 'docker compose run --rm') {
    const at = tokens.indexOf('hub', i);
    if (at !== -1) return { program: 'ioc-hub', launcher: 'node', rest: tokens.slice(at + 1) };
  }
  return undefined;
}

/** The shell code blocks (```sh, ```bash, or no language) of a Markdown text. */
function codeBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    const fence = /^```(\S*)/.exec(line);
    if (fence === null) open?.lines.push(line);
    else if (open === undefined) open = { lang: fence[1] ?? '', lines: [] };
    else {
      if (['', 'sh', 'bash', 'shell'].includes(open.lang)) blocks.push(open.lines.join('\n'));
      open = undefined;
    }
  }
  return blocks;
}

/** Shell command segments of a block: continuation lines joined, comments cut, split at && || | ; */
function segments(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('['))
    .flatMap((l) => l.split(/\s*(?:&&|\|\||\||;)\s*/));
}

/** README.md and the component READMEs (edge/README.md, hub/alerts/README.md…). */
const READMES = ['README.md', ...readdirSync(PROJECT_ROOT, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('README.md') && f !== 'README.md' && !f.startsWith('node_modules') && !f.includes('/node_modules/'))];

function readmeCommands(): { commands: ReadmeCommand[]; bare: string[] } {
  const commands: ReadmeCommand[] = [];
  const bare: string[] = [];
  for (const block of READMES.flatMap((f) => codeBlocks(readFileSync(join(PROJECT_ROOT, f), 'utf8')))) {
    for (const segment of segments(block)) {
      const l = launch(segment.match(/"[^"]*"|'[^']*'|\S+/g) ?? []);
      if (l === undefined) continue;
      if (l === 'bare') {
        bare.push(segment);
        continue;
      }
      const firstFlag = l.rest.findIndex((t) => t.startsWith('-'));
      const words = (firstFlag === -1 ? l.rest : l.rest.slice(0, firstFlag)).filter((t) => /^[a-z][a-z-]*$/.test(t));
      const flags = l.rest.filter((t) => /^--?[a-z]/.test(t)).map((t) => t.split('=')[0] ?? t);
      commands.push({ line: segment, program: l.program, launcher: l.launcher, words, flags });
    }
  }
  return { commands, bare };
}

function run(argv: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd = '', ...args] = argv;
  // os-program: npx, node (the launchers of the README's commands, see helpFor)
  const child = spawn(cmd, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_yes: 'false', npm_config_offline: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** `<launcher> <program> <words…> --help`, as a real process in the checkout. */
async function helpFor(c: ReadmeCommand): Promise<{ argv: string[]; code: number | null; stdout: string; stderr: string }> {
  const argv = [...(c.launcher === 'npx' ? ['npx', c.program] : ['node', join('bin', `${c.program}.js`)]), ...c.words, '--help'];
  return { argv, ...(await run(argv)) };
}

describe('README commands', () => {
  const { commands, bare } = readmeCommands();

  it('finds the operator commands, each with a launcher that works in a fresh checkout', () => {
    expect(bare, 'commands printed without a launcher fail with "command not found"').toEqual([]);
    const named = new Set(commands.map((c) => `${c.program} ${c.words.join(' ')}`));
    // the README's operations: a parse that finds none of them would pass vacuously
    for (const expected of ['ioc-hub sites import', 'ioc-hub enroll', 'ioc-hub alerts list', 'ioc-hub alerts ack', 'ioc-hub silences add', 'ioc-hub services token', 'ioc-edge check-config']) {
      expect([...named].some((n) => n.startsWith(expected)), `${expected} in ${[...named].join(', ')}`).toBe(true);
    }
  });

  it('every (sub)command exists and takes the options the README gives it: <launcher> COMMAND --help exits 0 with its usage', async () => {
    const unique = new Map<string, ReadmeCommand>();
    for (const c of commands) {
      const key = `${c.launcher} ${c.program} ${c.words.join(' ')}`;
      const seen = unique.get(key);
      unique.set(key, seen === undefined ? c : { ...seen, flags: [...seen.flags, ...c.flags], line: `${seen.line}\n${c.line}` });
    }
    const checks = [...unique.values()];
    // two at a time: each is a Node start with tsx
    const results: { c: ReadmeCommand; r: Awaited<ReturnType<typeof helpFor>> }[] = [];
    for (let i = 0; i < checks.length; i += 2) {
      results.push(...(await Promise.all(checks.slice(i, i + 2).map(async (c) => ({ c, r: await helpFor(c) })))));
    }
    for (const { c, r } of results) {
      const what = `README: ${c.line}\nran: ${r.argv.join(' ')}\n${r.stderr}`;
      expect(r.code, what).toBe(0);
      // the usage of exactly this command: a group's or another command's help does not count
      expect(r.stdout, what).toContain(`Usage:\n  ${[c.program, ...c.words].join(' ')}`);
      for (const flag of new Set(c.flags)) expect(r.stdout, `${what}\noption ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, 'm'));
    }
  }, 600_000); // one tsx start per command (~70 of them): minutes on a loaded 2-core machine

  it('a command the CLI does not have fails the check', async () => {
    const r = await helpFor({ line: 'npx ioc-hub sites purge', program: 'ioc-hub', launcher: 'npx', words: ['sites', 'purge'], flags: [] });
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('Usage:\n  ioc-hub sites purge');
    expect(r.stderr).toMatch(/^ioc-hub: unknown command: sites purge/);
  }, 120_000);
});
