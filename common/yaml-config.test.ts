import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadYamlConfig, readYamlFile, validateConfig, YamlConfigError } from './yaml-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'yaml-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const schema = z.strictObject({ site: z.string().regex(/^[a-z-]+$/), port: z.int().default(1883), hub: z.strictObject({ token: z.string() }).optional() });

function caught(fn: () => unknown): YamlConfigError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof YamlConfigError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('loadYamlConfig', () => {
  it('reads, parses and validates, with the schema defaults', () => {
    expect(loadYamlConfig(schema, file('ok.yaml', 'site: xa-a\n'))).toEqual({ site: 'xa-a', port: 1883 });
  });

  it('lets the caller rewrite the document before validation', () => {
    const p = file('env.yaml', 'site: xa-a\n');
    expect(loadYamlConfig(schema, p, (doc, text) => ({ ...(doc as object), port: text.length }))).toEqual({ site: 'xa-a', port: 11 });
  });

  it('an empty file is an empty mapping', () => {
    expect(readYamlFile(file('empty.yaml', '')).doc).toEqual({});
  });

  it('an unreadable file is E_CONFIG_READ with its path', () => {
    const err = caught(() => loadYamlConfig(schema, join(dir, 'missing.yaml')));
    expect(err.code).toBe('E_CONFIG_READ');
    expect(err.file).toBe(join(dir, 'missing.yaml'));
    expect(err.message).toMatch(/cannot read .*missing\.yaml: ENOENT/);
  });

  it('bad YAML is E_CONFIG with line and column, never an excerpt of the file', () => {
    const err = caught(() => loadYamlConfig(schema, file('broken.yaml', 'site: xa-a\nhub:\n  token: s3cr3t-token\n  x: [unclosed\n')));
    expect(err.code).toBe('E_CONFIG');
    expect(err.issues).toEqual([expect.stringMatching(/^\(yaml\): .*\(line \d+, column \d+\)$/)]);
    expect(err.message).not.toContain('s3cr3t');
    expect(err.message).toContain('broken.yaml');
  });

  it('every schema problem with its path, code E_CONFIG, never the value', () => {
    const err = caught(() => loadYamlConfig(schema, file('bad.yaml', 'site: Bad Site\nport: many\nhub: { token: 7, url: x }\n')));
    expect(err.code).toBe('E_CONFIG');
    expect(err.issues.map((i) => i.split(':')[0])).toEqual(expect.arrayContaining(['site', 'port', 'hub.token', 'hub']));
    expect(err.message).not.toContain('Bad Site');
  });

  it('validateConfig checks an in-memory document the same way', () => {
    expect(caught(() => validateConfig(schema, {}, 'inline')).issues).toEqual([expect.stringMatching(/^site: /)]);
  });
});
