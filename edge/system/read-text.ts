// Reads a small system file (/proc, /sys) as text; undefined when it is absent or unreadable (not Linux, no such sensor).
import { readFile } from 'node:fs/promises';

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
