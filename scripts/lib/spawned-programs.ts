// Finds the programs that source files start, for test/os-programs.test.ts: calls of node:child_process
// (spawn, spawnSync, execFile, execFileSync, exec, execSync, fork, also renamed, through a namespace, a
// require() or promisify()), shell command lines (`sh -c`, exec, `shell: true`), project helpers that pass
// one of their parameters on as the program (resolved at every call of the helper: functions, static methods,
// constructors), npm scripts and Node-RED exec nodes.
//
// The program is read from the code with the TypeScript parser, following constants: string literals,
// `const` and `let` (every assignment), parameters (at the helper's call sites, also object properties
// such as `opts.binary ?? 'influxd'`), imports of exported constants, `a ?? b`, `c ? a : b`, templates of
// constants, `['/usr/bin/x', …].find(…)`, `join(…, 'x')`, functions that return a constant, `for … of [...]`.
// Limits: values computed at run time (read from a config file or the environment, a parameter of an instance
// method, a property of an object that is not a literal) cannot be followed; such a call is reported as
// unresolved, and a comment `os-program: NAME[, NAME]` on its line or one of the three lines above it (or above
// the helper's call site) names what it starts. Not seen: programs started by code in node_modules (Node-RED's
// own nodes, npm packages), by code handed to `node -e` as a string, or by shell scripts outside the sources.
import { basename } from 'node:path';
import { CallSiteScanner } from './spawned-programs/call-sites.ts';
import { parseShellCommand } from './spawned-programs/shell-command.ts';
import type { SourceText, SpawnSite } from './spawned-programs/source-index.ts';

export { parseShellCommand } from './spawned-programs/shell-command.ts';
export type { SourceText, SpawnSite } from './spawned-programs/source-index.ts';

/** The programs the sources start, site by site. */
export function scanSources(sources: readonly SourceText[]): SpawnSite[] {
  return new CallSiteScanner(sources).scan();
}

/** npm scripts in a package.json text: each script's commands. */
export function scanPackageScripts(file: string, text: string): SpawnSite[] {
  const pkg = JSON.parse(text) as { scripts?: Record<string, string> };
  const lines = text.split('\n');
  return Object.entries(pkg.scripts ?? {}).map(([name, cmd]) => {
    const parsed = parseShellCommand(cmd);
    const line = Math.max(1, lines.findIndex((l) => l.includes(`"${name}":`)) + 1);
    return { file, line, via: `npm script "${name}"`, programs: [...new Set(parsed.programs.map((p) => basename(p)))].sort(), unresolved: parsed.unresolved };
  });
}

/** Node-RED flow files: exec and daemon nodes start their `command`. */
export function scanNodeRedFlows(file: string, text: string): SpawnSite[] {
  let nodes: unknown;
  try {
    nodes = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(nodes)) return [];
  const sites: SpawnSite[] = [];
  const lines = text.split('\n');
  for (const n of nodes) {
    if (typeof n !== 'object' || n === null) continue;
    const node = n as { type?: unknown; command?: unknown; id?: unknown };
    if (node.type !== 'exec' && node.type !== 'daemon') continue;
    const cmd = typeof node.command === 'string' ? node.command : '';
    const parsed = parseShellCommand(cmd);
    const line = Math.max(1, lines.findIndex((l) => typeof node.id === 'string' && l.includes(node.id)) + 1);
    sites.push({ file, line, via: `Node-RED ${node.type} node`, programs: parsed.programs.map((p) => basename(p)), unresolved: cmd === '' ? ['a node with no command'] : parsed.unresolved });
  }
  return sites;
}

/** What the programs may be: the OS-package list's programs, and Node-side ones (node, npx, our bins, …). */
export interface AllowedPrograms {
  os: ReadonlySet<string>;
  node: ReadonlySet<string>;
  /** Also allowed in npm scripts: the bins of installed npm packages (node_modules/.bin). */
  npmBins?: ReadonlySet<string>;
}

/** One line per problem: `file:line: …`, naming the program and how it is started. */
export function problemsOf(sites: readonly SpawnSite[], allowed: AllowedPrograms): string[] {
  const problems: string[] = [];
  for (const s of sites) {
    const isScript = s.via.startsWith('npm script');
    for (const p of s.programs) {
      if (allowed.os.has(p) || allowed.node.has(p) || (isScript && allowed.npmBins?.has(p) === true)) continue;
      const through = s.passedAt?.[p];
      const what = through === undefined ? `${s.file}:${s.line}: ${s.via} starts \`${p}\`` : `${through.join(', ')}: passes \`${p}\` to the ${s.via} at ${s.file}:${s.line}`;
      problems.push(`${what}, not in scripts/os-packages.json (add {"bin": "${p}", "pkg": "<its Debian package>", …})`);
    }
    for (const u of s.unresolved) problems.push(`${s.file}:${s.line}: ${s.via}: cannot tell which program it starts (${u}); name it in a comment \`// os-program: NAME\` on the call's line or just above`);
  }
  return problems;
}
