// What must never ship: the files of testkit/ under any name the build could give them. Used by the tests of
// the image (test/image.test.ts) and of the agent tarball (test/agent-package.test.ts).
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PROJECT_ROOT } from '../scripts/lib/child-process.ts';

/** The module names of testkit/ (`stack`, `test-broker`, …), from its folder: a new helper is covered too. */
export function testkitModuleNames(): Set<string> {
  return new Set(
    readdirSync(join(PROJECT_ROOT, 'testkit'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.[cm]?ts$/.test(f))
      .map((f) => basename(f).replace(/\.[cm]?ts$/, '')),
  );
}

/** Those of `files` (relative paths) that are testkit's: inside a `testkit/` folder, or a testkit module compiled or copied. */
export function testkitFilesIn(files: readonly string[]): string[] {
  const names = testkitModuleNames();
  return files.filter((f) => /(^|\/)testkit\//.test(f) || names.has(basename(f).replace(/\.(d\.)?[cm]?[jt]s(\.map)?$/, '')));
}
