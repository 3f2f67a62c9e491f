#!/usr/bin/env node
// Launcher of the agent CLI. In a release (the agent tarball of `npm run pack:agent`) it runs the compiled
// JavaScript beside it (edge/cli.js); in a source checkout it runs the TypeScript through tsx, a development
// dependency.
import { existsSync } from 'node:fs';

const compiled = new URL('../edge/cli.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    console.error('ioc-edge: no compiled edge/cli.js beside this launcher, and tsx (a development dependency) is not installed: run `npm ci` in the checkout, or install the agent tarball (npm run pack:agent)');
    process.exit(1);
  }
  tsx.register();
  cli = await import('../edge/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
