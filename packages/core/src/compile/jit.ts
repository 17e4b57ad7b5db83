/**
 * `jit(f, options)`: traces `f` once per signature (pytree structure, shapes, dtypes, weak
 * types of JS numbers, values of static arguments), optimizes and compiles the jaxpr, and
 * reuses the compiled program on every call with the same signature. Outside any transform
 * a call runs the program directly; inside one (grad, vmap, another jit, a scan body) it
 * binds a `jit` equation carrying the jaxpr, whose rules let every transform through.
 */
import { ArrayBase, NDArray } from "../array.js";
import { weakDTypeOf } from "../dtype.js";
import { TransformError } from "../errors.js";
import { Jaxpr } from "../ir/jaxpr.js";
import { bindWithJaxpr } from "../higher/closed_call.js";
import { scalar } from "../primitives/common.js";
import { randomFlags } from "../config.js";
import { type Tracer, currentTrace, traceToJaxpr, withConcretizationHint } from "../trace.js";
import { type TreeDef, flatten, numLeaves, unflatten } from "../tree.js";
import { leafToArray } from "../transforms/api_util.js";
import { type Compiled, compileJaxpr, runCompiled } from "./compile.js";
import { listProgram } from "./listing.js";
import { jitP } from "./primitive.js";
import { type LeafKind, type Signature, explainRetrace, splitArgs } from "./signature.js";

/** How many signatures a jitted function keeps compiled by default (least recently used dropped first). */
export const DEFAULT_CACHE_SIZE = 64;

export interface JitOptions {
  /** Positional arguments that are not traced: their values are part of the cache key (must be hashable). */
  staticArgnums?: number | readonly number[];
  /** Static arguments by parameter name (read from `f`'s source, as JAX reads a signature). */
  staticArgnames?: string | readonly string[];
  /** Arguments whose buffers the compiled program may reuse for its results: do not read them after the call. */
  donateArgnums?: number | readonly number[];
  /** Signatures kept compiled (default {@link DEFAULT_CACHE_SIZE}). */
  cacheSize?: number;
}

export interface Retrace {
  /** The signature that missed, as text. */
  signature: string;
  /** What differed from the closest earlier signature ("first call" for the first). */
  reason: string;
}

export interface CacheInfo {
  hits: number;
  misses: number;
  /** One entry per trace, oldest first (the last 32 are kept). */
  retraces: Retrace[];
  /** Signatures compiled now, and the bound. */
  size: number;
  maxSize: number;
}

export interface Lowered {
  /** The jaxpr as traced (constants hoisted to leading inputs). */
  traced: Jaxpr;
  /** After the optimization passes. */
  optimized: Jaxpr;
  /** The compiled program's listing: its steps, fusion groups and kernels. */
  program: string;
  /** Milliseconds: tracing, optimizing, compiling (0 for a signature already cached, except tracing). */
  timings: { traceMs: number; optimizeMs: number; compileMs: number };
  /** Traced jaxpr, optimized jaxpr and program listing, as one text. */
  toString(): string;
}

export interface Jitted<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  /** Traces and compiles for these arguments (or reuses the cached program) and shows every stage. */
  lower(...args: Parameters<F>): Lowered;
  cacheInfo(): CacheInfo;
  /** Drops every compiled signature (the counters stay). */
  clearCache(): void;
}

interface Entry {
  signature: Signature;
  /** The jaxpr with constants hoisted to leading inputs, and their values. */
  jaxpr: Jaxpr;
  consts: ArrayBase[];
  kinds: LeafKind[];
  outTree: TreeDef;
  traceMs: number;
  /** Per program input (constants first): whether its buffer is donated. */
  donated: boolean[];
  compiled?: Compiled;
}

const normalizeNums = (what: string, v: number | readonly number[] | undefined): number[] =>
  v === undefined ? [] : typeof v === "number" ? [v] : [...v];

/** Parameter names of `f` from its source, for staticArgnames; null where they cannot be read. */
const paramNames = (f: (...args: any[]) => unknown): (string | null)[] => {
  const src = Function.prototype.toString.call(f);
  const m = /^[^(]*\(([^)]*)\)/.exec(src) ?? /^\s*(?:async\s*)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (!m) return [];
  return m[1]!.split(",").map((p) => {
    const name = p.trim().replace(/=.*$/, "").replace(/^\.\.\./, "").trim();
    return /^[A-Za-z_$][\w$]*$/.test(name) ? name : null;
  });
};

/** Names of the leaves of the dynamic arguments, for retrace reasons: `argument 1`, `argument 0.w[2]`. */
const leafNames = (tree: TreeDef, argIndex: (k: number) => number): string[] => {
  const out: string[] = [];
  const go = (d: TreeDef, path: string) => {
    switch (d.kind) {
      case "leaf":
        out.push(path);
        return;
      case "none":
      case "static":
        return;
      case "array":
        d.children.forEach((c, i) => go(c, `${path}[${i}]`));
        return;
      case "object":
        d.children.forEach((c, i) => go(c, `${path}.${d.keys[i]}`));
        return;
      case "custom":
        d.children.forEach((c, i) => go(c, `${path}<${i}>`));
    }
  };
  if (tree.kind === "array") tree.children.forEach((c, k) => go(c, `argument ${argIndex(k)}`));
  return out;
};

/**
 * Compiles `f`: traced once per signature, optimized (inlining, simplification, constant
 * folding, CSE, DCE), fused and compiled; later calls with the same signature run the
 * compiled program. See docs/jit.md.
 */
export const jit = <F extends (...args: any[]) => any>(f: F, options: JitOptions = {}): Jitted<F> => {
  const op = "jit";
  if (typeof f !== "function") throw new TransformError(`expects a function, got ${f === null ? "null" : typeof f}`, { op });
  const staticNums = normalizeNums("staticArgnums", options.staticArgnums);
  const staticNames = options.staticArgnames === undefined ? [] : typeof options.staticArgnames === "string" ? [options.staticArgnames] : [...options.staticArgnames];
  const donate = normalizeNums("donateArgnums", options.donateArgnums);
  const maxSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new TransformError(`cacheSize must be a positive integer, got ${maxSize}`, { op });
  for (const n of [...staticNums, ...donate]) {
    if (!Number.isInteger(n)) throw new TransformError(`argument numbers must be integers, got ${n}`, { op, hint: "staticArgnums: [1] marks the second argument static" });
  }
  const names = paramNames(f);
  const staticFromNames = staticNames.map((name) => {
    const i = names.indexOf(name);
    if (i < 0) {
      throw new TransformError(`staticArgnames names '${name}', but ${f.name || "the function"} has no parameter of that name (parameters: ${names.filter(Boolean).join(", ") || "none readable"})`, {
        op,
        hint: "use staticArgnums with the argument's position instead",
      });
    }
    return i;
  });
  const fname = f.name || "fn";

  const cache = new Map<string, Entry>();
  const history: Signature[] = [];
  let hits = 0;
  let misses = 0;
  const retraces: Retrace[] = [];

  const staticSetFor = (nargs: number): ((i: number) => boolean) => {
    const set = new Set<number>();
    for (const n of [...staticNums, ...staticFromNames]) {
      if (n < -nargs || n >= nargs) {
        if (n >= 0 && staticFromNames.includes(n)) continue; // a named parameter not passed: nothing to make static
        throw new TransformError(`staticArgnums ${n} is out of range: the function was called with ${nargs} argument${nargs === 1 ? "" : "s"}`, { op });
      }
      set.add(n < 0 ? n + nargs : n);
    }
    for (const d of donate) {
      const k = d < 0 ? d + nargs : d;
      if (set.has(k)) throw new TransformError(`argument ${k} is both static and donated`, { op, hint: "only traced (array) arguments can be donated" });
    }
    return (i) => set.has(i);
  };

  const trace = (args: readonly unknown[], isStatic: (i: number) => boolean, split: ReturnType<typeof splitArgs>): Entry => {
    const t0 = performance.now();
    const dynIndex: number[] = [];
    for (let i = 0; i < args.length; i++) if (!isStatic(i)) dynIndex.push(i);
    const traced = split.leaves.map((l, i) => (split.kinds[i] === "array" ? (l as ArrayBase).aval : split.kinds[i] === "weak" ? scalar(l as number, weakDTypeOf(l as number)).aval : null));
    const tracedIdx = traced.map((a, i) => (a ? i : -1)).filter((i) => i >= 0);
    const names = leafNames(split.tree, (k) => dynIndex[k]!);
    const argOf = new Map<unknown, string>();
    let outTree: TreeDef | undefined;
    const hint = (t: Tracer) => {
      const who = argOf.get(t.variable);
      return who
        ? `${who} is traced under jit, so its value is not known while tracing: mark it static (jit(f, { staticArgnums: [${who.split(/[ .[<]/)[1]}] })) if it is a constant such as a flag or a size, or use np.where / lax.cond / lax.whileLoop`
        : "under jit every array and JS number argument is traced, so values computed from them are not known while tracing: make the arguments they depend on static (jit(f, { staticArgnums: [i] })), or use np.where / lax.cond / lax.whileLoop";
    };
    const jaxpr = withConcretizationHint(hint, () =>
      traceToJaxpr(
        (...tracers) => {
          tracers.forEach((t, k) => argOf.set(t.variable, names[tracedIdx[k]!]!));
          const leaves = split.leaves.slice();
          tracedIdx.forEach((li, k) => (leaves[li] = tracers[k]!));
          const dyn = unflatten<unknown[]>(split.tree, leaves);
          const full: unknown[] = [];
          let d = 0;
          for (let i = 0; i < args.length; i++) full.push(isStatic(i) ? args[i] : dyn[d++]);
          const out = f(...full);
          const [outLeaves, def] = flatten(out);
          outTree = def;
          return outLeaves.map((l) => leafToArray(l, op, "the function's output"));
        },
        tracedIdx.map((i) => traced[i]!),
      ),
    );
    const consts = jaxpr.consts.slice();
    const hoisted = jaxpr.constvars.length ? new Jaxpr([], [], [...jaxpr.constvars, ...jaxpr.invars], jaxpr.eqns, jaxpr.outvars) : jaxpr;
    // Which traced leaves belong to donated arguments.
    const leafArg: number[] = [];
    if (split.tree.kind === "array") split.tree.children.forEach((c, k) => { for (let n = numLeaves(c); n > 0; n--) leafArg.push(dynIndex[k]!); });
    const donatedArgs = new Set(donate.map((d) => (d < 0 ? d + args.length : d)));
    const donated = [...consts.map(() => false), ...tracedIdx.map((li) => split.kinds[li] === "array" && donatedArgs.has(leafArg[li]!))];
    return { signature: split.signature, jaxpr: hoisted, consts, kinds: split.kinds, outTree: outTree!, traceMs: performance.now() - t0, donated };
  };

  const lookup = (args: readonly unknown[]): { entry: Entry; split: ReturnType<typeof splitArgs> } => {
    const isStatic = staticSetFor(args.length);
    const split = splitArgs(args, isStatic);
    const key = split.signature.key;
    let entry = cache.get(key);
    if (entry) {
      hits++;
      cache.delete(key); // most recently used goes last
      cache.set(key, entry);
      return { entry, split };
    }
    misses++;
    const dynIndex: number[] = [];
    for (let i = 0; i < args.length; i++) if (!isStatic(i)) dynIndex.push(i);
    const reason = explainRetrace(split.signature, history, (i) => leafNames(split.tree, (k) => dynIndex[k]!)[i] ?? `leaf ${i}`);
    retraces.push({ signature: split.signature.leaves.join(", ") + (split.signature.statics.length ? `; static ${split.signature.statics.join(", ")}` : ""), reason });
    if (retraces.length > 32) retraces.shift();
    entry = trace(args, isStatic, split);
    history.push(split.signature);
    if (history.length > 32) history.shift();
    // A trace that closed over values of an enclosing transform is only valid inside it: not cached.
    if (entry.consts.every((c) => c instanceof NDArray)) {
      cache.set(key, entry);
      if (cache.size > maxSize) cache.delete(cache.keys().next().value!);
    }
    return { entry, split };
  };

  const flatInputs = (entry: Entry, split: ReturnType<typeof splitArgs>): ArrayBase[] => {
    const xs: ArrayBase[] = entry.consts.slice();
    split.leaves.forEach((l, i) => {
      if (entry.kinds[i] === "array") xs.push(l as ArrayBase);
      else if (entry.kinds[i] === "weak") xs.push(scalar(l as number, weakDTypeOf(l as number)));
    });
    return xs;
  };

  const compiledOf = (entry: Entry): Compiled => (entry.compiled ??= compileJaxpr(entry.jaxpr, entry.donated));

  /**
   * The last signature called outside any transform with concrete arrays only (no statics,
   * numbers or containers): a call with arrays of the same shapes and dtypes skips
   * flattening and building the signature key (most of a small program's per-call cost
   * before V8 has optimized that code, which is what a few calls in a benchmark see).
   */
  let last: { key: string; entry: Entry; shapes: (readonly number[])[]; dtypes: string[]; layout: boolean } | null = null;
  const fastPath = staticNums.length === 0 && staticFromNames.length === 0;
  const sameAsLast = (args: readonly unknown[]): boolean => {
    const l = last!;
    if (args.length !== l.shapes.length || l.layout !== randomFlags.partitionable) return false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof NDArray)) return false;
      const av = a.aval;
      const shape = l.shapes[i]!;
      if (av.dtype !== l.dtypes[i] || av.shape.length !== shape.length) return false;
      for (let d = 0; d < shape.length; d++) if (av.shape[d] !== shape[d]) return false;
    }
    if (cache.get(l.key) !== l.entry) return false;
    cache.delete(l.key); // most recently used goes last, as in lookup
    cache.set(l.key, l.entry);
    return true;
  };

  const jitted = ((...args: unknown[]) => {
    if (fastPath && last && !currentTrace() && sameAsLast(args)) {
      hits++;
      const entry = last.entry;
      const xs = entry.consts.length ? [...entry.consts, ...(args as ArrayBase[])] : (args as ArrayBase[]);
      return unflatten(entry.outTree, runCompiled(compiledOf(entry), xs));
    }
    const { entry, split } = lookup(args);
    const xs = flatInputs(entry, split);
    const outs = currentTrace() ? bindWithJaxpr(jitP, entry.jaxpr, xs, { name: fname }) : runCompiled(compiledOf(entry), xs);
    if (fastPath && !currentTrace() && cache.get(split.signature.key) === entry && args.every((a) => a instanceof NDArray)) {
      last = { key: split.signature.key, entry, shapes: args.map((a) => (a as NDArray).aval.shape), dtypes: args.map((a) => (a as NDArray).dtype), layout: randomFlags.partitionable };
    }
    return unflatten(entry.outTree, outs);
  }) as unknown as Jitted<F>;

  jitted.lower = (...args) => {
    const before = misses;
    const { entry } = lookup(args);
    const fresh = misses > before;
    const hadProgram = entry.compiled !== undefined;
    const c = compiledOf(entry);
    return {
      traced: entry.jaxpr,
      optimized: c.optimized,
      program: listProgram(c.program, fname),
      timings: { traceMs: fresh ? entry.traceMs : 0, optimizeMs: hadProgram ? 0 : c.optimizeMs, compileMs: hadProgram ? 0 : c.compileMs },
      toString() {
        return `traced:\n${this.traced}\n\noptimized:\n${this.optimized}\n\nprogram:\n${this.program}`;
      },
    };
  };
  jitted.cacheInfo = () => ({ hits, misses, retraces: retraces.slice(), size: cache.size, maxSize });
  jitted.clearCache = () => {
    cache.clear();
    last = null;
  };
  Object.defineProperty(jitted, "name", { value: `jit(${fname})` });
  return jitted;
};
