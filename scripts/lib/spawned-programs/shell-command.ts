// The programs a shell command line starts (npm scripts, `sh -c`, `exec`, Node-RED exec nodes).

const SHELL_WORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'for', 'case', 'esac', 'in', 'function', '{', '}', '!', '[[', ']]', '(', ')']);
const SHELL_BUILTINS = new Set(['cd', 'echo', 'printf', 'export', 'set', 'unset', 'test', '[', 'true', 'false', 'read', 'exit', 'return', 'wait', 'trap', 'kill', 'command', 'type', 'eval', 'source', '.', ':', 'shift', 'local', 'umask', 'ulimit', 'hash', 'alias']);

/** The programs a shell command line starts: the first word of each command (after `VAR=value` and `exec`). */
export function parseShellCommand(cmd: string): { programs: string[]; unresolved: string[] } {
  const programs: string[] = [];
  const unresolved: string[] = [];
  const noRedirects = cmd.replace(/\d*>&\d*|&>/g, ' ');
  for (const segment of noRedirects.split(/\|\||&&|[;|&\n`]|\$\(|\(|\)/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length) {
      const w = words[i] ?? '';
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || SHELL_WORDS.has(w) || w === 'exec' || w === 'then' || w === 'do') i++;
      else break;
    }
    const w = words[i];
    if (w === undefined || SHELL_BUILTINS.has(w) || w.startsWith('-')) continue;
    const unq = w.replace(/^['"]|['"]$/g, '');
    if (unq.includes('$')) unresolved.push(`\`${unq}\` in \`${cmd.slice(0, 80)}\``);
    else programs.push(unq);
  }
  return { programs, unresolved };
}
