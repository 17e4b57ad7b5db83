/**
 * Every type that appears in a public signature is exported: a user (or a tslab cell, which
 * compiles each cell with declarations) can name the type of anything the library hands back.
 *
 * The published `.d.ts` bundles are rolled up from the sources' public entry points, so a type
 * that appears in them but is not exported is a type reachable from an entry's exports that is
 * not itself among them. This test finds those with the TypeScript compiler API on the sources
 * (the bundles take minutes to build; `pnpm test:build` checks they build): it starts from
 * every export of every entry in the packages' `exports` maps and walks
 *  - syntactically, each declaration's type annotations (parameters, return types, type alias
 *    bodies, interface and public class members, heritage clauses, `typeof` queries), which is
 *    what the declaration emitter copies, aliases of primitive types included;
 *  - semantically, the inferred type of every unannotated exported value or public member,
 *    which is what the emitter prints for those,
 * and follows every named type it meets (transitively) so a type reachable only through another
 * unexported one is found too. Private and protected class members, `#` names and function
 * bodies are not part of a signature and are skipped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");
const PACKAGES = ["core", "optim", "nn", "notebook", "onnx"];

/** The source file of each public entry point (`exports` map, the `@cotangent/source` condition). */
export const entryPoints = (): string[] =>
  PACKAGES.flatMap((p) => {
    const pkg = JSON.parse(readFileSync(join(root, "packages", p, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
    return Object.values(pkg.exports).map((e) => join(root, "packages", p, e["@cotangent/source"]!));
  });

const isLibrarySource = (file: string): boolean => {
  const rel = relative(root, file).split(sep);
  return rel[0] === "packages" && rel[2] === "src" && !rel.includes("node_modules");
};

/** "name (declared in file:line) appears in the public signature of path" for each unexported type. */
export function unexportedPublicTypes(entries: string[], isOurs: (file: string) => boolean = isLibrarySource): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram(entries, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const oursDecl = (s: ts.Symbol): ts.Declaration | undefined => s.declarations?.find((d) => isOurs(d.getSourceFile().fileName));

  // Everything the entries export, namespaces (`export * as np`) opened recursively.
  const exported = new Set<ts.Symbol>();
  const roots: [ts.Symbol, string][] = [];
  const addExports = (moduleSymbol: ts.Symbol, path: string) => {
    for (const e of checker.getExportsOfModule(moduleSymbol)) {
      const s = resolve(e);
      if (exported.has(s)) continue;
      exported.add(s);
      const name = `${path}.${e.name}`;
      if (s.flags & ts.SymbolFlags.ValueModule && s.declarations?.some(ts.isSourceFile)) addExports(s, name);
      else roots.push([s, name]);
    }
  };
  for (const file of entries) {
    const source = program.getSourceFile(file)!;
    const moduleSymbol = checker.getSymbolAtLocation(source)!;
    addExports(moduleSymbol, relative(join(root, "packages"), file).replace(/\/src\//, ":").replace(/\.ts$/, ""));
  }

  const problems = new Map<ts.Symbol, string>();
  const seen = new Set<ts.Symbol>();
  const queue: [ts.Symbol, string][] = [...roots];
  const NAMED = ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;

  /** A named type or `typeof` target met in `from`'s signature: it must be exported. */
  const meet = (found: ts.Symbol | undefined, from: string) => {
    if (!found) return;
    const s = resolve(found);
    const decl = oursDecl(s);
    if (!decl || s.flags & ts.SymbolFlags.TypeParameter) return;
    // `typeof value` names a value, not a type: its declaration's types are followed, but a
    // bundle may keep the value itself private (the user names it `typeof exportedValue`).
    const isType = !!(s.flags & NAMED);
    if (isType && !exported.has(s) && !problems.has(s)) {
      const where = decl.getSourceFile();
      const line = where.getLineAndCharacterOfPosition(decl.getStart()).line + 1;
      problems.set(s, `${s.name} (${relative(root, where.fileName)}:${line}) appears in the public signature of ${from}`);
    }
    queue.push([s, `${from} > ${s.name}`]);
  };

  const isHidden = (m: ts.Node): boolean => {
    const flags = ts.getCombinedModifierFlags(m as ts.Declaration);
    if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return true;
    const name = (m as { name?: ts.Node }).name;
    return !!name && ts.isPrivateIdentifier(name);
  };

  /** Types the declaration emitter copies from the source text. */
  const walkSyntax = (node: ts.Node, from: string): void => {
    if (ts.isBlock(node) || ts.isExpressionStatement(node)) return;
    if ((ts.isClassElement(node) || ts.isTypeElement(node)) && isHidden(node)) return;
    if (ts.isTypeReferenceNode(node)) meet(checker.getSymbolAtLocation(node.typeName), from);
    else if (ts.isExpressionWithTypeArguments(node)) meet(checker.getSymbolAtLocation(node.expression), from);
    else if (ts.isTypeQueryNode(node)) meet(checker.getSymbolAtLocation(node.exprName), from);
    else if (ts.isImportTypeNode(node) && node.qualifier) meet(checker.getSymbolAtLocation(node.qualifier), from);
    // Unannotated values and members: the emitter prints their inferred type.
    if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isParameter(node)) && !node.type && node.initializer) {
      walkType(checker.getTypeAtLocation(node.name), from, new Set());
    }
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isGetAccessor(node)) && !node.type) {
      const sig = checker.getSignatureFromDeclaration(node);
      if (sig) walkType(sig.getReturnType(), from, new Set());
    }
    // An initializer is not part of a signature, except a value's inferred type (handled above).
    node.forEachChild((child) => {
      if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isParameter(node)) && child === node.initializer) {
        if (ts.isArrowFunction(child) || ts.isFunctionExpression(child)) walkSyntax(child, from);
        return;
      }
      walkSyntax(child, from);
    });
  };

  /** Types the declaration emitter prints from inference. */
  const walkType = (t: ts.Type, from: string, visiting: Set<ts.Type>): void => {
    if (visiting.has(t)) return;
    visiting.add(t);
    if (t.aliasSymbol) {
      meet(t.aliasSymbol, from);
      for (const a of t.aliasTypeArguments ?? []) walkType(a, from, visiting);
      if (oursDecl(t.aliasSymbol) || !isOurs(t.aliasSymbol.declarations?.[0]?.getSourceFile().fileName ?? "")) return;
    }
    if (t.isUnionOrIntersection()) return t.types.forEach((m) => walkType(m, from, visiting));
    const symbol = t.getSymbol();
    if (symbol && symbol.flags & NAMED) {
      meet(symbol, from);
      for (const a of checker.getTypeArguments(t as ts.TypeReference) ?? []) walkType(a, from, visiting);
      return;
    }
    if (!(t.flags & ts.TypeFlags.Object)) return;
    if ((t as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) for (const a of checker.getTypeArguments(t as ts.TypeReference)) walkType(a, from, visiting);
    if (symbol && symbol.declarations?.some((d) => !isOurs(d.getSourceFile().fileName))) return;
    for (const sig of [...t.getCallSignatures(), ...t.getConstructSignatures()]) {
      for (const p of sig.getParameters()) walkType(checker.getTypeOfSymbol(p), from, visiting);
      for (const tp of sig.getTypeParameters() ?? []) {
        const c = tp.getConstraint();
        if (c) walkType(c, from, visiting);
      }
      walkType(sig.getReturnType(), from, visiting);
    }
    for (const p of t.getProperties()) {
      if (p.valueDeclaration && isHidden(p.valueDeclaration)) continue;
      walkType(checker.getTypeOfSymbol(p), from, visiting);
    }
  };

  while (queue.length > 0) {
    const [s, from] = queue.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of s.declarations ?? []) if (isOurs(d.getSourceFile().fileName)) walkSyntax(d, from);
  }
  return [...problems.values()].sort();
}

describe("public types", () => {
  it("every type in a public signature of core, optim, nn, notebook and onnx is exported", () => {
    expect(unexportedPublicTypes(entryPoints())).toEqual([]);
  }, 120_000);

  it("the walk finds an unexported type, through an alias of a primitive type and through inference", () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-public-types-"));
    const file = join(dir, "probe.ts");
    writeFileSync(
      file,
      `type Hidden = number;
       interface Opts { a: Hidden }
       class Box { value = 1; private secret: Hidden2 = 0 as Hidden2; }
       type Hidden2 = number;
       export function f(o?: Opts): number { return o?.a ?? 0; }
       export const g = () => new Box();
       export interface Shown { b: Shown }\n`,
    );
    try {
      const found = unexportedPublicTypes([file], (f) => f.startsWith(dir)).map((p) => p.split(" ")[0]);
      expect(found).toEqual(["Box", "Hidden", "Opts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
