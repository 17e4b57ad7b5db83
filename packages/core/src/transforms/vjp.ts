/**
 * Reverse mode: linearize (jvp + partial evaluation), then transpose the linear part.
 * `vjp`, `grad`, `valueAndGrad`, `linearize`, `linearTranspose` and `jvp` are thin
 * wrappers over the jaxpr rewrites, taking and returning pytrees.
 */
import { requireFunction } from "../api/args.js";
import { ArrayBase } from "../array.js";
import { type DType, isFloat } from "../dtype.js";
import { TransformError, ValueError } from "../errors.js";
import type { Jaxpr } from "../ir/jaxpr.js";
import { debugFlags } from "../config.js";
import { evalJaxpr } from "../interpreter.js";
import { zerosOf, convertElementType } from "../primitives/structural.js";
import { scalar } from "../primitives/common.js";
import { stopGradient } from "../primitives/special.js";
import * as tree from "../tree.js";
import { type TreeDef, flatten, treedefEquals, treedefToString, unflatten } from "../tree.js";
import { flattenArgs, leafToArray, normalizeArgnums, staticsAsNull, traceFlat } from "./api_util.js";
import { jvpJaxpr, matchTangents, tangentAval } from "./jvp.js";
import { partialEvalJaxpr } from "./partial_eval.js";
import { StructureCache, liftConsts, structureKey } from "./structure_key.js";
import { transposeJaxpr } from "./transpose.js";

/** The two halves {@link linearizeJaxpr} splits a jaxpr into, connected by residuals. */
export interface Linearized {
  /** primals -> (primal outs..., residuals...) */
  known: Jaxpr;
  /** (residuals..., tangents of the float inputs...) -> tangent outs */
  linear: Jaxpr;
  /** How many residuals `known` returns after the primal outputs. */
  numResiduals: number;
  /** Which inputs carry tangents (the float ones). */
  nonzeros: boolean[];
}

/** linearize as a jaxpr rewrite. */
export const linearizeJaxpr = (jaxpr: Jaxpr): Linearized => linearizeMasked(jaxpr, jaxpr.inAvals.map((a) => tangentAval(a) !== null));

/** {@link linearizeJaxpr} with tangents for the inputs `nonzeros` marks only. */
const linearizeMasked = (jaxpr: Jaxpr, nonzeros: boolean[]): Linearized => {
  const jj = jvpJaxpr(jaxpr, nonzeros);
  const n = jaxpr.invars.length;
  const m = jaxpr.outvars.length;
  const unknowns = [...new Array<boolean>(n).fill(false), ...nonzeros.filter(Boolean).map(() => true)];
  const instantiate = [...new Array<boolean>(m).fill(false), ...new Array<boolean>(m).fill(true)];
  const pe = partialEvalJaxpr(jj, unknowns, instantiate);
  if (pe.outUnknowns.slice(0, m).some(Boolean)) throw new Error("linearize: a primal output depends on a tangent");
  return { known: pe.known, linear: pe.unknown, numResiduals: pe.numResiduals, nonzeros };
};

const checkCotangent = (op: string, outTree: TreeDef, outs: readonly { shape: readonly number[]; dtype: DType }[], ct: unknown): ArrayBase[] => {
  const [cts, ctTree] = flatten(ct);
  if (!treedefEquals(ctTree, outTree)) {
    throw new ValueError(`the cotangent has structure ${treedefToString(ctTree)} but the output has ${treedefToString(outTree)}`, { op });
  }
  return cts.map((c, i) => {
    const a = leafToArray(c, op, "cotangent");
    const o = outs[i]!;
    if (a.shape.join() !== o.shape.join()) {
      throw new ValueError(`cotangent ${i} has shape [${a.shape.join(", ")}] but the output has shape [${o.shape.join(", ")}]`, { op });
    }
    return a.dtype === o.dtype ? a : convertElementType(a, o.dtype);
  });
};

/**
 * Linearizations of traced programs by structure (see transforms/structure_key.ts): an eager
 * training loop traces the same program at every step, and its linearization (jvp, partial
 * evaluation) and, through the memo on the linear jaxpr, its transpose are rewritten once
 * instead of every step. The program's constants are lifted to leading inputs without
 * tangents, so an entry holds no arrays and serves any constants of the same shapes. Bounded,
 * least recently used first out; bypassed under debugNans/debugInfs, whose reports name the
 * source line of each equation (a reused program carries the lines of its first trace).
 */
const linearizedByStructure = new StructureCache<Linearized>(64);

/** Forgets the cached linearizations (tests). */
export const clearLinearizeCache = (): void => linearizedByStructure.clear();

/** `jaxpr` linearized with its constants as leading inputs (see {@link linearizedByStructure}). */
const linearizeLifted = (jaxpr: Jaxpr): Linearized => {
  const key = debugFlags.check ? null : structureKey(jaxpr);
  const hit = linearizedByStructure.get(key);
  if (hit) return hit;
  const lin = linearizeMasked(liftConsts(jaxpr), [...jaxpr.constvars.map(() => false), ...jaxpr.inAvals.map((a) => tangentAval(a) !== null)]);
  linearizedByStructure.set(key, lin);
  return lin;
};

/** Traces `f` at `primals`, linearizes it and runs the known (forward) part. */
const linearizeAt = (op: string, f: (...args: any[]) => unknown, primals: unknown[]) => {
  const [flatIn, inTree] = flattenArgs(op, primals, true);
  const { jaxpr, outTree } = traceFlat(op, f, inTree, flatIn);
  const lifted = linearizeLifted(jaxpr);
  const c = jaxpr.consts.length;
  // The callers index tangents by the function's own inputs: drop the constants' (all false).
  const lin: Linearized = { ...lifted, nonzeros: lifted.nonzeros.slice(c) };
  const m = jaxpr.outvars.length;
  const knownOuts = evalJaxpr(lin.known, [...jaxpr.consts, ...flatIn]);
  return { flatIn, inTree, outTree, lin, outs: knownOuts.slice(0, m), residuals: knownOuts.slice(m) };
};

/** Options of {@link vjp}, {@link linearize} and {@link jvp}, passed as the last argument. */
export interface AuxOptions {
  /**
   * `f` returns a pair `[out, aux]`: only `out` is differentiated, and `aux` (any pytree of
   * arrays and numbers: metrics, state) comes back as it is, as with JAX's `has_aux`.
   */
  hasAux?: boolean;
}

/**
 * A trailing `{ hasAux }` object among variadic primals is the options, not a primal: a plain
 * object whose only key is `hasAux`, a boolean (a pytree primal of that shape has no array
 * leaf, so nothing is lost).
 */
export const splitTrailingOptions = (args: readonly unknown[]): [unknown[], AuxOptions] => {
  const last = args[args.length - 1];
  if (last !== null && typeof last === "object" && Object.getPrototypeOf(last) === Object.prototype) {
    const keys = Object.keys(last);
    if (keys.length === 1 && keys[0] === "hasAux" && typeof (last as AuxOptions).hasAux === "boolean") return [args.slice(0, -1), last as AuxOptions];
  }
  return [args.slice(), {}];
};

/** Splits `[value, aux]` when hasAux, with a clear error for anything else. */
export const splitAux = (op: string, out: unknown, hasAux: boolean): [unknown, unknown] => {
  if (!hasAux) return [out, undefined];
  if (!Array.isArray(out) || out.length !== 2) {
    throw new TransformError(`with hasAux: true the function must return a pair [value, aux], but it returned ${Array.isArray(out) ? `an array of length ${out.length}` : typeof out}`, {
      op,
      hint: "return [loss, aux], or drop hasAux",
    });
  }
  return [out[0], out[1]];
};

/**
 * `f` returning `[out, aux]` as a function returning the same pair with `aux`'s arrays
 * behind `stopGradient`: aux rides along as outputs that no derivative flows through.
 */
export const withStoppedAux =
  (op: string, f: (...args: any[]) => unknown) =>
  (...args: unknown[]): [unknown, unknown] => {
    const [out, aux] = splitAux(op, f(...args), true);
    return [out, tree.map((l: unknown) => (l instanceof ArrayBase ? stopGradient(l) : l), aux)];
  };

/**
 * `vjp(f, ...primals)` -> `[out, vjpFn]`, where `vjpFn(ct)` returns the cotangents of all
 * primals as a tuple (zeros for integer inputs). With a last argument `{ hasAux: true }`,
 * `f` returns `[out, aux]` and `vjp` returns `[out, vjpFn, aux]` (`vjpFn` takes the
 * cotangent of `out` only), as `jax.vjp(f, *primals, has_aux=True)`.
 */
export function vjp<Out = any>(f: (...args: any[]) => Out, ...primals: unknown[]): [Out, (ct: unknown) => any[]];
export function vjp(f: (...args: any[]) => unknown, ...primalsAndOptions: unknown[]): [any, (ct: unknown) => any[], any];
export function vjp(f: (...args: any[]) => unknown, ...primalsAndOptions: unknown[]): [unknown, (ct: unknown) => any[], unknown?] {
  const op = "vjp";
  const [primals, options] = splitTrailingOptions(primalsAndOptions);
  if (!options.hasAux) return vjpPlain(op, f, primals);
  const [[out, aux], pairFn] = vjpPlain(op, withStoppedAux(op, f), primals) as [[unknown, unknown], (ct: unknown) => any[]];
  const [outLeaves, outTree] = flatten(out);
  const outAvals = outLeaves.map((l) => leafToArray(l, op, "the function's output").aval);
  const auxZeros = tree.map((l: unknown) => zerosOf(leafToArray(l, op, "aux").aval), aux);
  const vjpFn = (ct: unknown): any[] => {
    checkCotangent(op, outTree, outAvals, ct);
    return pairFn([ct, auxZeros]);
  };
  return [out, vjpFn, aux];
}

const vjpPlain = <Out>(op: string, f: (...args: any[]) => Out, primals: unknown[]): [Out, (ct: unknown) => any[]] => {
  const { flatIn, inTree, outTree, lin, outs, residuals } = linearizeAt(op, f, primals);
  const linearMask = [...residuals.map(() => false), ...lin.nonzeros.filter(Boolean).map(() => true)];
  const bwd = transposeJaxpr(lin.linear, linearMask);
  const vjpFn = (ct: unknown): any[] => {
    const cts = checkCotangent(op, outTree, outs, ct);
    const grads = evalJaxpr(bwd, [...residuals, ...cts]);
    let k = 0;
    const all = flatIn.map((x, i) => (lin.nonzeros[i] ? grads[k++]! : zerosOf(x.aval)));
    return unflatten<any[]>(staticsAsNull(inTree), all);
  };
  return [unflatten<Out>(outTree, outs), vjpFn];
};

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which positional arguments to differentiate (default 0). An array gives a tuple of gradients. */
  argnums?: number | readonly number[];
  /** `f` returns `[value, aux]`; the aux part is returned alongside, not differentiated. */
  hasAux?: boolean;
}

const gradImpl = (op: string, f: (...args: any[]) => unknown, options: GradOptions, args: unknown[]): [ArrayBase, unknown, unknown] => {
  const argnums = normalizeArgnums(op, options.argnums ?? 0, args.length);
  const hasAux = options.hasAux ?? false;
  argnums.forEach((a) => {
    flatten(args[a])[0].forEach((leaf) => {
      const x = leafToArray(leaf, op, "argument", true);
      if (!isFloat(x.dtype)) {
        throw new TransformError(`cannot differentiate with respect to argument ${a}: it holds ${x.aval}, an integer or bool value`, {
          op,
          hint: "pass floats (np.astype(x, 'float32')), or leave this argument out of argnums",
        });
      }
    });
  });
  // The aux value leaves the traced function as extra (undifferentiated) outputs.
  const partial = (...diffArgs: unknown[]) => {
    const full = args.slice();
    argnums.forEach((a, i) => (full[a] = diffArgs[i]));
    const [value, aux] = splitAux(op, f(...full), hasAux);
    const def = flatten(value)[1];
    // A JS number is a float here, as it is for inputs: grad(() => 3) is zero, as in JAX.
    const v = def.kind === "leaf" ? leafToArray(value, op, "the function's output", true) : null;
    if (!v || v.ndim !== 0) {
      throw new TransformError(`grad requires a scalar output, but the function returned ${v ? v.aval : treedefToString(def)}`, {
        op,
        hint: hasAux
          ? "reduce the output (np.sum / np.mean); with hasAux the function returns [scalar, aux]"
          : "reduce the output (np.sum / np.mean), use hasAux: true to return [loss, aux], or use vjp / jacrev for non-scalar outputs",
      });
    }
    if (!isFloat(v.dtype)) {
      throw new TransformError(`grad requires a float output, but the function returned ${v.aval}`, { op, hint: "compute the loss in float32 or float64" });
    }
    return { value: v, aux };
  };
  const [out, vjpFn] = vjpPlain(op, partial, argnums.map((a) => args[a]));
  const auxCt = tree.map((l: ArrayBase) => zerosOf(l.aval), out.aux);
  const grads = vjpFn({ value: scalar(1, out.value.dtype), aux: auxCt });
  return [out.value, typeof options.argnums === "number" || options.argnums === undefined ? grads[0] : grads, out.aux];
};

/**
 * The gradient of a scalar function: `grad(f)(x)`; with `argnums: [0, 1]` a tuple of
 * gradients; with `hasAux` returns `[grads, aux]`.
 */
export const grad =
  (f: (...args: any[]) => unknown, options: GradOptions = {}) =>
  (...args: any[]): any => {
    requireFunction("grad", "f", f);
    const [, g, aux] = gradImpl("grad", f, options, args);
    return options.hasAux ? [g, aux] : g;
  };

/** `valueAndGrad(f)(x)` -> `[value, grad]` (with hasAux: `[[value, aux], grad]`). */
export const valueAndGrad =
  (f: (...args: any[]) => unknown, options: GradOptions = {}) =>
  (...args: any[]): any => {
    requireFunction("valueAndGrad", "f", f);
    const [v, g, aux] = gradImpl("valueAndGrad", f, options, args);
    return options.hasAux ? [[v, aux], g] : [v, g];
  };

/**
 * `linearize(f, ...primals)` -> `[out, fLin]`, with `fLin(...tangents)` the jvp at the
 * primals. With a last argument `{ hasAux: true }`, `f` returns `[out, aux]` and
 * `linearize` returns `[out, fLin, aux]`, as `jax.linearize(f, *primals, has_aux=True)`.
 */
export function linearize<Out = any>(f: (...args: any[]) => Out, ...primals: unknown[]): [Out, (...tangents: unknown[]) => Out];
export function linearize(f: (...args: any[]) => unknown, ...primalsAndOptions: unknown[]): [any, (...tangents: unknown[]) => any, any];
export function linearize(f: (...args: any[]) => unknown, ...primalsAndOptions: unknown[]): [unknown, (...tangents: unknown[]) => unknown, unknown?] {
  const op = "linearize";
  const [primals, options] = splitTrailingOptions(primalsAndOptions);
  if (!options.hasAux) return linearizePlain(op, f, primals);
  const [[out, aux], pairLin] = linearizePlain(op, withStoppedAux(op, f), primals) as [[unknown, unknown], (...t: unknown[]) => [unknown, unknown]];
  return [out, (...tangents: unknown[]) => pairLin(...tangents)[0], aux];
}

const linearizePlain = <Out>(op: string, f: (...args: any[]) => Out, primals: unknown[]): [Out, (...tangents: unknown[]) => Out] => {
  const { flatIn, inTree, outTree, lin, outs, residuals } = linearizeAt(op, f, primals);
  const fLin = (...tangents: unknown[]): Out => {
    // Checked and converted here: the linear jaxpr is evaluated without re-checking types.
    const ts = matchTangents(op, tangents, inTree, flatIn).filter((_, i) => lin.nonzeros[i]);
    return unflatten<Out>(outTree, evalJaxpr(lin.linear, [...residuals, ...ts]));
  };
  return [unflatten<Out>(outTree, outs), fLin];
};

/**
 * The transpose of a linear function `f`, traced at `primals` (which give only shapes and
 * dtypes): returns `ct -> cotangents of the inputs`.
 */
export const linearTranspose = (f: (...args: any[]) => unknown, ...primals: unknown[]): ((ct: unknown) => any[]) => {
  const op = "linearTranspose";
  const [flatIn, inTree] = flattenArgs(op, primals);
  const { jaxpr, outTree } = traceFlat(op, f, inTree, flatIn);
  const bwd = transposeJaxpr(jaxpr, flatIn.map(() => true));
  return (ct) => {
    const cts = checkCotangent(op, outTree, jaxpr.outAvals, ct);
    return unflatten<any[]>(staticsAsNull(inTree), evalJaxpr(bwd, cts));
  };
};
