// Finds the programs that source files start, for test/os-programs.test.ts: calls of node:child_process
// (spawn, spawnSync, execFile, execFileSync, exec, execSync, fork, also renamed, through a namespace, a
// require() or promisify()), shell command lines (`sh -c`, exec, `shell: true`), project helpers that pass
// one of their parameters on as the program (resolved at every call of the helper: functions, static methods,
// constructors), npm scripts and Node-RED exec nodes.
//
// The program is read from the code with the TypeScript parser, following constants: string literals,
// `const` and `let` (every assignment), parameters (at the helper's call sites, also object properties
// such as `opts.binary ?? 'influxd'`), imports of exported constants, `a ?? b`, `c ? a : b`, templates of
// constants, `['/usr/bin/x', …].find(…)`, `join(…, 'x')`, functions that return a constant, `for … of [...]`.
// Limits: values computed at run time (read from a config file or the environment, a parameter of an instance
// method, a property of an object that is not a literal) cannot be followed; such a call is reported as
// unresolved, and a comment `os-program: NAME[, NAME]` on its line or one of the three lines above it (or above
// the helper's call site) names what it starts. Not seen: programs started by code in node_modules (Node-RED's
// own nodes, npm packages), by code handed to `node -e` as a string, or by shell scripts outside the sources.
import { basename } from 'node:path';
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
const MAX_DEPTH = 6;

type Value =
  | { k: 'str'; v: string; at?: string }
  | { k: 'node' }
  | { k: 'absent' }
  | { k: 'unknown'; why: string };

interface FileInfo {
  file: string;
  sf: ts.SourceFile;
  lines: string[];
  /** Local names bound to a child_process function, by that function's name. */
  spawners: Map<string, string>;
  /** Local names bound to the child_process module itself. */
  namespaces: Set<string>;
}

/** A function whose parameter reaches the program argument: where to look for its callers. */
interface HelperKey {
  file: FileInfo;
  /** `name` (function), `Class.name` (static method), `new Class` (constructor). */
  key: string;
  fn: ts.SignatureDeclaration;
}

function lineOf(f: FileInfo, node: ts.Node): number {
  return f.sf.getLineAndCharacterOfPosition(node.getStart(f.sf)).line + 1;
}

/** The names of an `os-program:` comment near the line (`none`: it starts no real program, e.g. on purpose a missing one). */
function annotationAt(f: FileInfo, line: number): string[] | undefined {
  for (let l = line; l >= Math.max(1, line - 3); l--) {
    const m = ANNOTATION.exec(f.lines[l - 1] ?? '');
    if (m?.[1] !== undefined) return m[1].split(',').map((s) => s.trim()).filter((s) => s !== 'none');
  }
  return undefined;
}

function text(f: FileInfo, node: ts.Node): string {
  return node.getText(f.sf).replace(/\s+/g, ' ').slice(0, 80);
}

function stringOf(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return undefined;
}

function unwrap(e: ts.Expression): ts.Expression {
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

function indexFile(file: string, text: string): FileInfo {
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
function spawnerOf(f: FileInfo, e: ts.Expression): string | undefined {
  const x = unwrap(e);
  if (ts.isIdentifier(x)) return f.spawners.get(x.text);
  if (ts.isPropertyAccessExpression(x) && ts.isIdentifier(x.expression) && f.namespaces.has(x.expression.text) && SPAWNERS.has(x.name.text)) return x.name.text;
  return undefined;
}

function isFunctionLike(n: ts.Node): n is ts.SignatureDeclaration & { body?: ts.Node } {
  return ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n);
}

function helperKeyOf(f: FileInfo, fn: ts.SignatureDeclaration): HelperKey | undefined {
  if (ts.isFunctionDeclaration(fn) && fn.name !== undefined) return { file: f, key: fn.name.text, fn };
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) return { file: f, key: fn.parent.name.text, fn };
  if (ts.isMethodDeclaration(fn) && ts.isIdentifier(fn.name) && ts.isClassLike(fn.parent) && fn.parent.name !== undefined) {
    const isStatic = fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) === true;
    if (isStatic) return { file: f, key: `${fn.parent.name.text}.${fn.name.text}`, fn };
  }
  if (ts.isConstructorDeclaration(fn) && ts.isClassLike(fn.parent) && fn.parent.name !== undefined) return { file: f, key: `new ${fn.parent.name.text}`, fn };
  return undefined;
}

class Scanner {
  private readonly files: FileInfo[];
  private readonly byFile = new Map<string, FileInfo>();

  constructor(sources: readonly SourceText[]) {
    this.files = sources.map((s) => indexFile(s.file, s.text));
    for (const f of this.files) this.byFile.set(f.file, f);
  }

  scan(): SpawnSite[] {
    const sites: SpawnSite[] = [];
    for (const f of this.files) {
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node)) {
          const kind = spawnerOf(f, node.expression);
          if (kind !== undefined) sites.push(this.site(f, node, kind));
        }
        ts.forEachChild(node, visit);
      };
      visit(f.sf);
    }
    return sites;
  }

  private site(f: FileInfo, call: ts.CallExpression, kind: string): SpawnSite {
    const line = lineOf(f, call);
    const programs = new Set<string>();
    const passedAt: Record<string, string[]> = {};
    const unresolved: string[] = [];
    const add = (vals: Value[], where: string): void => {
      for (const v of vals) {
        if (v.k === 'str') {
          const name = basename(v.v);
          programs.add(name);
          if (v.at !== undefined) (passedAt[name] ??= []).push(v.at);
        }
        else if (v.k === 'node') programs.add('node');
        else if (v.k === 'unknown') unresolved.push(`${where}: ${v.why}`);
      }
    };
    const addShell = (vals: Value[], where: string): void => {
      for (const v of vals) {
        if (v.k === 'str') {
          const parsed = parseShellCommand(v.v);
          for (const p of parsed.programs) programs.add(basename(p));
          for (const u of parsed.unresolved) unresolved.push(`${where}: ${u}`);
        } else if (v.k === 'unknown') unresolved.push(`${where}: shell command ${v.why}`);
      }
    };
    const [a0, a1, a2] = call.arguments;
    const here = `${f.file}:${line}`;
    if (kind === 'fork') programs.add('node');
    else if (kind === 'exec' || kind === 'execSync') {
      programs.add('sh');
      if (a0 !== undefined) addShell(this.resolve(f, a0, 0), here);
    } else if (a0 !== undefined) {
      const options = a1 !== undefined && !ts.isArrayLiteralExpression(unwrap(a1)) ? a1 : a2;
      const shell = options !== undefined && this.hasShellOption(f, options);
      const prog = this.resolve(f, a0, 0);
      if (shell) {
        programs.add('sh');
        addShell(prog, here);
      } else add(prog, here);
      // `sh -c "…"`: the command line's programs too
      const args = a1 === undefined ? undefined : unwrap(a1);
      if (prog.some((v) => v.k === 'str' && /^(sh|bash|dash)$/.test(basename(v.v))) && args !== undefined && ts.isArrayLiteralExpression(args)) {
        const [flag, cmd] = args.elements;
        if (flag !== undefined && cmd !== undefined && this.resolve(f, flag, 0).some((v) => v.k === 'str' && /^-\w*c\w*$/.test(v.v))) addShell(this.resolve(f, cmd, 0), here);
      }
    }
    const note = annotationAt(f, line);
    if (note !== undefined) {
      for (const n of note) programs.add(n);
      unresolved.length = 0;
    }
    const via = kind === 'exec' || kind === 'execSync' ? `${kind} (sh -c)` : kind;
    const site: SpawnSite = { file: f.file, line, via, programs: [...programs].sort(), unresolved };
    if (Object.keys(passedAt).length > 0) site.passedAt = passedAt;
    return site;
  }

  private hasShellOption(f: FileInfo, options: ts.Expression): boolean {
    const o = unwrap(options);
    if (!ts.isObjectLiteralExpression(o)) return false;
    for (const p of o.properties) {
      if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'shell') {
        const v = unwrap(p.initializer);
        return v.kind !== ts.SyntaxKind.FalseKeyword;
      }
    }
    void f;
    return false;
  }

  /** Every constant value the expression can take, as far as the code shows it. */
  resolve(f: FileInfo, e: ts.Expression, depth: number, path: readonly string[] = []): Value[] {
    if (depth > MAX_DEPTH) return [{ k: 'unknown', why: `\`${text(f, e)}\` (too deep to follow)` }];
    const x = unwrap(e);
    if (path.length === 0) {
      const s = stringOf(x);
      if (s !== undefined) return [{ k: 'str', v: s }];
      if (ts.isTemplateExpression(x)) return this.template(f, x, depth);
      if (ts.isBinaryExpression(x) && x.operatorToken.kind === ts.SyntaxKind.PlusToken) return this.concat(f, x, depth);
      if (ts.isArrayLiteralExpression(x)) return x.elements.flatMap((el) => this.resolve(f, el, depth + 1));
    }
    if (ts.isBinaryExpression(x) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(x.operatorToken.kind)) {
      return [...this.resolve(f, x.left, depth + 1, path), ...this.resolve(f, x.right, depth + 1, path)];
    }
    if (ts.isConditionalExpression(x)) return [...this.resolve(f, x.whenTrue, depth + 1, path), ...this.resolve(f, x.whenFalse, depth + 1, path)];
    if (x.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(x) && x.text === 'undefined')) return [{ k: 'absent' }];
    if (ts.isPropertyAccessExpression(x)) {
      const t = x.getText(f.sf);
      if (path.length === 0 && (t === 'process.execPath' || t === 'process.argv0')) return [{ k: 'node' }];
      const vals = this.resolve(f, x.expression, depth + 1, [x.name.text, ...path]);
      return path.length > 0 ? vals : vals.map((v) => (v.k === 'unknown' ? { k: 'unknown', why: `\`${text(f, x)}\` (${v.why})` } : v));
    }
    if (ts.isElementAccessExpression(x)) {
      if (path.length === 0 && x.expression.getText(f.sf) === 'process.argv' && stringOf(x.argumentExpression) === undefined && x.argumentExpression.getText(f.sf) === '0') return [{ k: 'node' }];
      return this.resolve(f, x.expression, depth + 1, path);
    }
    if (ts.isObjectLiteralExpression(x)) {
      const [head, ...rest] = path;
      if (head === undefined) return [{ k: 'unknown', why: `\`${text(f, x)}\` is an object` }];
      for (const p of x.properties) {
        if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === head) return this.resolve(f, p.initializer, depth + 1, rest);
        if (ts.isShorthandPropertyAssignment(p) && p.name.text === head) return this.resolve(f, p.name, depth + 1, rest);
        if (ts.isSpreadAssignment(p)) return [{ k: 'unknown', why: `\`${text(f, x)}\` spreads another object` }];
      }
      return [{ k: 'absent' }];
    }
    if (ts.isCallExpression(x) && path.length === 0) return this.callValue(f, x, depth);
    if (ts.isIdentifier(x)) return this.identifier(f, x, depth, path);
    return [{ k: 'unknown', why: `\`${text(f, x)}\`` }];
  }

  private template(f: FileInfo, x: ts.TemplateExpression, depth: number): Value[] {
    let out = x.head.text;
    for (const span of x.templateSpans) {
      const v = this.resolve(f, span.expression, depth + 1).filter((y) => y.k !== 'absent');
      const only = v[0];
      if (v.length !== 1 || only === undefined || only.k !== 'str') return [{ k: 'unknown', why: `\`${text(f, x)}\`` }];
      out += only.v + span.literal.text;
    }
    return [{ k: 'str', v: out }];
  }

  private concat(f: FileInfo, x: ts.BinaryExpression, depth: number): Value[] {
    const l = this.resolve(f, x.left, depth + 1);
    const r = this.resolve(f, x.right, depth + 1);
    const [a, b] = [l[0], r[0]];
    if (l.length === 1 && r.length === 1 && a?.k === 'str' && b?.k === 'str') return [{ k: 'str', v: a.v + b.v }];
    return [{ k: 'unknown', why: `\`${text(f, x)}\`` }];
  }

  private callValue(f: FileInfo, x: ts.CallExpression, depth: number): Value[] {
    const callee = x.expression;
    const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
    const last = x.arguments[x.arguments.length - 1];
    const first = x.arguments[0];
    if (['join', 'resolve', 'normalize'].includes(name) && last !== undefined) return this.resolve(f, last, depth + 1);
    if (['find', 'findLast', 'filter', 'at', 'toSorted', 'slice'].includes(name) && ts.isPropertyAccessExpression(callee)) return this.resolve(f, callee.expression, depth + 1);
    if (name === 'String' && first !== undefined) return this.resolve(f, first, depth + 1);
    if (/which|onpath|findbin|lookpath|resolvebin|findprogram/i.test(name) && first !== undefined) return this.resolve(f, first, depth + 1);
    // a function of this file that returns constants
    if (ts.isIdentifier(callee)) {
      const decl = this.findDeclaration(f, callee);
      const fn = decl !== undefined && ts.isFunctionDeclaration(decl) ? decl : decl !== undefined && ts.isVariableDeclaration(decl) && decl.initializer !== undefined && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)) ? decl.initializer : undefined;
      if (fn?.body !== undefined) {
        if (!ts.isBlock(fn.body)) return this.resolve(f, fn.body, depth + 1);
        const returns: ts.Expression[] = [];
        const visit = (n: ts.Node): void => {
          if (ts.isReturnStatement(n) && n.expression !== undefined) returns.push(n.expression);
          if (!isFunctionLike(n)) ts.forEachChild(n, visit);
        };
        ts.forEachChild(fn.body, visit);
        if (returns.length > 0) return returns.flatMap((r) => this.resolve(f, r, depth + 1));
      }
    }
    return [{ k: 'unknown', why: `\`${text(f, x)}\` (a call)` }];
  }

  /** The declaration an identifier refers to, by the lexical scopes around it. */
  private findDeclaration(f: FileInfo, id: ts.Identifier): ts.Node | undefined {
    const name = id.text;
    let scope: ts.Node | undefined = id.parent;
    while (scope !== undefined) {
      if (isFunctionLike(scope)) {
        for (const p of scope.parameters) if (ts.isIdentifier(p.name) && p.name.text === name) return p;
      }
      if ((ts.isForOfStatement(scope) || ts.isForInStatement(scope)) && ts.isVariableDeclarationList(scope.initializer)) {
        for (const d of scope.initializer.declarations) if (ts.isIdentifier(d.name) && d.name.text === name) return d;
      }
      if (ts.isBlock(scope) || ts.isSourceFile(scope) || ts.isModuleBlock(scope) || ts.isCaseClause(scope) || ts.isDefaultClause(scope)) {
        for (const st of scope.statements) {
          if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name) return d;
          if (ts.isFunctionDeclaration(st) && st.name?.text === name) return st;
          if (ts.isClassDeclaration(st) && st.name?.text === name) return st;
          if (ts.isImportDeclaration(st) && st.importClause?.namedBindings !== undefined && ts.isNamedImports(st.importClause.namedBindings)) {
            for (const el of st.importClause.namedBindings.elements) if (el.name.text === name) return el;
          }
        }
      }
      scope = scope.parent;
    }
    return undefined;
  }

  private identifier(f: FileInfo, id: ts.Identifier, depth: number, path: readonly string[]): Value[] {
    const decl = this.findDeclaration(f, id);
    if (decl === undefined) return [{ k: 'unknown', why: `\`${id.text}\` (not declared in this file)` }];
    if (ts.isParameter(decl)) return this.parameter(f, decl, depth, path);
    if (ts.isImportSpecifier(decl)) return this.imported(f, decl, depth, path);
    if (ts.isVariableDeclaration(decl)) {
      if (ts.isForOfStatement(decl.parent.parent)) return this.resolve(f, decl.parent.parent.expression, depth + 1, path);
      const vals: Value[] = decl.initializer === undefined ? [] : this.resolve(f, decl.initializer, depth + 1, path);
      if ((decl.parent.flags & ts.NodeFlags.Const) === 0) {
        // `let`: every value assigned to it in its scope
        const scope = decl.parent.parent.parent;
        const visit = (n: ts.Node): void => {
          if (ts.isBinaryExpression(n) && ts.isIdentifier(n.left) && n.left.text === id.text && [ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken].includes(n.operatorToken.kind)) {
            vals.push(...this.resolve(f, n.right, depth + 1, path));
          }
          ts.forEachChild(n, visit);
        };
        if (scope !== undefined) visit(scope);
      }
      return vals.length > 0 ? vals : [{ k: 'unknown', why: `\`${id.text}\` has no value in the code` }];
    }
    return [{ k: 'unknown', why: `\`${id.text}\`` }];
  }

  private imported(f: FileInfo, spec: ts.ImportSpecifier, depth: number, path: readonly string[]): Value[] {
    const decl = spec.parent.parent.parent;
    const from = ts.isImportDeclaration(decl) && ts.isStringLiteral(decl.moduleSpecifier) ? decl.moduleSpecifier.text : '';
    const target = this.relative(f.file, from);
    const name = (spec.propertyName ?? spec.name).text;
    if (target === undefined) return [{ k: 'unknown', why: `\`${name}\` imported from ${from}` }];
    for (const st of target.sf.statements) {
      if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer !== undefined) return this.resolve(target, d.initializer, depth + 1, path);
    }
    return [{ k: 'unknown', why: `\`${name}\` imported from ${from}` }];
  }

  private relative(fromFile: string, spec: string): FileInfo | undefined {
    if (!spec.startsWith('.')) return undefined;
    const parts = fromFile.split('/').slice(0, -1);
    for (const seg of spec.split('/')) {
      if (seg === '..') parts.pop();
      else if (seg !== '.') parts.push(seg);
    }
    const p = parts.join('/');
    return this.byFile.get(p) ?? this.byFile.get(p.replace(/\.js$/, '.ts')) ?? this.byFile.get(`${p}.ts`);
  }

  /** A parameter: the values its helper's callers pass (or its default). */
  private parameter(f: FileInfo, p: ts.ParameterDeclaration, depth: number, path: readonly string[]): Value[] {
    const fn = p.parent;
    const index = fn.parameters.indexOf(p);
    const defaults: Value[] = p.initializer === undefined ? [] : this.resolve(f, p.initializer, depth + 1, path);
    const helper = helperKeyOf(f, fn);
    if (helper === undefined) return [{ k: 'unknown', why: `parameter \`${p.name.getText(f.sf)}\` of a function whose callers cannot be found` }];
    const calls = this.callsOf(helper);
    const vals: Value[] = [];
    for (const c of calls) {
      const at = `${c.file.file}:${lineOf(c.file, c.call)}`;
      const note = annotationAt(c.file, lineOf(c.file, c.call));
      if (note !== undefined) {
        vals.push(...note.map((v): Value => ({ k: 'str', v, at })));
        continue;
      }
      const arg = c.call.arguments?.[index];
      const got = arg === undefined ? [{ k: 'absent' } as Value] : this.resolve(c.file, arg, depth + 1, path);
      for (const g of got) {
        if (g.k === 'absent') vals.push(...defaults);
        else if (g.k === 'unknown') vals.push({ k: 'unknown', why: `${g.why}, passed to ${helper.key}() at ${c.file.file}:${lineOf(c.file, c.call)}` });
        else if (g.k === 'str') vals.push({ ...g, at: g.at ?? at });
        else vals.push(g);
      }
    }
    if (calls.length === 0) return defaults;
    return vals.length > 0 ? vals : [{ k: 'absent' }];
  }

  private readonly calls = new Map<ts.SignatureDeclaration, { file: FileInfo; call: ts.CallExpression | ts.NewExpression }[]>();
  /** Every call and `new` of the sources, by callee text (`name`, `a.b`, `new Class`): built once. */
  private callIndex: Map<string, { file: FileInfo; call: ts.CallExpression | ts.NewExpression }[]> | undefined;

  private callsOf(h: HelperKey): { file: FileInfo; call: ts.CallExpression | ts.NewExpression }[] {
    const known = this.calls.get(h.fn);
    if (known !== undefined) return known;
    if (this.callIndex === undefined) {
      const index = new Map<string, { file: FileInfo; call: ts.CallExpression | ts.NewExpression }[]>();
      for (const f of this.files) {
        const visit = (n: ts.Node): void => {
          let key: string | undefined;
          if (ts.isNewExpression(n) && ts.isIdentifier(n.expression)) key = `new ${n.expression.text}`;
          else if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) key = n.expression.text;
          else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ts.isIdentifier(n.expression.expression)) key = `${n.expression.expression.text}.${n.expression.name.text}`;
          if (key !== undefined && (ts.isCallExpression(n) || ts.isNewExpression(n))) {
            const list = index.get(key) ?? [];
            list.push({ file: f, call: n });
            index.set(key, list);
          }
          ts.forEachChild(n, visit);
        };
        visit(f.sf);
      }
      this.callIndex = index;
    }
    const out = (this.callIndex.get(h.key) ?? []).filter((c) => c.file === h.file || h.key.includes('.') || h.key.startsWith('new ') || this.importsName(c.file, h));
    this.calls.set(h.fn, out);
    return out;
  }

  private importsName(f: FileInfo, h: HelperKey): boolean {
    for (const st of f.sf.statements) {
      if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const nb = st.importClause?.namedBindings;
      if (nb === undefined || !ts.isNamedImports(nb)) continue;
      if (nb.elements.some((el) => el.name.text === h.key) && this.relative(f.file, st.moduleSpecifier.text) === h.file) return true;
    }
    return false;
  }
}

const SHELL_WORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'for', 'case', 'esac', 'in', 'function', '{', '}', '!', '[[', ']]', '(', ')']);
const SHELL_BUILTINS = new Set(['cd', 'echo', 'printf', 'export', 'set', 'unset', 'test', '[', 'true', 'false', 'read', 'exit', 'return', 'wait', 'trap', 'kill', 'command', 'type', 'eval', 'source', '.', ':', 'shift', 'local', 'umask', 'ulimit', 'hash', 'alias']);

/** The programs a shell command line starts: the first word of each command (after `VAR=value` and `exec`). */
export function parseShellCommand(cmd: string): { programs: string[]; unresolved: string[] } {
  const programs: string[] = [];
  const unresolved: string[] = [];
  const noRedirects = cmd.replace(/\d*>&\d*|&>/g, ' ');
  for (const segment of noRedirects.split(/\|\||&&|[;|&\n`]|\$\(|\(|\)/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length) {
      const w = words[i] ?? '';
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || SHELL_WORDS.has(w) || w === 'exec' || w === 'then' || w === 'do') i++;
      else break;
    }
    const w = words[i];
    if (w === undefined || SHELL_BUILTINS.has(w) || w.startsWith('-')) continue;
    const unq = w.replace(/^['"]|['"]$/g, '');
    if (unq.includes('$')) unresolved.push(`\`${unq}\` in \`${cmd.slice(0, 80)}\``);
    else programs.push(unq);
  }
  return { programs, unresolved };
}

/** The programs the sources start, site by site. */
export function scanSources(sources: readonly SourceText[]): SpawnSite[] {
  return new Scanner(sources).scan();
}

/** npm scripts in a package.json text: each script's commands. */
export function scanPackageScripts(file: string, text: string): SpawnSite[] {
  const pkg = JSON.parse(text) as { scripts?: Record<string, string> };
  const lines = text.split('\n');
  return Object.entries(pkg.scripts ?? {}).map(([name, cmd]) => {
    const parsed = parseShellCommand(cmd);
    const line = Math.max(1, lines.findIndex((l) => l.includes(`"${name}":`)) + 1);
    return { file, line, via: `npm script "${name}"`, programs: [...new Set(parsed.programs.map((p) => basename(p)))].sort(), unresolved: parsed.unresolved };
  });
}

/** Node-RED flow files: exec and daemon nodes start their `command`. */
export function scanNodeRedFlows(file: string, text: string): SpawnSite[] {
  let nodes: unknown;
  try {
    nodes = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(nodes)) return [];
  const sites: SpawnSite[] = [];
  const lines = text.split('\n');
  for (const n of nodes) {
    if (typeof n !== 'object' || n === null) continue;
    const node = n as { type?: unknown; command?: unknown; id?: unknown };
    if (node.type !== 'exec' && node.type !== 'daemon') continue;
    const cmd = typeof node.command === 'string' ? node.command : '';
    const parsed = parseShellCommand(cmd);
    const line = Math.max(1, lines.findIndex((l) => typeof node.id === 'string' && l.includes(node.id)) + 1);
    sites.push({ file, line, via: `Node-RED ${node.type} node`, programs: parsed.programs.map((p) => basename(p)), unresolved: cmd === '' ? ['a node with no command'] : parsed.unresolved });
  }
  return sites;
}

/** What the programs may be: the OS-package list's programs, and Node-side ones (node, npx, our bins, …). */
export interface AllowedPrograms {
  os: ReadonlySet<string>;
  node: ReadonlySet<string>;
  /** Also allowed in npm scripts: the bins of installed npm packages (node_modules/.bin). */
  npmBins?: ReadonlySet<string>;
}

/** One line per problem: `file:line: …`, naming the program and how it is started. */
export function problemsOf(sites: readonly SpawnSite[], allowed: AllowedPrograms): string[] {
  const problems: string[] = [];
  for (const s of sites) {
    const isScript = s.via.startsWith('npm script');
    for (const p of s.programs) {
      if (allowed.os.has(p) || allowed.node.has(p) || (isScript && allowed.npmBins?.has(p) === true)) continue;
      const through = s.passedAt?.[p];
      const what = through === undefined ? `${s.file}:${s.line}: ${s.via} starts \`${p}\`` : `${through.join(', ')}: passes \`${p}\` to the ${s.via} at ${s.file}:${s.line}`;
      problems.push(`${what}, not in scripts/os-packages.json (add {"bin": "${p}", "pkg": "<its Debian package>", …})`);
    }
    for (const u of s.unresolved) problems.push(`${s.file}:${s.line}: ${s.via}: cannot tell which program it starts (${u}); name it in a comment \`// os-program: NAME\` on the call's line or just above`);
  }
  return problems;
}
