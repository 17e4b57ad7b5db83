/**
 * Stack frames in tslab labelled by cell and line: `at f (In[3]:4:9)` where line 4 is the
 * line the user typed in cell [3], not the line of tslab's transpiled JavaScript (which adds
 * `exports.x = x;` lines, hoists requires and drops blank lines, so it is 1-3+ lines off).
 *
 * tslab runs each cell as `vm.runInThisContext("(function(exports, require) { " + js + "\n})(...)")`
 * without a file name, so V8 names every frame `evalmachine.<anonymous>:line:col`. Installed
 * in the kernel, this module
 *  - records each cell's source and execution count as tslab's execute handler receives it,
 *  - gives each cell's code the file name `In[n]` (so a function defined in cell 3 and called
 *    from cell 5 shows both cells),
 *  - and, in `Error.prepareStackTrace` (chained after any existing one), maps each `In[n]`
 *    position back to the cell's source and drops the frame of tslab's own wrapper call.
 * Core's errors read their "at file:line" from the stack, so they name `In[n]:line` too.
 *
 * There is no source map to read (tslab compiles twice and keeps none), so a position is
 * mapped by the identifier at it: the call `np.reshape(...)` at a position of the JavaScript is
 * the k-th occurrence of the name `reshape` there, and the k-th occurrence of `reshape` in the
 * TypeScript source is where the user wrote it. Lines tslab inserts (exports, requires) and
 * types the compiler erases are left out of the counts. When no identifier matches, the
 * transpiled position is kept and marked `~`. Written by hand: nothing maps tslab's output.
 */
import type * as TS from "typescript";

type Ts = typeof TS;

interface Cell {
  readonly source: string;
  readonly code: string;
  parsed?: { src: TS.SourceFile; out: TS.SourceFile; srcIds: Map<string, TS.Identifier[]>; outIds: Map<string, TS.Identifier[]> };
}

const cells = new Map<string, Cell>();
let typescript: Ts | null = null;

/** tslab's wrapper around each cell's JavaScript (executor.js). */
const WRAPPER_HEAD = /^\((async )?function\(exports, require\) \{ /;

/** Registers the code a cell runs as, under `filename` (`In[n]`), for mapping its frames. */
export const registerCell = (filename: string, source: string, code: string, ts: Ts): void => {
  typescript = ts;
  cells.set(filename, { source, code });
};

/** Forgets every registered cell (tests). */
export const clearCells = (): void => cells.clear();

/** Identifiers in document order by name, skipping what `skip` says is not the user's code. */
const identifiersByName = (ts: Ts, sf: TS.SourceFile, skip: (n: TS.Node) => boolean): Map<string, TS.Identifier[]> => {
  const byName = new Map<string, TS.Identifier[]>();
  const visit = (n: TS.Node): void => {
    if (skip(n)) return;
    if (ts.isIdentifier(n)) {
      const list = byName.get(n.text) ?? [];
      list.push(n);
      byName.set(n.text, list);
    }
    n.forEachChild(visit);
  };
  visit(sf);
  return byName;
};

/** Source nodes the compiler erases: imports, types and type-only declarations. */
const erased = (ts: Ts) => (n: TS.Node): boolean =>
  ts.isImportDeclaration(n) ||
  ts.isImportEqualsDeclaration(n) ||
  ts.isExportDeclaration(n) ||
  ts.isTypeNode(n) ||
  ts.isInterfaceDeclaration(n) ||
  ts.isTypeAliasDeclaration(n) ||
  ts.isTypeParameterDeclaration(n) ||
  ts.isHeritageClause(n) ||
  (ts.canHaveModifiers(n) && !!ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword));

/** Statements tslab's conversion inserts: `exports.x = x;`, `Object.defineProperty(exports, ...)`, requires, helpers. */
const inserted = (ts: Ts) => (n: TS.Node): boolean => {
  const text = (e: TS.Node) => e.getText();
  if (ts.isExpressionStatement(n)) {
    const e = n.expression;
    if (ts.isCallExpression(e) && /^Object\.defineProperty$/.test(text(e.expression)) && e.arguments[0] && text(e.arguments[0]) === "exports") return true;
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken && /^exports\./.test(text(e.left))) {
      // `exports.a = a;` and `exports.a = exports.b = void 0;` are tslab's; `exports.tsLastExpr = <expr>` holds the user's expression.
      let r: TS.Expression = e.right;
      while (ts.isBinaryExpression(r) && r.operatorToken.kind === ts.SyntaxKind.EqualsToken && /^exports\./.test(text(r.left))) r = r.right;
      return ts.isIdentifier(r) || ts.isVoidExpression(r);
    }
  }
  if (ts.isVariableStatement(n)) {
    return n.declarationList.declarations.some((d) => (ts.isIdentifier(d.name) && d.name.text.startsWith("__")) || (d.initializer !== undefined && /\brequire\(/.test(text(d.initializer))));
  }
  return false;
};

/** The name a call or `new` at a frame's position is known by: `reshape` of `np.reshape(...)`, `grad` of `(0, core_1.grad)(f)`. */
const calleeName = (ts: Ts, e: TS.Expression): TS.Identifier | null => {
  while (ts.isParenthesizedExpression(e) || (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.CommaToken)) e = ts.isParenthesizedExpression(e) ? e.expression : e.right;
  if (ts.isIdentifier(e)) return e;
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.name)) return e.name;
  return null;
};

/**
 * The identifiers V8's position may point at in `sf`, best first: the identifier there, the
 * name of the call or `new` there (through `await`, parentheses and `(0, m.f)`), else the
 * identifiers after it on its line.
 */
const anchorsAt = (ts: Ts, sf: TS.SourceFile, pos: number): TS.Identifier[] => {
  let node: TS.Node = sf;
  for (;;) {
    const child: TS.Node | undefined = node.forEachChild((c) => (c.getStart(sf) <= pos && pos < c.end ? c : undefined));
    if (!child) break;
    node = child;
  }
  const found: TS.Identifier[] = [];
  let e: TS.Node = node;
  while (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  if (ts.isIdentifier(e)) found.push(e);
  if ((ts.isCallExpression(e) || ts.isNewExpression(e)) && (e.arguments === undefined || pos < e.arguments.pos || e !== node)) {
    const name = calleeName(ts, e.expression);
    if (name) found.push(name);
  }
  if (ts.isParenthesizedExpression(node)) {
    const name = calleeName(ts, node);
    if (name) found.push(name);
  }
  // Else an identifier after the position on its line (a property read, an operator's operand).
  const line = sf.getLineAndCharacterOfPosition(pos).line;
  const after = (n: TS.Node): void => {
    if (ts.isIdentifier(n) && n.getStart(sf) >= pos && sf.getLineAndCharacterOfPosition(n.getStart(sf)).line === line) found.push(n);
    n.forEachChild(after);
  };
  after(node);
  return found;
};

/**
 * Where position `line:col` (1-based, as V8 reports it) of a cell's wrapped JavaScript `code`
 * is in the cell's `source`: `{ line, col }` (1-based), `"wrapper"` for tslab's own call of
 * the cell function, or null when it cannot be told.
 */
export const mapCellPosition = (ts: Ts, cell: { source: string; code: string; parsed?: Cell["parsed"] }, line: number, col: number): { line: number; col: number } | "wrapper" | null => {
  if (!cell.parsed) {
    const src = ts.createSourceFile("cell.ts", cell.source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const out = ts.createSourceFile("cell.js", cell.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    cell.parsed = { src, out, srcIds: identifiersByName(ts, src, erased(ts)), outIds: identifiersByName(ts, out, inserted(ts)) };
  }
  const { src, out, srcIds, outIds } = cell.parsed;
  const lines = out.getLineStarts();
  if (line < 1 || line > lines.length) return null;
  // The wrapper's last line `})(__tslab__.exports, __tslab__.require)` is tslab calling the cell.
  if (line === lines.length && /^\}\)\(__tslab__\./.test(cell.code.slice(lines[line - 1]!))) return "wrapper";
  const pos = lines[line - 1]! + col - 1;
  // The first candidate that is one of the user's names: tslab's own (`exports`, `core_1`) are not.
  for (const anchor of anchorsAt(ts, out, pos)) {
    const k = (outIds.get(anchor.text) ?? []).indexOf(anchor);
    const target = srcIds.get(anchor.text)?.[k];
    if (k < 0 || !target) continue;
    const at = src.getLineAndCharacterOfPosition(target.getStart(src));
    return { line: at.line + 1, col: at.character + 1 };
  }
  return null;
};

const CELL_FRAME = /(In\[\d+\]):(\d+):(\d+)/;
const KERNEL_FRAME = /[\\/]tslab[\\/]dist[\\/]|\(node:vm:|\(node:internal[\\/]|^\s+at vm\.runInThisContext /;

/** A stack's frames with every `In[n]:line:col` mapped to the cell's source, tslab's wrapper frames dropped. */
export const mapCellFrames = (stack: string): string => {
  if (!typescript || !CELL_FRAME.test(stack)) return stack;
  const ts = typescript;
  return stack
    .split("\n")
    .flatMap((l) => {
      if (!/^\s+at /.test(l)) return [l];
      // Below the cells: tslab's executor and Node's vm, which ran them.
      if (KERNEL_FRAME.test(l)) return [];
      const m = CELL_FRAME.exec(l);
      const cell = m ? cells.get(m[1]!) : undefined;
      if (!m || !cell) return [l];
      let mapped: ReturnType<typeof mapCellPosition> = null;
      try {
        mapped = mapCellPosition(ts, cell, Number(m[2]), Number(m[3]));
      } catch {
        mapped = null;
      }
      if (mapped === "wrapper") return [];
      // A function of an earlier cell is called through tslab's exports proxy: `Proxy.f` is the user's `f`.
      return [l.replace(CELL_FRAME, mapped ? `$1:${mapped.line}:${mapped.col}` : `$1:~$2:$3`).replace(/^(\s+at (?:async )?)Proxy\./, "$1")];
    })
    .join("\n");
};

type PrepareStackTrace = (err: Error, frames: NodeJS.CallSite[]) => unknown;

/** V8's own stack format, for when no other `prepareStackTrace` is installed. */
const defaultPrepare: PrepareStackTrace = (err, frames) => {
  let head: string;
  try {
    head = Error.prototype.toString.call(err);
  } catch {
    head = "Error";
  }
  return [head, ...frames.map((f) => `    at ${f}`)].join("\n");
};

let uninstall: (() => void) | null = null;

/**
 * Installs the `Error.prepareStackTrace` hook that maps cell frames (chained after any hook
 * already there). Idempotent; returns a function that removes it.
 */
export const installStackMapping = (): (() => void) => {
  if (uninstall) return uninstall;
  const previous = Error.prepareStackTrace as PrepareStackTrace | undefined;
  const hook: PrepareStackTrace = (err, frames) => {
    const text = (previous ?? defaultPrepare)(err, frames);
    return typeof text === "string" ? mapCellFrames(text) : text;
  };
  Error.prepareStackTrace = hook as typeof Error.prepareStackTrace;
  uninstall = () => {
    if (Error.prepareStackTrace === (hook as unknown)) Error.prepareStackTrace = previous as typeof Error.prepareStackTrace;
    uninstall = null;
  };
  return uninstall;
};

type Module = { exports: unknown; filename?: string };
type Vm = { runInThisContext: (code: string, options?: unknown) => unknown };

/**
 * Names the code of each cell tslab runs `In[n]` and registers it, `current()` telling the
 * executing cell's count and source. Returns a function that undoes it.
 */
export const nameCells = (vm: Vm, ts: Ts, current: () => { count: number; source: string } | null): (() => void) => {
  const run = vm.runInThisContext;
  vm.runInThisContext = function (this: unknown, code: string, options?: unknown) {
    const cell = current();
    if (cell && typeof code === "string" && WRAPPER_HEAD.test(code)) {
      const filename = `In[${cell.count}]`;
      registerCell(filename, cell.source, code, ts);
      options = { ...(typeof options === "object" && options !== null ? options : {}), filename };
    }
    return run.call(this, code, options);
  };
  return () => {
    vm.runInThisContext = run;
  };
};

/**
 * Inside the tslab kernel: records each cell's source and count from tslab's execute
 * handler, names each cell's code `In[n]` and maps its frames. Does nothing elsewhere, or
 * when tslab's internals are not the ones this was written against (1.0.x): frames then keep
 * tslab's names. Called when `@cotangent/notebook` is imported.
 */
export const trackTslabCells = (): boolean => {
  const main = (globalThis as { process?: { mainModule?: Module & { constructor?: { _cache?: Record<string, Module> }; require?: (id: string) => unknown } } }).process?.mainModule;
  if (!main || !/tslab/.test(main.filename ?? "") || !main.require) return false;
  const cache = main.constructor?._cache ?? {};
  const find = (re: RegExp) => {
    const key = Object.keys(cache).find((k) => re.test(k));
    return key ? cache[key]!.exports : undefined;
  };
  const jupyter = find(/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/) as { JupyterHandlerImpl?: { prototype: Record<string, unknown> } } | undefined;
  const ts = find(/[\\/]@tslab[\\/]typescript-for-tslab[\\/]lib[\\/]typescript\.js$/) as Ts | undefined;
  const proto = jupyter?.JupyterHandlerImpl?.prototype;
  const vm = main.require("vm") as Vm;
  if (!proto || typeof proto.handleExecuteImpl !== "function" || !ts?.createSourceFile || (proto.handleExecuteImpl as { cotangent?: boolean }).cotangent) return false;
  let current: { count: number; source: string } | null = null;
  const execute = proto.handleExecuteImpl as (this: { execCount: number }, req: { code: string }, ...rest: unknown[]) => unknown;
  const tracked = function (this: { execCount: number }, req: { code: string }, ...rest: unknown[]) {
    current = { count: this.execCount + 1, source: String(req.code) };
    return execute.call(this, req, ...rest);
  };
  (tracked as { cotangent?: boolean }).cotangent = true;
  proto.handleExecuteImpl = tracked;
  nameCells(vm, ts, () => current);
  installStackMapping();
  return true;
};
