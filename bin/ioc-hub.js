#!/usr/bin/env node
// Launcher of the hub CLI: registers tsx's ESM loader so the TypeScript sources run without a build.
import { register } from 'tsx/esm/api';

register();
await import('../hub/cli.ts');
