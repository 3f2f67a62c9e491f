#!/usr/bin/env node
// Launcher of the hub CLI. In a release (the production image) it runs the compiled JavaScript beside it
// (hub/cli/cli.js, from `npm run build`); in a source checkout it runs the TypeScript through tsx, a development
// dependency.
import { existsSync } from 'node:fs';

const compiled = new URL('../hub/cli/cli.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    console.error('ioc-hub: no compiled hub/cli/cli.js beside this launcher, and tsx (a development dependency) is not installed: run `npm ci` in the checkout, or use the image');
    process.exit(1);
  }
  tsx.register();
  await import('../hub/cli/cli.ts');
}
