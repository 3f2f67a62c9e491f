// zod problems as text: one `path: message` line per issue, the path dotted (`points.3.t`), `(root)` for the whole value.
import type { z } from 'zod';

type Issue = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** One `path: message` line per issue; `root` names an empty path. */
export function issueLines(issues: readonly Issue[], root = '(root)'): string[] {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : root}: ${i.message}`);
}

/** The first `max` issues on one line, `; `-separated, with a count of the rest. */
export function describeIssues(issues: readonly Issue[], max = 5): string {
  const parts = issueLines(issues.slice(0, max));
  if (issues.length > max) parts.push(`… ${issues.length - max} more`);
  return parts.join('; ');
}

/** The issues with `prefix` put before each path (a sub-document checked on its own). */
export function prefixIssues<T extends Issue>(issues: readonly T[], prefix: readonly PropertyKey[]): T[] {
  return issues.map((i) => ({ ...i, path: [...prefix, ...i.path] }));
}
