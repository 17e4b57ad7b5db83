/**
 * User-defined derivative rules. `customJvp(f).defJvp(rule)` replaces forward-mode (and
 * so reverse-mode) differentiation of `f` with `rule`; `customVjp(f).defVjp(fwd, bwd)`
 * replaces reverse mode with `fwd` (primal outputs and residuals) and `bwd` (residuals and
 * output cotangent to input cotangents). Both are higher-order primitives carrying `f`'s
 * jaxpr, so they batch and nest like any other equation.
 */
import { type ArrayBase, bufferOf } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { TransformError, ValueError } from "../errors.js";
import type { Jaxpr } from "../ir/jaxpr.js";
import { type MaybeZero, type Primitive, definePrimitive } from "../ir/primitive.js";
import { evalJaxpr } from "../interpreter.js";
import { reduceSum } from "../primitives/reduce.js";
import { convertElementType, zerosOf } from "../primitives/structural.js";
import { bind } from "../trace.js";
import { type TreeDef, flatten, node, treedefEquals, treedefToString, unflatten } from "../tree.js";
import { flattenArgs, flattenTraced, isStaticLeaf, leafToArray, staticsAsNull, traceFlat } from "../transforms/api_util.js";
import { batchJaxpr, moveBatchAxis } from "../transforms/vmap.js";
import { vmapFlat } from "../transforms/vmap_flat.js";
import { bindWithJaxpr, callAbstractEval } from "./closed_call.js";

type FlatFn = (...xs: ArrayBase[]) => ArrayBase[];

/** Tangents of closed-over values cannot flow through a custom rule: say so instead of dropping them. */
const refuseClosureTangents = (op: string, tangents: MaybeZero[], num_consts: number) => {
  if (tangents.slice(0, num_consts).some((t) => t !== null)) {
    throw new TransformError(`the function closes over a value that is being differentiated; its custom rule cannot see that derivative`, {
      op,
      hint: "pass the value as an explicit argument of the custom function",
    });
  }
};

const checkLike = (op: string, what: string, got: ArrayBase[], want: { aval: { shape: readonly number[]; dtype: string; toString(): string } }[]): ArrayBase[] =>
  got.map((g, i) => {
    const w = want[i]!.aval;
    if (g.shape.join() !== w.shape.join()) {
      throw new ValueError(`${what} ${i} has shape [${g.shape.join(", ")}] but should match ${w}`, { op });
    }
    return g.dtype === w.dtype ? g : convertElementType(g, w.dtype as never);
  });

// ------------------------------------------------------------------ custom_jvp

interface CustomJvpParams {
  jaxpr: Jaxpr;
  jvp: (primals: ArrayBase[], tangents: ArrayBase[]) => ArrayBase[];
  num_consts: number;
}

export const customJvpCallP: Primitive<CustomJvpParams> = definePrimitive<CustomJvpParams>({
  name: "custom_jvp_call",
  abstractEval: (avals, { jaxpr }) => callAbstractEval("custom_jvp_call", avals, jaxpr),
  impl: (args, { jaxpr }) => evalJaxpr(jaxpr, args) as never,
  subJaxprs: ({ jaxpr }) => [jaxpr],
  jvp: (primals, tangents, { jaxpr, jvp, num_consts }) => {
    refuseClosureTangents("customJvp", tangents, num_consts);
    const args = primals.slice(num_consts);
    const ts = tangents.slice(num_consts).map((t, i) => t ?? zerosOf(args[i]!.aval));
    const outs = jvp(args, ts);
    const m = jaxpr.outvars.length;
    return [outs.slice(0, m), outs.slice(m)];
  },
  batch: (args, dims, { jaxpr, jvp, num_consts }, size) => {
    const batched = batchJaxpr(jaxpr, dims, size, jaxpr.outvars.map(() => 0));
    const argDims = dims.slice(num_consts);
    // The rule sees batched primals and tangents (tangents share their primal's axis).
    const batchedJvp = (ps: ArrayBase[], ts: ArrayBase[]) => vmapFlat((...xs) => jvp(xs.slice(0, ps.length), xs.slice(ps.length)), [...ps, ...ts], [...argDims, ...argDims], size);
    // The batched jaxpr may bring constants of its own; they are hoisted in front of the old ones.
    const outs = bindWithJaxpr(customJvpCallP, batched, args, { jvp: batchedJvp, num_consts: num_consts + batched.consts.length });
    return [outs, outs.map(() => 0)];
  },
});

/** A function with a custom forward-mode rule. */
export interface CustomJvpFunction<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  /**
   * Sets the rule: `rule(primals, tangents)` gets the argument tuple and a tangent tuple of
   * the same structure, and returns `[out, tangentOut]`. Returns the function itself.
   */
  defJvp(rule: (primals: Parameters<F>, tangents: Parameters<F>) => [ReturnType<F>, ReturnType<F>]): CustomJvpFunction<F>;
}

/** Wraps `f` so that its derivative is given by a rule set with `defJvp` (as jax.custom_jvp). */
export const customJvp = <F extends (...args: any[]) => any>(f: F): CustomJvpFunction<F> => {
  let rule: ((primals: any, tangents: any) => [unknown, unknown]) | undefined;
  const g = ((...args: Parameters<F>) => {
    const op = "customJvp";
    if (!rule) throw new TransformError("no jvp rule was defined", { op, hint: "call f.defJvp((primals, tangents) => [out, tangentOut]) first" });
    const [flat, inTree] = flattenArgs(op, args);
    const { jaxpr, outTree } = traceFlat(op, f, inTree, flat);
    const r = rule;
    const flatJvp = (ps: ArrayBase[], ts: ArrayBase[]): ArrayBase[] => {
      // A static argument (a JS boolean, string or function) has no tangent: null stands for it.
      const res = r(unflatten(inTree, ps), unflatten(staticsAsNull(inTree), ts));
      if (!Array.isArray(res) || res.length !== 2) {
        throw new TransformError("the jvp rule must return a pair [out, tangentOut]", { op });
      }
      const [o, oTree] = flatten(res[0]);
      const [t, tTree] = flatten(res[1]);
      if (!treedefEquals(oTree, outTree) || !treedefEquals(tTree, outTree)) {
        throw new TransformError(
          `the jvp rule returned [${treedefToString(oTree)}, ${treedefToString(tTree)}] but the function's output is ${treedefToString(outTree)}`,
          { op },
        );
      }
      const outs = o.map((x) => leafToArray(x, op));
      return [...checkLike(op, "jvp rule output", outs, jaxpr.outvars), ...checkLike(op, "jvp rule tangent", t.map((x) => leafToArray(x, op)), jaxpr.outvars)];
    };
    const num_consts = jaxpr.constvars.length;
    return unflatten(outTree, bindWithJaxpr(customJvpCallP, jaxpr, flat, { jvp: flatJvp, num_consts }));
  }) as CustomJvpFunction<F>;
  g.defJvp = (r) => {
    rule = r as never;
    return g;
  };
  return g;
};

// ------------------------------------------------------------------ custom_vjp

interface CustomVjpParams {
  jaxpr: Jaxpr;
  /** args -> (outs..., residuals...) */
  fwd: FlatFn;
  /** (residuals..., cts...) -> arg cts */
  bwd: FlatFn;
  num_consts: number;
}

interface CustomLinParams {
  bwd: FlatFn;
  numRes: number;
  outAvals: readonly ShapedArray[];
}

const forwardModeError = () =>
  new TransformError("forward-mode differentiation (jvp, jacfwd, linearize) of a customVjp function is not supported: it only defines reverse mode", {
    op: "customVjp",
    hint: "use grad/vjp/jacrev, or define the rule with customJvp, which supports both modes",
  });

/** The linear part of a custom_vjp function under differentiation: transposes to `bwd`. */
export const customLinP: Primitive<CustomLinParams> = definePrimitive<CustomLinParams>({
  name: "custom_lin",
  abstractEval: (_avals, { outAvals }) => outAvals.slice(),
  // Evaluated only when its tangents are known values. In linearize those are zeros that a
  // rule instantiated for an output no input tangent reaches (checkpoint's jvp does), since
  // a tangent that depends on no input tangent is zero; the map is linear, so it gives zeros.
  // Any other value is a forward-mode request, which a customVjp cannot serve.
  impl: (args, { numRes, outAvals }) => {
    if (args.slice(numRes).every((t) => bufferOf(t).every((v) => v === 0))) return outAvals.map(zerosOf) as never;
    throw forwardModeError();
  },
  jvp: () => {
    throw forwardModeError();
  },
  batch: (args, dims, { bwd, numRes, outAvals }, size) => {
    // Residuals and tangents batched at axis 0; bwd runs per example under vmap.
    const at0 = args.map((x, i) => moveBatchAxis(x, dims[i] ?? null, 0, size));
    const bwdB: FlatFn = (...rc) => vmapFlat(bwd, rc, rc.map(() => 0), size);
    const outs = bind(customLinP, at0, { bwd: bwdB, numRes, outAvals: outAvals.map((a) => new ShapedArray([size, ...a.shape], a.dtype)) });
    return [outs, outs.map(() => 0)];
  },
  transpose: (cts, inputs, { bwd, numRes, outAvals }) => {
    const res = inputs.slice(0, numRes) as ArrayBase[];
    const ctsIn = bwd(...res, ...cts.map((c, i) => c ?? zerosOf(outAvals[i]!)));
    return [...res.map(() => null), ...ctsIn];
  },
});

export const customVjpCallP: Primitive<CustomVjpParams> = definePrimitive<CustomVjpParams>({
  name: "custom_vjp_call",
  abstractEval: (avals, { jaxpr }) => callAbstractEval("custom_vjp_call", avals, jaxpr),
  impl: (args, { jaxpr }) => evalJaxpr(jaxpr, args) as never,
  subJaxprs: ({ jaxpr }) => [jaxpr],
  jvp: (primals, tangents, { jaxpr, fwd, bwd, num_consts }) => {
    refuseClosureTangents("customVjp", tangents, num_consts);
    const args = primals.slice(num_consts);
    const m = jaxpr.outvars.length;
    const outsAndRes = fwd(...args);
    const res = outsAndRes.slice(m);
    const ts = tangents.slice(num_consts).map((t, i) => t ?? zerosOf(args[i]!.aval));
    const touts = bind(customLinP, [...res, ...ts], { bwd, numRes: res.length, outAvals: jaxpr.outAvals });
    return [outsAndRes.slice(0, m), touts];
  },
  batch: (args, dims, { jaxpr, fwd, bwd, num_consts }, size) => {
    const argDims = dims.slice(num_consts);
    const batched = batchJaxpr(jaxpr, dims, size, jaxpr.outvars.map(() => 0));
    const fwdB: FlatFn = (...xs) => vmapFlat(fwd, xs, argDims, size);
    const bwdB: FlatFn = (...rc) => {
      const cts = vmapFlat(bwd, rc, rc.map(() => 0), size);
      // Unbatched inputs get the sum of their per-example cotangents.
      return cts.map((c, i) => (argDims[i] === null ? reduceSum(c, [0]) : moveBatchAxis(c, 0, argDims[i]!, size)));
    };
    const outs = bindWithJaxpr(customVjpCallP, batched, args, { fwd: fwdB, bwd: bwdB, num_consts: num_consts + batched.consts.length });
    return [outs, outs.map(() => 0)];
  },
});

const ZERO_CT = Symbol("zero cotangent");

/**
 * The leaves of bwd's cotangents, matched against the arguments they belong to: a null or
 * undefined where the arguments have a subtree stands for zeros over all of it (as None
 * does in JAX's custom_vjp), e.g. for an integer argument. Null when the structures differ.
 */
const flattenCotangents = (cts: unknown, args: unknown): unknown[] | null => {
  const out: unknown[] = [];
  const isEmpty = (x: unknown) => x === null || x === undefined;
  const go = (c: unknown, a: unknown): boolean => {
    // A static argument (a JS boolean, string or function) is no input of the jaxpr: its cotangent is ignored.
    if (isStaticLeaf(a)) return node(c) === null;
    if (isEmpty(c) && !isEmpty(a)) {
      for (let n = flatten(a)[0].filter((l) => !isStaticLeaf(l)).length; n > 0; n--) out.push(ZERO_CT);
      return true;
    }
    const an = node(a);
    const cn = node(c);
    if (!an) {
      if (isEmpty(a)) return isEmpty(c);
      if (cn) return false;
      out.push(c);
      return true;
    }
    return cn !== null && treedefEquals(cn.def, an.def) && an.children.every((ac, i) => go(cn.children[i], ac));
  };
  return go(cts, args) ? out : null;
};

/** A function with custom reverse-mode rules. */
export interface CustomVjpFunction<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  /**
   * Sets the rules: `fwd(...args)` returns `[out, residuals]` (any pytree of residuals);
   * `bwd(residuals, ct)` returns the cotangents of the arguments as a tuple (null for a
   * zero cotangent of an argument or subtree, e.g. an integer argument).
   */
  defVjp<R>(fwd: (...args: Parameters<F>) => [ReturnType<F>, R], bwd: (residuals: R, ct: ReturnType<F>) => unknown[]): CustomVjpFunction<F>;
}

/** Wraps `f` so that reverse-mode differentiation uses rules set with `defVjp` (as jax.custom_vjp). */
export const customVjp = <F extends (...args: any[]) => any>(f: F): CustomVjpFunction<F> => {
  let rules: { fwd: (...args: any[]) => [unknown, unknown]; bwd: (res: any, ct: any) => unknown[] } | undefined;
  const g = ((...args: Parameters<F>) => {
    const op = "customVjp";
    if (!rules) throw new TransformError("no vjp rules were defined", { op, hint: "call f.defVjp(fwd, bwd) first" });
    const [flat, inTree] = flattenArgs(op, args);
    const { jaxpr, outTree } = traceFlat(op, f, inTree, flat);
    const { fwd, bwd } = rules;
    let resTree: TreeDef | undefined;
    const fwdFlat: FlatFn = (...xs) => {
      const r = fwd(...unflatten<unknown[]>(inTree, xs));
      if (!Array.isArray(r) || r.length !== 2) throw new TransformError("fwd must return a pair [out, residuals]", { op });
      const [o, oTree] = flatten(r[0]);
      if (!treedefEquals(oTree, outTree)) {
        throw new TransformError(`fwd returned an output of structure ${treedefToString(oTree)} but the function's is ${treedefToString(outTree)}`, { op });
      }
      // Static residuals (a JS boolean, string or function) reach bwd as they are.
      const [res, rt] = flattenTraced(op, r[1], "residual");
      resTree = rt;
      return [...checkLike(op, "fwd output", o.map((x) => leafToArray(x, op)), jaxpr.outvars), ...res];
    };
    const bwdFlat: FlatFn = (...rc) => {
      const nres = rc.length - jaxpr.outvars.length;
      const cts = bwd(unflatten(resTree!, rc.slice(0, nres)), unflatten(outTree, rc.slice(nres)));
      if (!Array.isArray(cts) || cts.length !== args.length) {
        throw new TransformError(`bwd must return a tuple with one cotangent per argument (${args.length}), got ${Array.isArray(cts) ? cts.length : typeof cts}`, { op });
      }
      const flatCts = flattenCotangents(cts, args);
      if (!flatCts) {
        throw new TransformError(`bwd returned cotangents of structure ${treedefToString(flatten(cts)[1])} but the arguments have ${treedefToString(inTree)}`, {
          op,
          hint: "return one cotangent per argument, shaped like it; null stands for a zero cotangent of a whole argument or subtree",
        });
      }
      return checkLike(op, "bwd cotangent", flatCts.map((x, i) => (x === ZERO_CT ? zerosOf(jaxpr.invars[i]!.aval) : leafToArray(x, op))), jaxpr.invars);
    };
    const num_consts = jaxpr.constvars.length;
    return unflatten(outTree, bindWithJaxpr(customVjpCallP, jaxpr, flat, { fwd: fwdFlat, bwd: bwdFlat, num_consts }));
  }) as CustomVjpFunction<F>;
  g.defVjp = (fwd, bwd) => {
    rules = { fwd: fwd as never, bwd: bwd as never };
    return g;
  };
  return g;
};
