// The OS programs the code, the demo and the tests start, with the Debian package of each: one list, read by
// scripts/ensure-os-packages.mjs (which installs the required ones) and by test/os-programs.test.ts (which
// fails on any spawned program missing from it). Add a program with one line in scripts/os-packages.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const osPackageSchema = z.strictObject({
  /** The program's name as spawned (its basename). */
  bin: z.string().regex(/^[A-Za-z0-9._+-]+$/),
  /** The Debian package that ships it. */
  pkg: z.string().regex(/^[a-z0-9][a-z0-9.+-]+$/),
  /** Used when present, never installed nor required (the code or test copes without it). */
  optional: z.boolean().default(false),
  /** Who starts it, for the next reader. */
  why: z.string().min(1),
});
export type OsPackage = z.infer<typeof osPackageSchema>;

const osPackagesFileSchema = z.strictObject({
  packages: z.array(osPackageSchema).min(1),
  /** Programs that come with Node.js or with this project's npm packages, not from the OS. */
  nodePrograms: z.array(z.string().min(1)),
});
export type OsPackagesFile = z.infer<typeof osPackagesFileSchema>;

export const OS_PACKAGES_FILE = join(import.meta.dirname, 'os-packages.json');

export function loadOsPackages(file = OS_PACKAGES_FILE): OsPackagesFile {
  return osPackagesFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
