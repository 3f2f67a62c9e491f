// The web console's build (Vite, multi-page): console/*.html → dist/console, served by the hub (hub/http/console-routes.ts).
// Every page is an entry: console/index.html (login, alerts) and, when it exists, console/wall.html.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = resolve(import.meta.dirname, 'console');
const pages = Object.fromEntries(readdirSync(root).filter((f) => f.endsWith('.html') && existsSync(join(root, f))).map((f) => [f.replace(/\.html$/, ''), join(root, f)]));

export const config = defineConfig({
  root,
  base: '/',
  // No CDN, no network at run time: everything the pages need is bundled here.
  build: { outDir: resolve(import.meta.dirname, 'dist', 'console'), emptyOutDir: true, target: 'es2022', rolldownOptions: { input: pages } },
  logLevel: 'warn',
});

// Vite reads the default export of its config file.
// eslint-disable-next-line no-restricted-exports
export { config as default };
