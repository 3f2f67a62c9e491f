#!/usr/bin/env node
// Launcher: registers tsx's ESM loader so the TypeScript sources run as they are, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../edge/cli.ts');
process.exitCode = await main(process.argv.slice(2));
