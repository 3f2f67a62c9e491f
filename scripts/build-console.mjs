// Builds the web console (console/ → dist/console) with Vite: run by `npm run build` and by `npm ci` (prepare), so
// that a fresh clone serves it. Where Vite is not installed (a production-only install) it says so and stops.
import { fileURLToPath } from 'node:url';

let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('build-console: vite is not installed (production-only install): the console is not built');
  process.exit(0);
}
await vite.build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)) });
