/**
 * `checkpoint` (rematerialisation): a higher-order primitive around a function's jaxpr.
 * Under reverse mode its partial-evaluation rule saves only the intermediates its policy
 * allows; everything else is recomputed inside the backward pass from the checkpoint's
 * inputs. `savedResiduals` lists what a backward pass keeps.
 */
import { describeValue } from "../api/args.js";
import { ValueError } from "../errors.js";
import type { ArrayBase } from "../array.js";
import type { SourceInfo } from "../errors.js";
import { Eqn, type Jaxpr, Var } from "../ir/jaxpr.js";
import { type Params, type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { dotGeneralP } from "../primitives/dot.js";
import { evalJaxpr } from "../interpreter.js";
import { zerosOf } from "../primitives/structural.js";
import { bind1 } from "../trace.js";
import { type TreeDef, unflatten } from "../tree.js";
import { linearizeJaxpr } from "../transforms/vjp.js";
import { flattenArgs, normalizeArgnums, traceFlat } from "../transforms/api_util.js";
import { jvpJaxpr } from "../transforms/jvp.js";
import { partialEvalJaxprRemat } from "../transforms/partial_eval.js";
import { transposeJaxpr } from "../transforms/transpose.js";
import { batchJaxpr } from "../transforms/vmap.js";
import { bindWithJaxpr, callAbstractEval } from "./closed_call.js";

/** Decides, per equation of a checkpointed function, whether its outputs may be saved. */
export type CheckpointPolicy = (primitive: Primitive, params: Params) => boolean;

interface CheckpointParams {
  jaxpr: Jaxpr;
  policy: CheckpointPolicy;
}

const named = <F extends CheckpointPolicy>(name: string, f: F): F => Object.defineProperty(f, "name", { value: name });

/** The policies of `jax.checkpoint_policies`. */
export const checkpointPolicies = {
  /** Save nothing: recompute everything in the backward pass (the default). */
  nothingSaveable: named("nothing_saveable", () => false),
  /** Save everything: no recomputation (like no checkpoint, but still one equation). */
  everythingSaveable: named("everything_saveable", () => true),
  /** Save the results of matrix multiplications (dot_general); recompute the rest. */
  dotsSaveable: named("dots_saveable", (p) => p === dotGeneralP),
  /** Save dot_general results that have no batch dimensions. */
  dotsWithNoBatchDimsSaveable: named("dots_with_no_batch_dims_saveable", (p, params) => {
    if (p !== dotGeneralP) return false;
    const dn = (params as { dimension_numbers?: [unknown, [readonly number[], readonly number[]]] }).dimension_numbers;
    return !dn || dn[1][0].length === 0;
  }),
  /** Save only values tagged with `checkpointName(x, name)` for one of `names`. */
  saveOnlyTheseNames: (...names: (string | readonly string[])[]): CheckpointPolicy => {
    const set = new Set(names.flat());
    for (const n of set) {
      if (typeof n !== "string") throw new ValueError(`names must be strings, got ${describeValue(n)}`, { op: "checkpointPolicies.saveOnlyTheseNames" });
    }
    return named(`save_only_these_names(${[...set].join(",")})`, (p, params) => p === nameP && set.has((params as { name: string }).name));
  },
};

/** `name`: the identity that tags a value for `saveOnlyTheseNames`. */
export const nameP = definePrimitive<{ name: string }>({
  name: "name",
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!],
  jvp: ([x], [t], { name }) => [[checkpointName(x!, name)], [t]],
  transpose: ([ct]) => [ct],
  batch: ([x], [d], { name }) => [[checkpointName(x!, name)], [d!]],
});

/** Tags `x` with `name`, so a `saveOnlyTheseNames(name)` policy saves it. The identity otherwise. */
export const checkpointName = (x: ArrayBase, name: string): ArrayBase => bind1(nameP, [x], { name });

/** The policy as a test on equations; one function per policy, so rewrites cached by it are shared. */
const saveables = new WeakMap<CheckpointPolicy, (e: Eqn) => boolean>();
const saveableUnder = (policy: CheckpointPolicy): ((e: Eqn) => boolean) => {
  let s = saveables.get(policy);
  if (!s) saveables.set(policy, (s = (e: Eqn) => policy(e.primitive, e.params)));
  return s;
};

export const checkpointP: Primitive<CheckpointParams> = definePrimitive<CheckpointParams>({
  name: "checkpoint",
  abstractEval: (avals, { jaxpr }) => callAbstractEval("checkpoint", avals, jaxpr),
  impl: (args, { jaxpr }) => evalJaxpr(jaxpr, args) as never,
  subJaxprs: ({ jaxpr }) => [jaxpr],
  jvp: (primals, tangents, { jaxpr, policy }) => {
    const nonzeros = tangents.map((t) => t !== null);
    const outs = bindWithJaxpr(checkpointP, jvpJaxpr(jaxpr, nonzeros), [...primals, ...(tangents.filter((t) => t !== null) as ArrayBase[])], { policy });
    const m = jaxpr.outvars.length;
    return [outs.slice(0, m), outs.slice(m)];
  },
  transpose: (cts, inputs, { jaxpr, policy }) => {
    const linear = inputs.map((x) => x instanceof UndefinedPrimal);
    const bwd = transposeJaxpr(jaxpr, linear);
    const ctsIn = cts.map((c, i) => c ?? zerosOf(jaxpr.outvars[i]!.aval));
    const outs = bindWithJaxpr(checkpointP, bwd, [...(inputs.filter((x) => !(x instanceof UndefinedPrimal)) as ArrayBase[]), ...ctsIn], { policy });
    let k = 0;
    return linear.map((l) => (l ? outs[k++]! : null));
  },
  batch: (args, dims, { jaxpr, policy }, size) => {
    const outs = bindWithJaxpr(checkpointP, batchJaxpr(jaxpr, dims, size, jaxpr.outvars.map(() => 0)), args, { policy });
    return [outs, outs.map(() => 0)];
  },
  partialEval: (eqn, unknowns) => {
    const { jaxpr, policy } = eqn.params as unknown as CheckpointParams;
    const r = partialEvalJaxprRemat(jaxpr, unknowns, saveableUnder(policy));
    const knownOuts = eqn.outputs.filter((_, i) => !r.outUnknowns[i]);
    const saved = r.known.outvars.slice(knownOuts.length).map((a) => new Var(a.aval));
    const knownEqn = new Eqn(checkpointP, eqn.inputs.filter((_, i) => !unknowns[i]), { jaxpr: r.known, policy }, [...knownOuts, ...saved], eqn.source, eqn.derivedFrom);
    const unknownEqn = new Eqn(
      checkpointP,
      [...r.knownInputsRead.map((i) => eqn.inputs[i]!), ...saved, ...eqn.inputs.filter((_, i) => unknowns[i])],
      { jaxpr: r.unknown, policy },
      eqn.outputs.filter((_, i) => r.outUnknowns[i]),
      eqn.source,
      eqn.derivedFrom,
    );
    return { known: [knownEqn], unknown: [unknownEqn], outUnknowns: r.outUnknowns, residuals: saved };
  },
});

export interface CheckpointOptions {
  /** Which intermediates the backward pass may keep (default: nothingSaveable). */
  policy?: CheckpointPolicy;
  /**
   * Positional arguments passed to `f` as they are, untraced (as `static_argnums` in JAX),
   * so JS control flow may depend on them. JS booleans, strings and functions are always
   * passed as they are.
   */
  staticArgnums?: number | readonly number[];
}

/**
 * Wraps `f` so that reverse-mode differentiation recomputes its intermediates in the
 * backward pass instead of storing them (except what `policy` saves). Values and
 * gradients are those of `f`.
 */
export const checkpoint =
  <F extends (...args: any[]) => any>(f: F, options: CheckpointOptions = {}) =>
  (...args: Parameters<F>): ReturnType<F> => {
    const op = "checkpoint";
    const policy = options.policy ?? checkpointPolicies.nothingSaveable;
    const statics = normalizeArgnums(op, options.staticArgnums ?? [], args.length, "staticArgnums");
    const [flat, inTree] = flattenArgs(op, args, false, statics);
    const { jaxpr, outTree } = traceFlat(op, f, inTree, flat);
    return unflatten(outTree, bindWithJaxpr(checkpointP, jaxpr, flat, { policy }));
  };

/** One value a backward pass keeps. */
export interface SavedResidual {
  shape: number[];
  dtype: string;
  /** Where it was computed (`file:line`), or null for a function argument. Read from a stack trace when first asked for. */
  readonly source: string | null;
  /** `argument <path>` for the function's own inputs (e.g. `argument params.w`), else the primitive that produced it. */
  origin: string;
  /** For an input of the function, its name and path (`params.w`, `x`, or `args[1]` when the name cannot be read); else null. */
  argument: string | null;
}

/** Where each var of a jaxpr is bound: input index, or producing equation and output index. */
interface Producers {
  inputs: Map<Var, number>;
  eqns: Map<Var, [Eqn, number]>;
}
const producersCache = new WeakMap<Jaxpr, Producers>();
const producersOf = (j: Jaxpr): Producers => {
  let p = producersCache.get(j);
  if (!p) {
    p = { inputs: new Map(j.invars.map((v, i) => [v, i] as const)), eqns: new Map() };
    for (const e of j.eqns) e.outputs.forEach((v, k) => p!.eqns.set(v, [e, k]));
    producersCache.set(j, p);
  }
  return p;
};

/**
 * Where a var of `j` comes from, looking through higher-order equations that forward
 * outputs. Indexed once per jaxpr, so describing every residual of a long program costs
 * about as much as linearizing it (a search per residual made it quadratic).
 */
const describe = (j: Jaxpr, v: Var): { source: SourceInfo | null; origin: string } => {
  const { inputs, eqns } = producersOf(j);
  const ai = inputs.get(v);
  if (ai !== undefined) return { source: null, origin: `input ${ai}` };
  const found = eqns.get(v);
  if (!found) return { source: null, origin: "constant" };
  const [e, k] = found;
  const subs = e.primitive.subJaxprs?.(e.params) ?? [];
  if (subs.length === 1 && subs[0]!.outvars.length === e.outputs.length) {
    const inner = subs[0]!.outvars[k]!;
    if (inner instanceof Var) {
      const d = describe(subs[0]!, inner);
      if (!d.origin.startsWith("input")) return d;
    }
  }
  return { source: e.source ?? null, origin: e.primitive.name };
};

/**
 * The names of `f`'s positional parameters, read from its source text (`(w, x) => ...`,
 * `function loss(params, batch)`); null for a parameter that is destructured or rest, or when
 * the text cannot be read (a native or bound function, a wrapper such as `checkpoint(f)`).
 */
const parameterNames = (f: (...args: any[]) => unknown): (string | null)[] => {
  let text: string;
  try {
    text = Function.prototype.toString.call(f);
  } catch {
    return [];
  }
  const single = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  if (single) return [single[1]!];
  const open = text.indexOf("(");
  if (open < 0 || /^class\b/.test(text)) return [];
  let depth = 0;
  let end = -1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth === 0) {
      end = i;
      break;
    }
  }
  if (end < 0) return [];
  const params: string[] = [];
  let cur = "";
  depth = 0;
  for (const c of text.slice(open + 1, end)) {
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (c === "," && depth === 0) {
      params.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) params.push(cur);
  return params.map((p) => /^\s*([A-Za-z_$][\w$]*)\s*(=.*)?$/s.exec(p)?.[1] ?? null);
};

/** The text path of every traced leaf of an argument tuple (`w`, `params.layers[0].b`, `args[1]`), in flat order. */
const argumentPaths = (inTree: TreeDef, names: readonly (string | null)[]): string[] => {
  const out: string[] = [];
  const go = (d: TreeDef, path: string): void => {
    if (d.kind === "leaf") out.push(path);
    else if (d.kind === "array" || d.kind === "custom") d.children.forEach((c, i) => go(c, `${path}[${i}]`));
    else if (d.kind === "object") d.children.forEach((c, i) => go(c, /^[A-Za-z_$][\w$]*$/.test(d.keys[i]!) ? `${path}.${d.keys[i]}` : `${path}[${JSON.stringify(d.keys[i])}]`));
  };
  if (inTree.kind === "array") inTree.children.forEach((c, i) => go(c, names[i] ?? `args[${i}]`));
  return out;
};

/**
 * Every residual that reverse-mode differentiation of `f` at `args` keeps for the backward
 * pass, in program order (the function's inputs first, in argument order, then each value
 * where it is computed), with shape, dtype and where it comes from: the argument's name and
 * path (`argument params.w`, read from `f`'s parameter list; `args[i]` when it cannot be
 * read), or the primitive and the source line that produced it. As JAX's `saved_residuals`.
 */
export const savedResiduals = (f: (...args: any[]) => unknown, ...args: unknown[]): SavedResidual[] => {
  const [flat, inTree] = flattenArgs("savedResiduals", args);
  const { jaxpr } = traceFlat("savedResiduals", f, inTree, flat);
  const lin = linearizeJaxpr(jaxpr);
  const m = jaxpr.outvars.length;
  const paths = argumentPaths(inTree, parameterNames(f));
  const { eqns } = producersOf(lin.known);
  const position = new Map(lin.known.eqns.map((e, i) => [e, i] as const));
  const listed = lin.known.outvars.slice(m).map((a) => {
    const v = a as Var;
    const d = describe(lin.known, v);
    const argIdx = d.origin.startsWith("input ") ? Number(d.origin.slice(6)) : -1;
    const argument = argIdx >= 0 ? (paths[argIdx] ?? `args leaf ${argIdx}`) : null;
    const r = { shape: v.aval.shape.slice(), dtype: v.aval.dtype, source: null, origin: argument !== null ? `argument ${argument}` : d.origin, argument } as SavedResidual;
    // The source line is read from a stack trace, which costs far more than the rest: only on demand.
    let source: string | null | undefined;
    Object.defineProperty(r, "source", { enumerable: true, get: () => (source === undefined ? (source = d.source?.location ?? null) : source) });
    const producer = eqns.get(v);
    return { r, key: argIdx >= 0 ? argIdx - flat.length : producer ? position.get(producer[0])! + producer[1] / 1e3 : Number.MAX_SAFE_INTEGER };
  });
  return listed.sort((a, b) => a.key - b.key).map((x) => x.r);
};
