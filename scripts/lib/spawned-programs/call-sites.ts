// The spawn sites of the sources: every call of a child_process function, with the programs it can start.
import { basename } from 'node:path';
import ts from 'typescript';
import { parseShellCommand } from './shell-command.ts';
import { annotationAt, indexFile, lineOf, spawnerOf, unwrap, type FileInfo, type SourceText, type SpawnSite, type Value } from './source-index.ts';
import { ValueResolver } from './value-resolver.ts';

export class CallSiteScanner {
  private readonly files: FileInfo[];
  private readonly values: ValueResolver;

  constructor(sources: readonly SourceText[]) {
    this.files = sources.map((s) => indexFile(s.file, s.text));
    this.values = new ValueResolver(this.files);
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
      if (a0 !== undefined) addShell(this.values.resolve(f, a0, 0), here);
    } else if (a0 !== undefined) {
      const options = a1 !== undefined && !ts.isArrayLiteralExpression(unwrap(a1)) ? a1 : a2;
      const shell = options !== undefined && this.hasShellOption(f, options);
      const prog = this.values.resolve(f, a0, 0);
      if (shell) {
        programs.add('sh');
        addShell(prog, here);
      } else add(prog, here);
      // `sh -c "…"`: the command line's programs too
      const args = a1 === undefined ? undefined : unwrap(a1);
      if (prog.some((v) => v.k === 'str' && /^(sh|bash|dash)$/.test(basename(v.v))) && args !== undefined && ts.isArrayLiteralExpression(args)) {
        const [flag, cmd] = args.elements;
        if (flag !== undefined && cmd !== undefined && this.values.resolve(f, flag, 0).some((v) => v.k === 'str' && /^-\w*c\w*$/.test(v.v))) addShell(this.values.resolve(f, cmd, 0), here);
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
}
