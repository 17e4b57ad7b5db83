/**
 * Jacobians: `jacfwd` pushes a basis of input tangents through `jvp` under `vmap`;
 * `jacrev` pulls a basis of output cotangents through `vjp` under `vmap`. Both return the
 * tree product of output and input structures, as JAX does: each output leaf is replaced
 * by the input structure, with leaves of shape `out.shape ++ in.shape`.
 */
import { requireFunction } from "../api/args.js";
import { type ArrayBase, fromBuffer } from "../array.js";
import { type DType, isFloat, typedArrayFor } from "../dtype.js";
import { TransformError } from "../errors.js";
import { reshape, transpose, zerosOf } from "../primitives/structural.js";
import { flatten, unflatten } from "../tree.js";
import { flattenArgs, leafToArray, normalizeArgnums } from "./api_util.js";
import { jvp } from "./jvp.js";
import { vjp } from "./vjp.js";
import { vmap } from "./vmap.js";

/** Options of {@link jacfwd}, {@link jacrev} and {@link hessian}. */
export interface JacobianOptions {
  /** Which positional argument(s) to differentiate (default 0); an array gives a tuple. */
  argnums?: number | readonly number[];
  /**
   * `f` returns `[out, aux]`: the Jacobian is of `out`, and the result is `[jacobian, aux]`
   * with `aux` as computed at the arguments (not differentiated), as JAX's `has_aux`.
   */
  hasAux?: boolean;
}

/** The standard basis of a space of `shape`: an array of shape [n, ...shape]. */
const basis = (shape: readonly number[], dtype: DType): ArrayBase => {
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = typedArrayFor(dtype, n * n);
  for (let i = 0; i < n; i++) buf[i * n + i] = 1;
  return fromBuffer(buf, [n, ...shape], dtype);
};

/** [n, ...rest] -> [...lead, ...rest] -> moves `lead` axes to the end: gives rest ++ lead. */
const splitAndMoveLast = (x: ArrayBase, lead: readonly number[]): ArrayBase => {
  const rest = x.shape.slice(1);
  const y = reshape(x, [...lead, ...rest]);
  const perm = [...rest.map((_, i) => lead.length + i), ...lead.map((_, i) => i)];
  return transpose(y, perm);
};

const setup = (op: string, args: unknown[], options: JacobianOptions) => {
  const argnums = normalizeArgnums(op, options.argnums ?? 0, args.length);
  const single = typeof options.argnums === "number" || options.argnums === undefined;
  const x = single ? args[argnums[0]!] : argnums.map((a) => args[a]);
  const [xs, xTree] = flatten(x);
  const xl = xs.map((l) => leafToArray(l, op, "argument", true));
  xl.forEach((l, i) => {
    if (!isFloat(l.dtype)) {
      throw new TransformError(`cannot differentiate with respect to input leaf ${i} (${l.aval}): it is not a float array`, { op, hint: "convert it with np.astype(x, 'float32')" });
    }
  });
  const withX = (f: (...a: any[]) => unknown) => (xv: unknown) => {
    const full = args.slice();
    if (single) full[argnums[0]!] = xv;
    else argnums.forEach((a, i) => (full[a] = (xv as unknown[])[i]));
    return f(...full);
  };
  return { xl, xTree, withX, x };
};

/** The Jacobian of `f` by forward mode (efficient for few inputs, many outputs); with `hasAux`, `[jacobian, aux]`. */
export const jacfwd =
  (f: (...args: any[]) => unknown, options: JacobianOptions = {}) =>
  (...args: any[]): any => {
    const op = "jacfwd";
    requireFunction(op, "f", f);
    flattenArgs(op, args);
    const hasAux = options.hasAux ?? false;
    const { xl, xTree, withX, x } = setup(op, args, options);
    const g = withX(f);
    let outTree: ReturnType<typeof flatten>[1] | undefined;
    let aux: unknown;
    // One vmapped jvp per input leaf, with the other leaves' tangents zero. aux depends on
    // the primals only, so it leaves the vmap unbatched (outAxes null).
    const perInput = xl.map((leaf, i) => {
      const push = (t: ArrayBase) => {
        const ts = xl.map((l, k) => (k === i ? t : zerosOf(l.aval)));
        const [, tout, a] = hasAux ? jvp(g, [x], [unflatten(xTree, ts)], { hasAux: true }) : [...jvp(g, [x], [unflatten(xTree, ts)]), undefined];
        const [leaves, def] = flatten(tout);
        outTree = def;
        return [leaves, a];
      };
      const [cols, a] = vmap(push, { outAxes: [0, null] })(basis(leaf.shape, leaf.dtype)) as [ArrayBase[], unknown];
      aux = a;
      return cols.map((c) => splitAndMoveLast(c, leaf.shape));
    });
    if (hasAux && xl.length === 0) aux = jvp(g, [x], [x], { hasAux: true })[2];
    const nOut = perInput[0]?.length ?? 0;
    const jac = !outTree
      ? unflatten(xTree, [])
      : unflatten(
          outTree,
          Array.from({ length: nOut }, (_, j) => unflatten(xTree, perInput.map((p) => p[j]))),
        );
    return hasAux ? [jac, aux] : jac;
  };

/** The Jacobian of `f` by reverse mode (efficient for few outputs, many inputs); with `hasAux`, `[jacobian, aux]`. */
export const jacrev =
  (f: (...args: any[]) => unknown, options: JacobianOptions = {}) =>
  (...args: any[]): any => {
    const op = "jacrev";
    requireFunction(op, "f", f);
    flattenArgs(op, args);
    const { xTree, withX, x } = setup(op, args, options);
    const hasAux = options.hasAux ?? false;
    const [out, back, aux] = hasAux ? vjp(withX(f), x, { hasAux: true }) : [...vjp(withX(f), x), undefined];
    const [outs, outTree] = flatten(out);
    const ol = outs.map((o) => leafToArray(o, op, "the function's output"));
    const rows = ol.map((o, j) => {
      const pull = (c: ArrayBase) => {
        const cts = ol.map((q, k) => (k === j ? c : zerosOf(q.aval)));
        return flatten(back(unflatten(outTree, cts))[0])[0] as ArrayBase[];
      };
      const perIn = vmap(pull)(basis(o.shape, o.dtype)) as ArrayBase[];
      // [m, ...in.shape] -> [...out.shape, ...in.shape]
      return unflatten(xTree, perIn.map((r) => reshape(r, [...o.shape, ...r.shape.slice(1)])));
    });
    const jac = unflatten(outTree, rows);
    return hasAux ? [jac, aux] : jac;
  };

/** The Hessian of a scalar `f`: `jacfwd(jacrev(f))`; with `hasAux`, `[hessian, aux]` (aux passes through both). */
export const hessian = (f: (...args: any[]) => unknown, options: JacobianOptions = {}) => jacfwd(jacrev(f, options), options);
