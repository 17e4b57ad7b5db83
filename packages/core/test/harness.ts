/**
 * Shared property-test helpers: every primitive family's tests use these to check its
 * rules the same way.
 *  - checkGrad: reverse-mode gradients against central finite differences (float64).
 *  - checkJvp: forward-mode against finite differences.
 *  - checkTransposition: <vjp(u), v> = <u, jvp(v)>.
 *  - checkVmap: vmap(f)(xs) equals stacking f over xs.
 *  - typecheck on every jaxpr the transforms produce.
 */
import { expect } from "vitest";
import fc from "fast-check";
import {
  type ArrayBase,
  type NDArray,
  batchJaxpr,
  grad,
  jvp,
  jvpJaxpr,
  linearizeJaxpr,
  makeJaxpr,
  np,
  transposeJaxpr,
  tree,
  typecheck,
  vjp,
  vmap,
} from "@cotangent/core";

export type Fn = (...args: any[]) => any;

const flat = (x: unknown): number[] =>
  tree.leaves<ArrayBase>(x).flatMap((l: any) => (typeof l === "number" ? [l] : (Array.from(l.toTypedArray()) as number[])));

/** Largest absolute difference between two pytrees of arrays, scaled by their magnitude. */
export const relErr = (a: unknown, b: unknown): number => {
  const fa = flat(a);
  const fb = flat(b);
  expect(fa.length).toBe(fb.length);
  let m = 0;
  for (let i = 0; i < fa.length; i++) {
    const x = fa[i]!;
    const y = fb[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    m = Math.max(m, Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y)));
  }
  return m;
};

export const expectClose = (a: unknown, b: unknown, tol = 1e-6): void => {
  const e = relErr(a, b);
  if (!(e <= tol)) {
    throw new Error(`arrays differ: relative error ${e} > ${tol}\n${String(a)}\nvs\n${String(b)}`);
  }
};

/** Runs typecheck on the jaxprs of f and of its jvp, linearization, transpose and batching. */
export const typecheckTransforms = (f: Fn, args: ArrayBase[], opts: { linear?: boolean; batch?: boolean } = {}): void => {
  const j = makeJaxpr(f)(...args);
  typecheck(j);
  const jj = jvpJaxpr(j, j.inAvals.map((a) => a.dtype.startsWith("float")));
  typecheck(jj);
  const lin = linearizeJaxpr(j);
  typecheck(lin.known);
  typecheck(lin.linear);
  const nres = lin.numResiduals;
  const mask = lin.linear.invars.map((_, i) => i >= nres);
  typecheck(transposeJaxpr(lin.linear, mask));
  if (opts.batch !== false) typecheck(batchJaxpr(j, j.invars.map(() => 0), 2, j.outvars.map(() => 0)));
};

/** Sum of all outputs weighted by fixed pseudo-random weights: a scalar function of f. */
const scalarize = (f: Fn, outShapeSeed = 0.37) => (...args: any[]) => {
  const outs = tree.leaves<ArrayBase>(f(...args));
  let total: ArrayBase | null = null;
  outs.forEach((o, k) => {
    const n = o.size;
    const w = np.array(
      Array.from({ length: n }, (_, i) => Math.sin(1 + i * 1.7 + k * 3.1 + outShapeSeed)),
      { dtype: o.dtype },
    );
    const s = np.sum(np.multiply(np.reshape(o, [n]), w));
    total = total ? np.add(total, s) : s;
  });
  return total!;
};

/**
 * Checks grad of f at args (float64 arrays) against central finite differences of the
 * scalarised output, for every argument.
 */
export const checkGrad = (f: Fn, args: NDArray[], { eps = 1e-6, tol = 1e-5 } = {}): void => {
  const g = scalarize(f);
  const argnums = args.map((_, i) => i);
  const grads = grad(g, { argnums })(...args) as NDArray[];
  args.forEach((x, a) => {
    const base = x.toTypedArray() as Float64Array;
    const fd = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const plus = Float64Array.from(base);
      const minus = Float64Array.from(base);
      plus[i] += eps;
      minus[i] -= eps;
      const at = (buf: Float64Array) => {
        const as = args.slice();
        as[a] = np.array(buf, { dtype: "float64", shape: x.shape }) as NDArray;
        return (g(...as) as NDArray).item();
      };
      fd[i] = (at(plus) - at(minus)) / (2 * eps);
    }
    const err = relErr(grads[a], np.array(fd, { dtype: "float64", shape: x.shape }));
    if (!(err <= tol)) throw new Error(`gradient of argument ${a} differs from finite differences by ${err}:\n${grads[a]}\nvs\n${np.array(fd, { dtype: "float64", shape: x.shape })}`);
  });
};

/** Checks jvp of f against finite differences along a random-ish direction. */
export const checkJvp = (f: Fn, args: NDArray[], { eps = 1e-6, tol = 1e-5 } = {}): void => {
  const dirs = args.map((x) => np.array(Array.from({ length: x.size }, (_, i) => Math.cos(i * 2.3 + 0.5)), { dtype: x.dtype, shape: x.shape }) as NDArray);
  const [, t] = jvp(f, args, dirs);
  const shift = (s: number) => args.map((x, k) => np.add(x, np.multiply(dirs[k]!, s)));
  const fd = tree.map((p: NDArray, m: NDArray) => np.divide(np.subtract(p, m), 2 * eps), f(...shift(eps)), f(...shift(-eps)));
  expectClose(t, fd, tol);
};

/** <vjp(u), v> = <u, jvp(v)> for random directions u (outputs) and v (inputs). */
export const checkTransposition = (f: Fn, args: NDArray[], tol = 1e-9): void => {
  const vs = args.map((x) => np.array(Array.from({ length: x.size }, (_, i) => Math.sin(i * 1.3 + 0.2)), { dtype: x.dtype, shape: x.shape }));
  const [out, back] = vjp(f, ...args);
  const us = tree.map((o: NDArray) => np.array(Array.from({ length: o.size }, (_, i) => Math.cos(i * 0.7 + 0.4)), { dtype: o.dtype, shape: o.shape }), out);
  const [, jv] = jvp(f, args, vs);
  const cts = back(us);
  const dot = (a: unknown, b: unknown) => {
    const fa = flat(a);
    const fb = flat(b);
    return fa.reduce((s, x, i) => s + x * fb[i]!, 0);
  };
  const lhs = dot(cts, vs);
  const rhs = dot(us, jv);
  expect(Math.abs(lhs - rhs) / Math.max(1, Math.abs(lhs), Math.abs(rhs))).toBeLessThan(tol);
};

/** vmap(f) over axis `axis` of every argument equals stacking f over the slices. */
export const checkVmap = (f: Fn, batched: NDArray[], tol = 1e-12, inAxes: (number | null)[] = batched.map(() => 0)): void => {
  const out = vmap(f, { inAxes })(...batched);
  const size = batched.map((x, i) => (inAxes[i] === null ? -1 : x.shape[inAxes[i]!]!)).find((s) => s >= 0)!;
  const slices = Array.from({ length: size }, (_, b) =>
    f(...batched.map((x, i) => (inAxes[i] === null ? x : np.take(x, np.array(b, { dtype: "int32" }), { axis: inAxes[i]! })))),
  );
  const stacked = tree.map((...ls: NDArray[]) => np.stack(ls), slices[0], ...slices.slice(1));
  expectClose(out, stacked, tol);
};

/** fast-check arbitrary for shapes of rank 0..maxRank with dims 0..maxDim. */
export const arbShape = (maxRank = 3, maxDim = 4, minDim = 0) => fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: 0, maxLength: maxRank });

/** A float64 array of the given shape with values in [lo, hi]. */
export const arbArray = (shape: number[], lo = -3, hi = 3, dtype: "float32" | "float64" = "float64") =>
  fc
    .array(fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }), {
      minLength: shape.reduce((a, b) => a * b, 1),
      maxLength: shape.reduce((a, b) => a * b, 1),
    })
    .map((vals) => np.array(Float64Array.from(vals), { dtype, shape }) as NDArray);

/** Shape + array pair. */
export const arbShapedArray = (maxRank = 3, maxDim = 4, lo = -3, hi = 3, dtype: "float32" | "float64" = "float64") =>
  arbShape(maxRank, maxDim).chain((s) => arbArray(s, lo, hi, dtype));
