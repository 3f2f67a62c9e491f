// Reading a YAML config file: read → parse → validate with zod, every problem as `path: message`.
// A message never quotes the file: a config may hold a token or a password, so a YAML error gives its position only.
import { readFileSync } from 'node:fs';
import { YAMLError, parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { CodedError, errorMessage } from './errors.ts';
import { issueLines } from './zod-issues.ts';

export type YamlConfigCode = 'E_CONFIG_READ' | 'E_CONFIG';

/** `E_CONFIG_READ`: the file could not be read; `E_CONFIG`: not YAML, or not valid. `issues` are `path: message` lines. */
export class YamlConfigError extends CodedError<YamlConfigCode> {
  constructor(
    code: YamlConfigCode,
    readonly file: string,
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(code, `${code === 'E_CONFIG_READ' ? 'cannot read' : 'invalid'} ${file}: ${issues.join('; ')}`, options);
  }
}

export interface YamlFile {
  /** The file's text (e.g. for a revision hash). */
  text: string;
  /** The parsed document; an empty file is `{}`. */
  doc: unknown;
}

/** Parses YAML text; an error names its line and column, never an excerpt of the text. */
export function parseYamlText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: false }) ?? {};
  } catch (err: unknown) {
    const offset = err instanceof YAMLError ? err.pos[0] : undefined;
    const before = offset === undefined ? undefined : text.slice(0, offset).split('\n');
    const at = before === undefined ? '' : ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
    throw new YamlConfigError('E_CONFIG', file, [`(yaml): ${errorMessage(err).split('\n')[0] ?? ''}${at}`], { cause: err });
  }
}

export function readYamlFile(file: string): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new YamlConfigError('E_CONFIG_READ', file, [errorMessage(err)], { cause: err });
  }
  return { text, doc: parseYamlText(text, file) };
}

/** Validates a document against `schema`; every problem with its path. */
export function validateConfig<S extends z.ZodType>(schema: S, doc: unknown, file: string): z.output<S> {
  const parsed = schema.safeParse(doc);
  if (!parsed.success) throw new YamlConfigError('E_CONFIG', file, issueLines(parsed.error.issues), { cause: parsed.error });
  return parsed.data;
}

/** Reads, parses and validates a YAML config file; `prepare` may rewrite the document before validation (env overrides). */
export function loadYamlConfig<S extends z.ZodType>(schema: S, file: string, prepare?: (doc: unknown, text: string) => unknown): z.output<S> {
  const { text, doc } = readYamlFile(file);
  return validateConfig(schema, prepare === undefined ? doc : prepare(doc, text), file);
}
