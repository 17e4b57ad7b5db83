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

/**
 * Runs typecheck on the jaxprs of f and of its jvp, linearization, transpose and batching,
 * for every subset of the arguments traced (the others closed over as constants, and
 * unbatched under vmap).
 */
export const typecheckTransforms = (f: Fn, args: ArrayBase[], opts: { linear?: boolean; batch?: boolean } = {}): void => {
  for (const subset of argSubsets(args.length)) {
    const j = makeJaxpr(closeOver(f, args, subset))(...subset.map((a) => args[a]!));
    typecheck(j);
    typecheck(jvpJaxpr(j, j.inAvals.map((a) => a.dtype.startsWith("float"))));
    const lin = linearizeJaxpr(j);
    typecheck(lin.known);
    typecheck(lin.linear);
    const nres = lin.numResiduals;
    const mask = lin.linear.invars.map((_, i) => i >= nres);
    typecheck(transposeJaxpr(lin.linear, mask));
    if (opts.batch === false) continue;
    typecheck(batchJaxpr(j, j.invars.map(() => 0), 2, j.outvars.map(() => 0)));
    // The full jaxpr with only this subset batched: the rules meet unbatched operands.
    if (subset.length < args.length) {
      const full = makeJaxpr(f)(...args);
      typecheck(batchJaxpr(full, full.invars.map((_, i) => (subset.includes(i) ? 0 : null)), 2, full.outvars.map(() => 0)));
    }
  }
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
 * Every non-empty subset of the argument indices 0..n-1 (all 2^n - 1 of them up to four
 * arguments; beyond that each single argument, each all-but-one and all of them).
 * A rule must be right whichever of its operands are differentiated: the others reach it
 * as closed-over constants, which is where a rule that forgets a non-linear operand breaks.
 */
export const argSubsets = (n: number): number[][] => {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= 4) return Array.from({ length: (1 << n) - 1 }, (_, m) => all.filter((i) => (m + 1) & (1 << i)));
  const out = [all, ...all.map((i) => [i]), ...all.map((i) => all.filter((j) => j !== i))];
  return out;
};

/** f with only the arguments in `subset` left free; the others are closed over as constants. */
export const closeOver = (f: Fn, args: readonly unknown[], subset: readonly number[]): Fn => (...free: unknown[]) => {
  const full = args.slice();
  subset.forEach((a, k) => (full[a] = free[k]));
  return f(...full);
};

/**
 * The largest elementwise error of a derivative against its finite-difference estimate,
 * relative to the larger of the two: a gradient of 1e-4 is judged as strictly as one of 1.
 * Only entries below `floor` (the finite differences' own round-off noise, divided by the
 * tolerance) are compared against that floor instead, since there the estimate is noise.
 */
export const derivErr = (a: unknown, b: unknown, floor: number): number => {
  const fa = flat(a);
  const fb = flat(b);
  expect(fa.length).toBe(fb.length);
  let m = 0;
  for (let i = 0; i < fa.length; i++) {
    const x = fa[i]!;
    const y = fb[i]!;
    if (x === y) continue;
    const e = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), floor);
    m = Math.max(m, Number.isNaN(e) ? Infinity : e);
  }
  return m;
};

/**
 * Round-off noise of a central difference of a function of magnitude `scale` with step
 * `eps` (a hundred ulps of the function value, over the step), divided by the tolerance.
 */
const noiseFloor = (scale: number, eps: number, tol: number): number => (100 * Number.EPSILON * Math.max(1, scale)) / (2 * eps) / tol;

/**
 * Checks grad of f at args (float64 arrays) against central finite differences of the
 * scalarised output, for every subset of the arguments (the rest closed over as constants).
 */
export const checkGrad = (f: Fn, args: NDArray[], { eps = 1e-6, tol = 1e-5 } = {}): void => {
  const g = scalarize(f);
  let scale = Math.abs((g(...args) as NDArray).item());
  const fds = args.map((x, a) => {
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
        const v = (g(...as) as NDArray).item();
        scale = Math.max(scale, Math.abs(v));
        return v;
      };
      fd[i] = (at(plus) - at(minus)) / (2 * eps);
    }
    return np.array(fd, { dtype: "float64", shape: x.shape });
  });
  const floor = noiseFloor(scale, eps, tol);
  for (const subset of argSubsets(args.length)) {
    const grads = grad(closeOver(g, args, subset), { argnums: subset.map((_, k) => k) })(...subset.map((a) => args[a]!)) as NDArray[];
    subset.forEach((a, k) => {
      const err = derivErr(grads[k], fds[a], floor);
      if (!(err <= tol)) {
        throw new Error(`gradient of argument ${a} (differentiating arguments [${subset}]) differs from finite differences by ${err}:\n${grads[k]}\nvs\n${fds[a]}`);
      }
    });
  }
};

const direction = (x: ArrayBase, phase: number) =>
  np.array(Array.from({ length: x.size }, (_, i) => Math.sin(i * 2.1 + phase)), { dtype: x.dtype, shape: x.shape }) as NDArray;

/**
 * Second derivatives by Hessian-vector products: with f scalarised, the gradient of
 * h(x) = <grad f(x), v> (reverse over reverse) is H v; every entry must match the central
 * difference of grad f along v, for every subset of the arguments differentiated in the
 * outer gradient (the rest closed over). Costs a few gradients where checkGrad of a
 * gradient costs two per input element, and checks as many numbers.
 */
export const checkSecondOrder = (f: Fn, args: NDArray[], { eps = 1e-5, tol = 1e-5 } = {}): void => {
  const g = scalarize(f);
  const all = args.map((_, i) => i);
  const vs = args.map((x) => direction(x, 0.4));
  const gradAll = (...xs: ArrayBase[]) => grad(g, { argnums: all })(...xs) as NDArray[];
  const h = (...xs: ArrayBase[]) => gradAll(...xs).map((gi, i) => np.sum(np.multiply(gi, vs[i]!))).reduce((a, b) => np.add(a, b));
  const shifted = (s: number) => args.map((x, a) => np.add(x, np.multiply(vs[a]!, s)));
  const [gp, gm] = [gradAll(...shifted(eps)), gradAll(...shifted(-eps))];
  const fd = gp.map((p, i) => np.divide(np.subtract(p, gm[i]!), 2 * eps));
  const floor = noiseFloor(Math.max(...[...gp, ...gm].flatMap(flat).map(Math.abs), 0), eps, tol);
  for (const subset of argSubsets(args.length)) {
    const hv = grad(closeOver(h, args, subset), { argnums: subset.map((_, k) => k) })(...subset.map((a) => args[a]!)) as NDArray[];
    subset.forEach((a, k) => {
      const err = derivErr(hv[k], fd[a], floor);
      if (!(err <= tol)) {
        throw new Error(`Hessian-vector product for argument ${a} (differentiating arguments [${subset}]) differs from finite differences by ${err}:\n${hv[k]}\nvs\n${fd[a]}`);
      }
    });
  }
};

/** Checks jvp of f against finite differences along a random-ish direction. */
export const checkJvp = (f: Fn, args: NDArray[], { eps = 1e-6, tol = 1e-5 } = {}): void => {
  const dirs = args.map((x) => np.array(Array.from({ length: x.size }, (_, i) => Math.cos(i * 2.3 + 0.5)), { dtype: x.dtype, shape: x.shape }) as NDArray);
  const [, t] = jvp(f, args, dirs);
  const shift = (s: number) => args.map((x, k) => np.add(x, np.multiply(dirs[k]!, s)));
  const [plus, minus] = [f(...shift(eps)), f(...shift(-eps))];
  const fd = tree.map((p: NDArray, m: NDArray) => np.divide(np.subtract(p, m), 2 * eps), plus, minus);
  const scale = Math.max(...flat(plus).map(Math.abs), ...flat(minus).map(Math.abs), 0);
  const err = derivErr(t, fd, noiseFloor(scale, eps, tol));
  if (!(err <= tol)) throw new Error(`jvp differs from finite differences by ${err}:\n${String(t)}\nvs\n${String(fd)}`);
};

/**
 * <vjp(u), v> = <u, jvp(v)> for random directions u (outputs) and v (inputs), for every
 * subset of the arguments (the rest closed over as constants).
 */
export const checkTransposition = (f: Fn, args: NDArray[], tol = 1e-9): void => {
  const vsAll = args.map((x) => np.array(Array.from({ length: x.size }, (_, i) => Math.sin(i * 1.3 + 0.2)), { dtype: x.dtype, shape: x.shape }));
  const dot = (a: unknown, b: unknown) => {
    const fa = flat(a);
    const fb = flat(b);
    return fa.reduce((s, x, i) => s + x * fb[i]!, 0);
  };
  for (const subset of argSubsets(args.length)) {
    const fs = closeOver(f, args, subset);
    const primals = subset.map((a) => args[a]!);
    const vs = subset.map((a) => vsAll[a]!);
    const [out, back] = vjp(fs, ...primals);
    const us = tree.map((o: NDArray) => np.array(Array.from({ length: o.size }, (_, i) => Math.cos(i * 0.7 + 0.4)), { dtype: o.dtype, shape: o.shape }), out);
    const [, jv] = jvp(fs, primals, vs);
    const lhs = dot(back(us), vs);
    const rhs = dot(us, jv);
    const err = Math.abs(lhs - rhs) / Math.max(1, Math.abs(lhs), Math.abs(rhs));
    if (!(err < tol)) throw new Error(`transposition identity fails when differentiating arguments [${subset}]: <vjp(u), v> = ${lhs} but <u, jvp(v)> = ${rhs}`);
  }
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
