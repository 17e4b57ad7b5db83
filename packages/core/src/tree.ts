/**
 * Pytrees: nested containers whose leaves are arrays and JS scalars. Plain arrays,
 * plain objects (keys sorted, as JAX sorts dict keys), `null`/`undefined` (empty nodes)
 * and registered classes are containers; everything else is a leaf.
 */
import { ArrayBase } from "./array.js";
import { ValueError } from "./errors.js";

type Ctor = abstract new (...args: any[]) => any;
interface Registration {
  flatten: (x: any) => [unknown[], unknown];
  unflatten: (aux: any, children: unknown[]) => unknown;
}
const registered = new Map<Ctor, Registration>();

/** The shape of a pytree without its leaves. */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "none"; readonly value: null | undefined }
  /** A JS value a transform passes through untraced (never made by `flatten` itself). */
  | { readonly kind: "static"; readonly value: unknown }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] }
  | { readonly kind: "custom"; readonly ctor: Ctor; readonly aux: unknown; readonly children: readonly TreeDef[] };

const LEAF: TreeDef = { kind: "leaf" };

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const registrationOf = (x: object): [Ctor, Registration] | undefined => {
  for (let p = Object.getPrototypeOf(x); p !== null; p = Object.getPrototypeOf(p)) {
    const r = registered.get(p.constructor);
    if (r) return [p.constructor, r];
  }
  return undefined;
};

/** Registers a class as a pytree node. `flatten` returns `[children, aux]`. */
export const register = <T>(
  ctor: abstract new (...args: any[]) => T,
  flatten: (x: T) => [unknown[], unknown],
  unflatten: (aux: any, children: any[]) => T,
): void => {
  registered.set(ctor, { flatten, unflatten } as Registration);
};

/** Leaves in order, and the tree's structure. */
export const flatten = <L = unknown>(tree: unknown): [L[], TreeDef] => {
  const leaves: unknown[] = [];
  const go = (x: unknown): TreeDef => {
    if (x === null || x === undefined) return { kind: "none", value: x };
    if (x instanceof ArrayBase || typeof x !== "object") {
      leaves.push(x);
      return LEAF;
    }
    if (Array.isArray(x)) return { kind: "array", children: x.map(go) };
    const reg = registrationOf(x);
    if (reg) {
      const [children, aux] = reg[1].flatten(x);
      return { kind: "custom", ctor: reg[0], aux, children: children.map(go) };
    }
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      return { kind: "object", keys, children: keys.map((k) => go((x as Record<string, unknown>)[k])) };
    }
    leaves.push(x);
    return LEAF;
  };
  const def = go(tree);
  return [leaves as L[], def];
};

/**
 * One level of a pytree: the node's children, and its structure with each child as a leaf
 * (so two nodes are of one kind when these structures are equal). Null for leaves and
 * empty nodes.
 */
export const node = (x: unknown): { children: unknown[]; def: TreeDef } | null => {
  if (x === null || x === undefined || x instanceof ArrayBase || typeof x !== "object") return null;
  const one = (kids: unknown[]) => kids.map(() => LEAF);
  if (Array.isArray(x)) return { children: x.slice(), def: { kind: "array", children: one(x) } };
  const reg = registrationOf(x);
  if (reg) {
    const [children, aux] = reg[1].flatten(x);
    return { children, def: { kind: "custom", ctor: reg[0], aux, children: one(children) } };
  }
  if (!isPlainObject(x)) return null;
  const keys = Object.keys(x).sort();
  const children = keys.map((k) => (x as Record<string, unknown>)[k]);
  return { children, def: { kind: "object", keys, children: one(children) } };
};

/** The leaves of a tree, in order. */
export const leaves = <L = unknown>(tree: unknown): L[] => flatten<L>(tree)[0];

/** The structure of a tree. */
export const structure = (tree: unknown): TreeDef => flatten(tree)[1];

export const numLeaves = (def: TreeDef): number =>
  def.kind === "leaf" ? 1 : def.kind === "none" || def.kind === "static" ? 0 : def.children.reduce((s, c) => s + numLeaves(c), 0);

/** Rebuilds a tree of structure `def` from `leaves`. */
export const unflatten = <T = any>(def: TreeDef, leafValues: readonly unknown[]): T => {
  let i = 0;
  const go = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leafValues[i++];
      case "none":
      case "static":
        return d.value;
      case "array":
        return d.children.map(go);
      case "object": {
        const o: Record<string, unknown> = {};
        d.keys.forEach((k, j) => (o[k] = go(d.children[j]!)));
        return o;
      }
      case "custom":
        return registered.get(d.ctor)!.unflatten(d.aux, d.children.map(go));
    }
  };
  const out = go(def);
  if (i !== leafValues.length) {
    throw new ValueError(`structure has ${i} leaves but ${leafValues.length} were given`, { op: "tree.unflatten" });
  }
  return out as T;
};

export const treedefEquals = (a: TreeDef, b: TreeDef): boolean => {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "leaf":
      return true;
    case "none":
      return a.value === (b as typeof a).value;
    case "static":
      return Object.is(a.value, (b as typeof a).value);
    case "array":
      return a.children.length === (b as typeof a).children.length && a.children.every((c, i) => treedefEquals(c, (b as typeof a).children[i]!));
    case "object": {
      const bb = b as typeof a;
      return a.keys.length === bb.keys.length && a.keys.every((k, i) => k === bb.keys[i] && treedefEquals(a.children[i]!, bb.children[i]!));
    }
    case "custom": {
      const bb = b as typeof a;
      return a.ctor === bb.ctor && JSON.stringify(a.aux) === JSON.stringify(bb.aux) && a.children.length === bb.children.length && a.children.every((c, i) => treedefEquals(c, bb.children[i]!));
    }
  }
};

/** `PyTreeDef(...)`-like text, for error messages. */
export const treedefToString = (d: TreeDef): string => {
  switch (d.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(d.value);
    case "static":
      return typeof d.value === "function" ? `static(${d.value.name || "function"})` : typeof d.value === "string" ? `static(${JSON.stringify(d.value)})` : `static(${String(d.value)})`;
    case "array":
      return `[${d.children.map(treedefToString).join(", ")}]`;
    case "object":
      return `{${d.keys.map((k, i) => `${k}: ${treedefToString(d.children[i]!)}`).join(", ")}}`;
    case "custom":
      return `${(d.ctor as { name?: string }).name ?? "Custom"}(${d.children.map(treedefToString).join(", ")})`;
  }
};

/** Applies `f` to every leaf of `tree` (and the matching leaves of `rest`, same structure). */
export const map = <T = any>(f: (leaf: any, ...rest: any[]) => unknown, tree: unknown, ...rest: unknown[]): T => {
  const [ls, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [rl, rd] = flatten(r);
    if (!treedefEquals(def, rd)) {
      throw new ValueError(
        `tree ${k + 1} has structure ${treedefToString(rd)}, which differs from the first tree's ${treedefToString(def)}`,
        { op: "tree.map" },
      );
    }
    return rl;
  });
  return unflatten<T>(def, ls.map((l, i) => f(l, ...others.map((o) => o[i]))));
};

/** A key path entry: an array index or an object key. */
export type PathEntry = number | string;

/** Like {@link map}, with each leaf's key path as the first argument. */
export const mapWithPath = <T = any>(f: (path: PathEntry[], leaf: any) => unknown, tree: unknown): T => {
  const go = (x: unknown, path: PathEntry[]): unknown => {
    if (x === null || x === undefined) return x;
    if (x instanceof ArrayBase || typeof x !== "object") return f(path, x);
    if (Array.isArray(x)) return x.map((c, i) => go(c, [...path, i]));
    const reg = registrationOf(x);
    if (reg) {
      const [children, aux] = reg[1].flatten(x);
      return reg[1].unflatten(aux, children.map((c, i) => go(c, [...path, i])));
    }
    if (isPlainObject(x)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) o[k] = go((x as Record<string, unknown>)[k], [...path, k]);
      return o;
    }
    return f(path, x);
  };
  return go(tree, []) as T;
};

/** `a.b[0]`-style text of a key path. */
export const pathToString = (path: PathEntry[]): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
