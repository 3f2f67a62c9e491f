// The scanner's view of one source file: its syntax tree, lines, and the local names bound to node:child_process.
import ts from 'typescript';

export interface SpawnSite {
  file: string;
  line: number;
  /** How it starts the program: `spawn`, `execFile`, `sh -c`, `npm script`, … */
  via: string;
  /** Program names (basenames); `node` for process.execPath. */
  programs: string[];
  /** For a program that reached the call through a helper's parameter: the calls of the helper that pass it. */
  passedAt?: Record<string, string[]>;
  /** What could not be read as a constant, each with the place it came from. */
  unresolved: string[];
}

export interface SourceText {
  /** Path relative to the project root, with `/`. */
  file: string;
  text: string;
}

const SPAWNERS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']);
const CHILD_PROCESS = new Set(['node:child_process', 'child_process']);
const ANNOTATION = /os-program:\s*([A-Za-z0-9._+-]+(?:\s*,\s*[A-Za-z0-9._+-]+)*)/;

export type Value =
  | { k: 'str'; v: string; at?: string }
  | { k: 'node' }
  | { k: 'absent' }
  | { k: 'unknown'; why: string };

export interface FileInfo {
  file: string;
  sf: ts.SourceFile;
  lines: string[];
  /** Local names bound to a child_process function, by that function's name. */
  spawners: Map<string, string>;
  /** Local names bound to the child_process module itself. */
  namespaces: Set<string>;
}

/** A function whose parameter reaches the program argument: where to look for its callers. */
export interface HelperKey {
  file: FileInfo;
  /** `name` (function), `Class.name` (static method), `new Class` (constructor). */
  key: string;
  fn: ts.SignatureDeclaration;
}

export function lineOf(f: FileInfo, node: ts.Node): number {
  return f.sf.getLineAndCharacterOfPosition(node.getStart(f.sf)).line + 1;
}

/** The names of an `os-program:` comment near the line (`none`: it starts no real program, e.g. on purpose a missing one). */
export function annotationAt(f: FileInfo, line: number): string[] | undefined {
  for (let l = line; l >= Math.max(1, line - 3); l--) {
    const m = ANNOTATION.exec(f.lines[l - 1] ?? '');
    if (m?.[1] !== undefined) return m[1].split(',').map((s) => s.trim()).filter((s) => s !== 'none');
  }
  return undefined;
}

export function text(f: FileInfo, node: ts.Node): string {
  return node.getText(f.sf).replace(/\s+/g, ' ').slice(0, 80);
}

export function stringOf(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return undefined;
}

export function unwrap(e: ts.Expression): ts.Expression {
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isNonNullExpression(x) || ts.isSatisfiesExpression(x) || ts.isTypeAssertionExpression(x) || ts.isAwaitExpression(x)) x = x.expression;
  return x;
}

function isRequireOrImportOfChildProcess(e: ts.Expression): boolean {
  const x = unwrap(e);
  if (!ts.isCallExpression(x)) return false;
  const arg = x.arguments[0];
  const spec = arg === undefined ? undefined : stringOf(arg);
  if (spec === undefined || !CHILD_PROCESS.has(spec)) return false;
  return x.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(x.expression) && x.expression.text === 'require');
}

export function indexFile(file: string, text: string): FileInfo {
  const kind = /\.(c|m)?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const info: FileInfo = { file, sf, lines: text.split('\n'), spawners: new Map(), namespaces: new Set() };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && CHILD_PROCESS.has(node.moduleSpecifier.text)) {
      const clause = node.importClause;
      if (clause?.name !== undefined) info.namespaces.add(clause.name.text);
      const nb = clause?.namedBindings;
      if (nb !== undefined && ts.isNamespaceImport(nb)) info.namespaces.add(nb.name.text);
      if (nb !== undefined && ts.isNamedImports(nb)) {
        for (const el of nb.elements) {
          const imported = (el.propertyName ?? el.name).text;
          if (SPAWNERS.has(imported)) info.spawners.set(el.name.text, imported);
        }
      }
    }
    if (ts.isVariableDeclaration(node) && node.initializer !== undefined) {
      if (isRequireOrImportOfChildProcess(node.initializer)) {
        if (ts.isIdentifier(node.name)) info.namespaces.add(node.name.text);
        else if (ts.isObjectBindingPattern(node.name)) {
          for (const el of node.name.elements) {
            const imported = el.propertyName !== undefined && ts.isIdentifier(el.propertyName) ? el.propertyName.text : ts.isIdentifier(el.name) ? el.name.text : undefined;
            if (imported !== undefined && SPAWNERS.has(imported) && ts.isIdentifier(el.name)) info.spawners.set(el.name.text, imported);
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // promisify(execFile) and friends, after the imports are known (any order of declarations)
  const visitPromisify = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer !== undefined) {
      const init = unwrap(node.initializer);
      if (ts.isCallExpression(init)) {
        const callee = init.expression;
        const isPromisify = (ts.isIdentifier(callee) && callee.text === 'promisify') || (ts.isPropertyAccessExpression(callee) && callee.name.text === 'promisify');
        const arg = init.arguments[0];
        const target = isPromisify && arg !== undefined ? spawnerOf(info, arg) : undefined;
        if (target !== undefined) info.spawners.set(node.name.text, target);
      }
    }
    ts.forEachChild(node, visitPromisify);
  };
  visitPromisify(sf);
  return info;
}

/** The child_process function an expression names, if it names one. */
export function spawnerOf(f: FileInfo, e: ts.Expression): string | undefined {
  const x = unwrap(e);
  if (ts.isIdentifier(x)) return f.spawners.get(x.text);
  if (ts.isPropertyAccessExpression(x) && ts.isIdentifier(x.expression) && f.namespaces.has(x.expression.text) && SPAWNERS.has(x.name.text)) return x.name.text;
  return undefined;
}

export function isFunctionLike(n: ts.Node): n is ts.SignatureDeclaration & { body?: ts.Node } {
  return ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n);
}

export function helperKeyOf(f: FileInfo, fn: ts.SignatureDeclaration): HelperKey | undefined {
  if (ts.isFunctionDeclaration(fn) && fn.name !== undefined) return { file: f, key: fn.name.text, fn };
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) return { file: f, key: fn.parent.name.text, fn };
  if (ts.isMethodDeclaration(fn) && ts.isIdentifier(fn.name) && ts.isClassLike(fn.parent) && fn.parent.name !== undefined) {
    const isStatic = fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) === true;
    if (isStatic) return { file: f, key: `${fn.parent.name.text}.${fn.name.text}`, fn };
  }
  if (ts.isConstructorDeclaration(fn) && ts.isClassLike(fn.parent) && fn.parent.name !== undefined) return { file: f, key: `new ${fn.parent.name.text}`, fn };
  return undefined;
}
