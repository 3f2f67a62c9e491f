// Following an expression to the constant values it can take: literals, `const`/`let`, parameters (through every
// call of their helper), imported constants, `??`, `?:`, templates, `join(…)`, functions returning constants.
import ts from 'typescript';
import { annotationAt, helperKeyOf, isFunctionLike, lineOf, stringOf, text, unwrap, type FileInfo, type HelperKey, type Value } from './source-index.ts';

const MAX_DEPTH = 6;

export class ValueResolver {
  private readonly byFile = new Map<string, FileInfo>();

  constructor(private readonly files: readonly FileInfo[]) {
    for (const f of files) this.byFile.set(f.file, f);
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
    const origin = this.origin(f, from, (spec.propertyName ?? spec.name).text);
    const target = origin?.file;
    const name = origin?.name ?? (spec.propertyName ?? spec.name).text;
    if (target === undefined) return [{ k: 'unknown', why: `\`${name}\` imported from ${from}` }];
    for (const st of target.sf.statements) {
      if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer !== undefined) return this.resolve(target, d.initializer, depth + 1, path);
    }
    return [{ k: 'unknown', why: `\`${name}\` imported from ${from}` }];
  }

  /** Where `name` imported from `spec` is declared, through `export { name } from '…'` re-exports (testkit's of scripts/lib). */
  private origin(f: FileInfo, spec: string, name: string, hops = 0): { file: FileInfo; name: string } | undefined {
    const target = this.relative(f.file, spec);
    if (target === undefined || hops > 4) return target === undefined ? undefined : { file: target, name };
    for (const st of target.sf.statements) {
      if (!ts.isExportDeclaration(st) || st.moduleSpecifier === undefined || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const clause = st.exportClause;
      if (clause === undefined || !ts.isNamedExports(clause)) continue;
      const el = clause.elements.find((e) => e.name.text === name);
      if (el !== undefined) return this.origin(target, st.moduleSpecifier.text, (el.propertyName ?? el.name).text, hops + 1);
    }
    return { file: target, name };
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
      const el = nb.elements.find((e) => e.name.text === h.key);
      if (el === undefined) continue;
      const origin = this.origin(f, st.moduleSpecifier.text, (el.propertyName ?? el.name).text);
      if (origin?.file === h.file && origin.name === h.key) return true;
    }
    return false;
  }
}
