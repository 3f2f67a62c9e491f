import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, issueLines, prefixIssues } from './zod-issues.ts';

const schema = z.strictObject({ site: z.string().min(2), points: z.array(z.strictObject({ t: z.int() })) });

function issuesOf(value: unknown): z.core.$ZodIssue[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues;
}

describe('zod issue text', () => {
  it('gives one line per issue with its dotted path', () => {
    const lines = issueLines(issuesOf({ site: 'x', points: [{ t: 1 }, { t: 'no' }], extra: 1 }));
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('site: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('points.1.t: '))).toBe(true);
    expect(lines.some((l) => /^\(root\): Unrecognized key/.test(l))).toBe(true);
  });

  it('names the root as asked', () => {
    expect(issueLines(issuesOf(7), '(body)')[0]).toMatch(/^\(body\): /);
  });

  it('puts at most max issues on one line and counts the rest', () => {
    const issues = issuesOf({ site: 'x', points: Array.from({ length: 8 }, () => ({ t: 'no' })) });
    expect(issues).toHaveLength(9);
    const text = describeIssues(issues, 3);
    expect(text.split('; ')).toHaveLength(4);
    expect(text).toMatch(/; … 6 more$/);
    expect(describeIssues(issues, 20)).not.toContain('more');
  });

  it('prefixes the path of a sub-document checked on its own', () => {
    const one = issuesOf({ site: 'x', points: [] });
    expect(issueLines(prefixIssues(one, ['rules', 4]))).toEqual([expect.stringMatching(/^rules\.4\.site: /)]);
  });
});
