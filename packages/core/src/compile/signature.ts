/**
 * The cache key of a jitted call: the pytree structure of the arguments, each traced
 * leaf's shape and dtype (JS numbers marked weak), and the values of static arguments.
 * Two calls with equal keys run the same compiled program. When a call misses, `explain`
 * says what differs from the closest signature seen before (the reason for the retrace).
 */
import { ArrayBase } from "../array.js";
import { weakDTypeOf } from "../dtype.js";
import { randomFlags } from "../config.js";
import { ValueError } from "../errors.js";
import { type TreeDef, flatten } from "../tree.js";
import { identityOf } from "./passes/rewrite.js";

/** How one leaf of the dynamic arguments enters the trace. */
export type LeafKind = "array" | "weak" | "static";

export interface Signature {
  key: string;
  treeKey: string;
  /** Per leaf: its description (`f32[3]`, `weak i32[]`, `static true`). */
  leaves: string[];
  /** Per static argument (by position): the text of its value. */
  statics: string[];
}

export const treeKey = (d: TreeDef): string => {
  switch (d.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(d.value);
    case "static":
      return `S<${staticKey("jit", d.value, "a static leaf")}>`;
    case "array":
      return `[${d.children.map(treeKey).join(",")}]`;
    case "object":
      return `{${d.keys.map((k, i) => `${JSON.stringify(k)}:${treeKey(d.children[i]!)}`).join(",")}}`;
    case "custom":
      return `C${identityOf(d.ctor as object)}<${staticKey("jit", d.aux, "a pytree node's auxiliary data")}>(${d.children.map(treeKey).join(",")})`;
  }
};

/**
 * A string equal for equal static values. JS primitives compare by value, functions by
 * identity, plain arrays and objects of those by content. Anything else (an array of
 * numbers in an NDArray, a Map, a class instance) has no reliable equality: a typed error.
 */
export const staticKey = (op: string, v: unknown, what: string, seen: Set<object> = new Set()): string => {
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return String(v);
    case "symbol":
      return `#s${String(v.description)}`;
    case "function":
      return `#f${identityOf(v)}`;
  }
  if (v === null) return "null";
  const proto = Object.getPrototypeOf(v);
  const plain = Array.isArray(v) || proto === Object.prototype || proto === null;
  if (!plain || seen.has(v as object)) {
    const kind = v instanceof ArrayBase ? `an array (${v.aval})` : seen.has(v as object) ? "a cyclic object" : `an instance of ${proto?.constructor?.name ?? "an unknown class"}`;
    throw new ValueError(`${what} is ${kind}, which is not hashable: static arguments must be JS numbers, strings, booleans, null, functions, or plain arrays and objects of those`, {
      op,
      hint:
        v instanceof ArrayBase
          ? "pass arrays as ordinary (traced) arguments; make only Python-like constants (flags, sizes, mode strings) static"
          : "pass a plain value (e.g. a string or number describing it) as the static argument, or close over the object instead",
    });
  }
  seen.add(v as object);
  const body = Array.isArray(v)
    ? `[${v.map((x, i) => staticKey(op, x, `${what}[${i}]`, seen)).join(",")}]`
    : `{${Object.keys(v as object)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${staticKey(op, (v as Record<string, unknown>)[k], `${what}.${k}`, seen)}`)
        .join(",")}}`;
  seen.delete(v as object);
  return body;
};

export interface SplitArgs {
  /** Leaves of the dynamic arguments (statics removed). */
  leaves: unknown[];
  kinds: LeafKind[];
  tree: TreeDef;
  signature: Signature;
}

const leafText = (l: unknown, kind: LeafKind): string =>
  kind === "array" ? (l as ArrayBase).aval.toString() : kind === "weak" ? `weak ${weakDTypeOf(l as number) === "int32" ? "i32" : "f32"}[]` : `static ${staticKey("jit", l, "a static leaf")}`;

/**
 * Splits a call's arguments into the dynamic pytree (whose array and number leaves are
 * traced; other leaves — booleans, strings, functions — are static, as DESIGN.md says) and
 * the static arguments, and computes the signature.
 */
export const splitArgs = (args: readonly unknown[], isStatic: (i: number) => boolean): SplitArgs => {
  const dyn: unknown[] = [];
  const statics: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (isStatic(i)) statics.push(`${i}=${staticKey("jit", args[i], `static argument ${i}`)}`);
    else dyn.push(args[i]);
  }
  const [leaves, tree] = flatten(dyn);
  const kinds: LeafKind[] = leaves.map((l) => (l instanceof ArrayBase ? "array" : typeof l === "number" ? "weak" : "static"));
  const texts = leaves.map((l, i) => leafText(l, kinds[i]!));
  const tk = treeKey(tree);
  // The random bit layout changes what a trace records (as JAX keys its caches on jax_threefry_partitionable).
  const layout = randomFlags.partitionable ? "|threefry-partitionable" : "";
  return { leaves, kinds, tree, signature: { key: `${tk}|${texts.join(";")}|${statics.join(";")}${layout}`, treeKey: tk, leaves: texts, statics } };
};

/** Why `now` missed the cache, compared with the most similar earlier signature. */
export const explainRetrace = (now: Signature, before: readonly Signature[], leafNames: (i: number) => string): string => {
  if (before.length === 0) return "first call";
  const same = before.filter((s) => s.treeKey === now.treeKey);
  if (same.length === 0) return `the pytree structure of the arguments changed (now ${now.treeKey}, before ${before[before.length - 1]!.treeKey})`;
  // The earlier signature differing in the fewest leaves and statics.
  const diffs = (s: Signature) => {
    const out: string[] = [];
    now.leaves.forEach((t, i) => t !== s.leaves[i] && out.push(`${leafNames(i)} is ${t}, was ${s.leaves[i]}`));
    now.statics.forEach((t, i) => t !== s.statics[i] && out.push(`static argument ${t.split("=")[0]} is ${t.slice(t.indexOf("=") + 1)}, was ${s.statics[i]?.slice(s.statics[i]!.indexOf("=") + 1)}`));
    return out;
  };
  const best = same.map(diffs).sort((a, b) => a.length - b.length)[0]!;
  return best.length ? best.join("; ") : "the cache had dropped this signature (least recently used)";
};
