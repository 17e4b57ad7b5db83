/**
 * Pytrees: nested containers whose leaves are arrays and JS scalars. Plain arrays,
 * plain objects (keys sorted, as JAX sorts dict keys), `null`/`undefined` (empty nodes)
 * and registered classes are containers; everything else is a leaf.
 *
 * Limits: a tree that contains itself (a cycle) or nests containers more than
 * {@link MAX_DEPTH} levels deep is a `TreeError` naming the path, never a stack overflow.
 * Every transform flattens its arguments and results here, so they inherit both checks.
 */
import { isCotangentArray } from "./array.js";
import { TreeError, ValueError } from "./errors.js";

/**
 * The deepest nesting of containers a pytree may have. Far beyond any model's parameters,
 * and low enough that every recursive walk (flatten, unflatten, treedef comparisons, the
 * transforms) stays well inside the engine's stack.
 */
export const MAX_DEPTH = 1000;

/** `a.b[0]...` for the first entries of a long path. */
const shortPath = (path: readonly PathEntry[]): string =>
  path.length === 0 ? "the root" : path.length <= 8 ? pathText(path) : `${pathText(path.slice(0, 4))}...${pathText(path.slice(-2)).replace(/^(?=[^[])/, ".")} (${path.length} levels)`;

/**
 * Tracks the containers on the current path of a walk: entering one that is already open is
 * a cycle; going deeper than MAX_DEPTH is refused. Shared (non-cyclic) subtrees are fine.
 */
const walker = (op: string) => {
  const open = new Set<object>();
  const path: PathEntry[] = [];
  return <R>(x: object, key: PathEntry | null, inside: () => R): R => {
    if (key !== null) path.push(key);
    try {
      if (open.has(x)) {
        throw new TreeError(`the tree contains itself at ${shortPath(path)}`, { op, hint: "a pytree must be a tree: remove the reference cycle" });
      }
      if (open.size >= MAX_DEPTH) {
        throw new TreeError(`the tree nests containers more than ${MAX_DEPTH} levels deep (at ${shortPath(path)})`, {
          op,
          hint: "store long chains as a list (e.g. of layers) instead of nesting them",
        });
      }
      open.add(x);
      try {
        return inside();
      } finally {
        open.delete(x);
      }
    } finally {
      if (key !== null) path.pop();
    }
  };
};

/** A class whose instances are pytree nodes once registered with {@link register}. */
export type NodeClass = abstract new (...args: any[]) => any;
interface Registration {
  flatten: (x: any) => [unknown[], unknown];
  unflatten: (aux: any, children: unknown[]) => unknown;
}
const registered = new Map<NodeClass, Registration>();

/** The shape of a pytree without its leaves. */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "none"; readonly value: null | undefined }
  /** A JS value a transform passes through untraced (never made by `flatten` itself). */
  | { readonly kind: "static"; readonly value: unknown }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] }
  | { readonly kind: "custom"; readonly ctor: NodeClass; readonly aux: unknown; readonly children: readonly TreeDef[] };

const LEAF: TreeDef = { kind: "leaf" };

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const registrationOf = (x: object): [NodeClass, Registration] | undefined => {
  for (let p = Object.getPrototypeOf(x); p !== null; p = Object.getPrototypeOf(p)) {
    const r = registered.get(p.constructor);
    if (r) return [p.constructor, r];
  }
  return undefined;
};

const checkFunction = (op: string, f: unknown, name = "f"): void => {
  if (typeof f !== "function") throw new ValueError(`${name} must be a function, got ${f === null ? "null" : typeof f}`, { op });
};

/** Registers a class as a pytree node. `flatten` returns `[children, aux]`. */
export const register = <T>(
  ctor: abstract new (...args: any[]) => T,
  flatten: (x: T) => [unknown[], unknown],
  unflatten: (aux: any, children: any[]) => T,
): void => {
  checkFunction("tree.register", ctor, "ctor");
  checkFunction("tree.register", flatten, "flatten");
  checkFunction("tree.register", unflatten, "unflatten");
  registered.set(ctor, { flatten, unflatten } as Registration);
};

/** Leaves in order, and the tree's structure. */
export const flatten = <L = unknown>(tree: unknown): [L[], TreeDef] => {
  const leaves: unknown[] = [];
  const enter = walker("tree.flatten");
  const go = (x: unknown, key: PathEntry | null): TreeDef => {
    if (x === null || x === undefined) return { kind: "none", value: x };
    if (isCotangentArray(x) || typeof x !== "object") {
      leaves.push(x);
      return LEAF;
    }
    if (Array.isArray(x)) return enter(x, key, () => ({ kind: "array", children: x.map((c, i) => go(c, i)) }));
    const reg = registrationOf(x);
    if (reg) {
      return enter(x, key, () => {
        const [children, aux] = reg[1].flatten(x);
        return { kind: "custom", ctor: reg[0], aux, children: children.map((c, i) => go(c, i)) };
      });
    }
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      return enter(x, key, () => ({ kind: "object", keys, children: keys.map((k) => go((x as Record<string, unknown>)[k], k)) }));
    }
    leaves.push(x);
    return LEAF;
  };
  const def = go(tree, null);
  return [leaves as L[], def];
};

/**
 * One level of a pytree: the node's children, and its structure with each child as a leaf
 * (so two nodes are of one kind when these structures are equal). Null for leaves and
 * empty nodes.
 */
export const node = (x: unknown): { children: unknown[]; def: TreeDef } | null => {
  if (x === null || x === undefined || isCotangentArray(x) || typeof x !== "object") return null;
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

const KINDS = new Set(["leaf", "none", "static", "array", "object", "custom"]);

/** Checks that `d` is a TreeDef (as made by {@link flatten}): a typed error instead of a TypeError deep inside. */
const checkDef = (op: string, d: unknown): void => {
  const enter = walker(op);
  const go = (x: unknown, key: PathEntry | null): void => {
    const k = typeof x === "object" && x !== null ? (x as { kind?: unknown }).kind : undefined;
    if (typeof k !== "string" || !KINDS.has(k)) {
      throw new ValueError(`expected a tree structure (a TreeDef from tree.flatten or tree.structure), got ${x === null ? "null" : typeof x}${key === null ? "" : ` at child ${key}`}`, { op });
    }
    if (k === "array" || k === "object" || k === "custom") {
      const children = (x as { children?: unknown }).children;
      if (!Array.isArray(children)) throw new ValueError(`a ${k} node of a tree structure must have a list of children`, { op });
      if (k === "object" && (!Array.isArray((x as { keys?: unknown }).keys) || (x as { keys: unknown[] }).keys.length !== children.length)) {
        throw new ValueError("an object node of a tree structure must have one key per child", { op });
      }
      if (k === "custom" && !registered.has((x as { ctor?: NodeClass }).ctor as NodeClass)) throw new ValueError("a custom node of a tree structure must name a registered class", { op });
      enter(x as object, key, () => children.forEach((c, i) => go(c, i)));
    }
  };
  go(d, null);
};

export const numLeaves = (def: TreeDef): number => {
  checkDef("tree.numLeaves", def);
  return countLeaves(def);
};

const countLeaves = (def: TreeDef): number =>
  def.kind === "leaf" ? 1 : def.kind === "none" || def.kind === "static" ? 0 : def.children.reduce((s, c) => s + countLeaves(c), 0);

/** Rebuilds a tree of structure `def` from `leaves`. */
export const unflatten = <T = any>(def: TreeDef, leafValues: readonly unknown[]): T => {
  checkDef("tree.unflatten", def);
  if (!Array.isArray(leafValues)) throw new ValueError(`leaves must be a list, got ${leafValues === null ? "null" : typeof leafValues}`, { op: "tree.unflatten" });
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
  checkDef("tree.treedefEquals", a);
  checkDef("tree.treedefEquals", b);
  return defsEqual(a, b);
};

const defsEqual = (a: TreeDef, b: TreeDef): boolean => {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "leaf":
      return true;
    case "none":
      return a.value === (b as typeof a).value;
    case "static":
      return Object.is(a.value, (b as typeof a).value);
    case "array":
      return a.children.length === (b as typeof a).children.length && a.children.every((c, i) => defsEqual(c, (b as typeof a).children[i]!));
    case "object": {
      const bb = b as typeof a;
      return a.keys.length === bb.keys.length && a.keys.every((k, i) => k === bb.keys[i] && defsEqual(a.children[i]!, bb.children[i]!));
    }
    case "custom": {
      const bb = b as typeof a;
      return a.ctor === bb.ctor && JSON.stringify(a.aux) === JSON.stringify(bb.aux) && a.children.length === bb.children.length && a.children.every((c, i) => defsEqual(c, bb.children[i]!));
    }
  }
};

/** `PyTreeDef(...)`-like text, for error messages. */
export const treedefToString = (d: TreeDef): string => {
  checkDef("tree.treedefToString", d);
  return defToString(d);
};

const defToString = (d: TreeDef): string => {
  switch (d.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(d.value);
    case "static":
      return typeof d.value === "function" ? `static(${d.value.name || "function"})` : typeof d.value === "string" ? `static(${JSON.stringify(d.value)})` : `static(${String(d.value)})`;
    case "array":
      return `[${d.children.map(defToString).join(", ")}]`;
    case "object":
      return `{${d.keys.map((k, i) => `${k}: ${defToString(d.children[i]!)}`).join(", ")}}`;
    case "custom":
      return `${(d.ctor as { name?: string }).name ?? "Custom"}(${d.children.map(defToString).join(", ")})`;
  }
};

/** Applies `f` to every leaf of `tree` (and the matching leaves of `rest`, same structure). */
export const map = <T = any>(f: (leaf: any, ...rest: any[]) => unknown, tree: unknown, ...rest: unknown[]): T => {
  checkFunction("tree.map", f);
  const [ls, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [rl, rd] = flatten(r);
    if (!defsEqual(def, rd)) {
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
  checkFunction("tree.mapWithPath", f);
  const enter = walker("tree.mapWithPath");
  const go = (x: unknown, path: PathEntry[]): unknown => {
    if (x === null || x === undefined) return x;
    if (isCotangentArray(x) || typeof x !== "object") return f(path, x);
    const key = path.length ? path[path.length - 1]! : null;
    if (Array.isArray(x)) return enter(x, key, () => x.map((c, i) => go(c, [...path, i])));
    const reg = registrationOf(x);
    if (reg) {
      return enter(x, key, () => {
        const [children, aux] = reg[1].flatten(x);
        return reg[1].unflatten(aux, children.map((c, i) => go(c, [...path, i])));
      });
    }
    if (isPlainObject(x)) {
      return enter(x, key, () => {
        const o: Record<string, unknown> = {};
        for (const k of Object.keys(x).sort()) o[k] = go((x as Record<string, unknown>)[k], [...path, k]);
        return o;
      });
    }
    return f(path, x);
  };
  return go(tree, []) as T;
};

/**
 * Every leaf with its key path, in leaf order: `[[path, leaf], ...]`, as JAX's
 * `tree_util.tree_leaves_with_path`. A path lists the keys from the root: a number is a
 * position in a plain array (JAX's `SequenceKey`) or among a registered class's children
 * (`FlattenedIndexKey`), a string is an object key (`DictKey`). Object keys come in sorted
 * order, as in {@link flatten}; `null`/`undefined` hold no leaves. {@link keystr} prints a
 * path as JAX does, {@link pathToString} in the `a.b[0]` style.
 */
export const leavesWithPath = <L = unknown>(tree: unknown): [PathEntry[], L][] => {
  const out: [PathEntry[], L][] = [];
  const enter = walker("tree.leavesWithPath");
  const go = (x: unknown, path: PathEntry[]): void => {
    if (x === null || x === undefined) return;
    if (isCotangentArray(x) || typeof x !== "object") {
      out.push([path, x as L]);
      return;
    }
    const key = path.length ? path[path.length - 1]! : null;
    if (Array.isArray(x)) return enter(x, key, () => x.forEach((c, i) => go(c, [...path, i])));
    const reg = registrationOf(x);
    if (reg) return enter(x, key, () => reg[1].flatten(x)[0].forEach((c, i) => go(c, [...path, i])));
    if (isPlainObject(x)) return enter(x, key, () => Object.keys(x).sort().forEach((k) => go((x as Record<string, unknown>)[k], [...path, k])));
    out.push([path, x as L]);
  };
  go(tree, []);
  return out;
};

/**
 * Folds `f` over the leaves of `tree` in order, as JAX's `tree_util.tree_reduce`:
 * `f(f(f(initial, l0), l1), l2)`, or starting from the first leaf when `initial` is not
 * given (then a tree without leaves is a ValueError). E.g. the total parameter count:
 * `tree.reduce((n, p) => n + p.size, params, 0)`.
 */
export const reduce = <A = any, L = any>(f: (acc: A, leaf: L) => A, tree: unknown, ...initial: [] | [A]): A => {
  checkFunction("tree.reduce", f);
  const ls = leaves<L>(tree);
  if (initial.length === 0) {
    if (ls.length === 0) throw new ValueError("the tree has no leaves and no initial value was given", { op: "tree.reduce", hint: "pass an initial value: tree.reduce(f, tree, initial)" });
    return ls.slice(1).reduce<A>((acc, l) => f(acc, l), ls[0] as unknown as A);
  }
  return ls.reduce<A>((acc, l) => f(acc, l), initial[0] as A);
};

/** JAX's `keystr`: a key path as `['a'][0]` (object keys quoted, positions in brackets). */
export const keystr = (path: PathEntry[]): string => {
  if (!Array.isArray(path) || !path.every((p) => typeof p === "string" || typeof p === "number")) {
    throw new ValueError("path must be a list of keys (strings) and indices (numbers)", { op: "tree.keystr" });
  }
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `[${JSON.stringify(p).replace(/^"|"$/g, "'")}]`)).join("");
};

/** `a.b[0]`-style text of a key path. */
export const pathToString = (path: PathEntry[]): string => {
  if (!Array.isArray(path) || !path.every((p) => typeof p === "string" || typeof p === "number")) {
    throw new ValueError("path must be a list of keys (strings) and indices (numbers)", { op: "tree.pathToString" });
  }
  return pathText(path);
};

const pathText = (path: readonly PathEntry[]): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
