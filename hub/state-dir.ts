// Where state lives when no path is configured: the XDG base directory for state, never the working directory
// (a registry or credentials inside a git checkout are one `git add .` away from being published).
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** `$XDG_STATE_HOME`, else `~/.local/state` (the XDG Base Directory Specification). */
export function stateHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return xdg;
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return join(home, '.local', 'state');
}

/** The hub's registry when neither `registry.path` nor IOC_HUB_REGISTRY_PATH says where. */
export function defaultRegistryPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(stateHome(env), 'ioc-hub', 'registry.json');
}
