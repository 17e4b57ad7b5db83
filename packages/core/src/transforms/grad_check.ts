/**
 * `gradCheck`: JAX's `jax.test_util.check_grads` as public API. Compares a function's
 * derivatives with central finite differences along random directions, to the order asked:
 *  - `"fwd"`: `jvp(f, args, v)` against `(f(x + eps v) - f(x - eps v)) / 2 eps`;
 *  - `"rev"`: `<vjp(u), v>` against `<u, numerical jvp(v)>` (the transposition identity,
 *    with a random output cotangent `u`);
 * and, for order k > 1, the same checks of the derivative functions themselves (`jvp` of f as
 * a function of primals and tangents; `vjp` of f applied to its own output), as JAX does.
 * A mismatch throws a {@link GradCheckError} naming the mode, order, output and the values.
 */
import { parseArgs, signature } from "../api/args.js";
import { ArrayBase, fromBuffer } from "../array.js";
import { isFloat, typedArrayFor } from "../dtype.js";
import { CotangentError, ValueError } from "../errors.js";
import { add, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { convertElementType } from "../primitives/structural.js";
import { flatten, pathToString, unflatten, type PathEntry, type TreeDef } from "../tree.js";
import { leafToArray } from "./api_util.js";
import { jvp } from "./jvp.js";
import { vjp } from "./vjp.js";

/** A derivative mode of {@link gradCheck}. */
export type GradCheckMode = "fwd" | "rev";

/** Options of {@link gradCheck}; the defaults follow `check_grads`. */
export interface GradCheckOptions {
  /** Highest derivative order checked (default 1). */
  order?: number;
  /** Which modes to check (default both, `["fwd", "rev"]`). */
  modes?: readonly GradCheckMode[];
  /** Absolute tolerance (default by dtype: 2e-3 for float32, 1e-5 for float64). */
  atol?: number;
  /** Relative tolerance (default as `atol`). */
  rtol?: number;
  /** Finite-difference step (default 1e-4 for float64, 1e-3 for float32). */
  eps?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

/** A derivative that does not match its finite-difference estimate. */
export class GradCheckError extends CotangentError {
  /** `"fwd"` (jvp against finite differences) or `"rev"` (vjp against the transposition identity). */
  readonly mode: GradCheckMode;
  /** Which derivative order failed (1 = first derivatives). */
  readonly order: number;
  /** What was checked, e.g. `JVP` or `VJP of JVP`. */
  readonly check: string;
  /** The output leaf (key path) that mismatched (`""` for a single output, and for the rev check's inner product). */
  readonly path: string;
  /** The largest |error| found, and where (flat index into the leaf). */
  readonly maxError: number;
  readonly index: number;
  /** The derivative's value and the finite-difference estimate there. */
  readonly actual: number;
  readonly expected: number;
  constructor(info: { mode: GradCheckMode; order: number; check: string; path: string; maxError: number; index: number; actual: number; expected: number; atol: number; rtol: number }) {
    const at = info.index >= 0 ? ` at flat index ${info.index}` : "";
    const where = info.mode === "rev" ? "the inner product <vjp(u), v>" : `${info.path ? `output ${info.path}` : "the output"}${at}`;
    super(
      `${info.check} does not match finite differences: ${where} is ${fmt(info.actual)}, the estimate is ${fmt(info.expected)} (|error| ${fmt(info.maxError)} > atol ${info.atol} + rtol ${info.rtol} * |estimate|)`,
      {
        op: "gradCheck",
        hint:
          "a custom rule (customJvp/customVjp) or a primitive's derivative rule is wrong, or the function is not smooth at these arguments; with float32, try float64 arguments or a larger eps/atol",
      },
    );
    this.mode = info.mode;
    this.order = info.order;
    this.check = info.check;
    this.path = info.path;
    this.maxError = info.maxError;
    this.index = info.index;
    this.actual = info.actual;
    this.expected = info.expected;
    for (const k of ["mode", "order", "check", "path", "maxError", "index", "actual", "expected"]) Object.defineProperty(this, k, { enumerable: false });
  }
}

const fmt = (v: number): string => (Number.isFinite(v) && v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4) ? v.toExponential(4) : String(Number(v.toPrecision(6))));

/** mulberry32: a small seeded generator for the random directions (reproducible checks). */
const rng = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A pytree like `tree` with standard-normal float leaves (zero for integer leaves). */
const randomLike = (tree: unknown, next: () => number): unknown => {
  const [leaves, def] = flatten(tree);
  return unflatten(
    def,
    leaves.map((l) => {
      if (typeof l !== "number" && !(l instanceof ArrayBase)) return l;
      const a = leafToArray(l, "gradCheck", "argument", true);
      const buf = typedArrayFor(a.dtype, a.size);
      if (isFloat(a.dtype)) for (let i = 0; i < buf.length; i++) buf[i] = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      return fromBuffer(buf, a.shape, a.dtype);
    }),
  );
};

const leafArrays = (tree: unknown): [ArrayBase[], TreeDef] => {
  const [leaves, def] = flatten(tree);
  return [leaves.map((l) => leafToArray(l, "gradCheck", "value", true)), def];
};

/** `x + s * v` leafwise (non-array leaves as they are). */
const axpy = (x: unknown, s: number, v: unknown): unknown => {
  const [xs, def] = flatten(x);
  const vs = flatten(v)[0];
  return unflatten(
    def,
    xs.map((l, i) => {
      if (typeof l !== "number" && !(l instanceof ArrayBase)) return l;
      const a = leafToArray(l, "gradCheck", "argument", true);
      if (!isFloat(a.dtype)) return a;
      return add(a, mul(scalar(s, a.dtype), convertElementType(vs[i] as ArrayBase, a.dtype)));
    }),
  );
};

/** Paths of a tree's leaves, as text. */
const leafPaths = (def: TreeDef): string[] => {
  const out: string[] = [];
  const go = (d: TreeDef, path: PathEntry[]): void => {
    if (d.kind === "leaf") out.push(pathToString(path));
    else if (d.kind === "array" || d.kind === "custom") d.children.forEach((c, i) => go(c, [...path, i]));
    else if (d.kind === "object") d.children.forEach((c, i) => go(c, [...path, d.keys[i]!]));
  };
  go(def, []);
  return out;
};

const values = (a: ArrayBase): Float64Array => Float64Array.from(a.toTypedArray() as ArrayLike<number>);

const dot = (a: unknown, b: unknown): number => {
  const [as] = leafArrays(a);
  const [bs] = leafArrays(b);
  let s = 0;
  as.forEach((x, i) => {
    const u = values(x);
    const v = values(bs[i]!);
    for (let k = 0; k < u.length; k++) s += u[k]! * v[k]!;
  });
  return s;
};

interface Tolerances {
  atol: number;
  rtol: number;
  eps: number;
}

const numericalJvp = (f: (...a: any[]) => unknown, args: unknown[], v: unknown[], eps: number): unknown => {
  const plus = f(...(axpy(args, eps, v) as unknown[]));
  const minus = f(...(axpy(args, -eps, v) as unknown[]));
  const [ps, def] = leafArrays(plus);
  const [ms] = leafArrays(minus);
  return unflatten(
    def,
    ps.map((p, i) => mul(sub(p, ms[i]!), scalar(1 / (2 * eps), p.dtype))),
  );
};

const compareTrees = (check: string, mode: GradCheckMode, order: number, actual: unknown, expected: unknown, tol: Tolerances): void => {
  const [as, def] = leafArrays(actual);
  const [es] = leafArrays(expected);
  const paths = leafPaths(def);
  as.forEach((a, i) => {
    const x = values(a);
    const y = values(es[i]!);
    for (let k = 0; k < x.length; k++) {
      const err = Math.abs(x[k]! - y[k]!);
      if (!(err <= tol.atol + tol.rtol * Math.abs(y[k]!))) {
        throw new GradCheckError({ mode, order, check, path: paths[i] ?? "", maxError: err, index: x.length > 1 ? k : -1, actual: x[k]!, expected: y[k]!, atol: tol.atol, rtol: tol.rtol });
      }
    }
  });
};

const checkJvp = (f: (...a: any[]) => unknown, args: unknown[], tol: Tolerances, next: () => number, check: string, order: number): void => {
  const v = randomLike(args, next) as unknown[];
  const [, tangentOut] = jvp(f, args, v);
  compareTrees(check, "fwd", order, tangentOut, numericalJvp(f, args, v, tol.eps), tol);
};

const checkVjp = (f: (...a: any[]) => unknown, args: unknown[], tol: Tolerances, next: () => number, check: string, order: number): void => {
  const v = randomLike(args, next) as unknown[];
  const [out, vjpFn] = vjp(f, ...args);
  const u = randomLike(out, next);
  const ctIn = vjpFn(u);
  const actual = dot(ctIn, v);
  const expected = dot(u, numericalJvp(f, args, v, tol.eps));
  const err = Math.abs(actual - expected);
  if (!(err <= tol.atol + tol.rtol * Math.abs(expected))) {
    throw new GradCheckError({ mode: "rev", order, check, path: "", maxError: err, index: -1, actual, expected, atol: tol.atol, rtol: tol.rtol });
  }
};

const checkOrders = (f: (...a: any[]) => unknown, args: unknown[], order: number, modes: readonly GradCheckMode[], tol: Tolerances, next: () => number, level: number, what: string): void => {
  const named = (m: string) => (what ? `${m} of ${what}` : m);
  if (modes.includes("fwd")) {
    checkJvp(f, args, tol, next, named("JVP"), level);
    if (order > 1) {
      // The jvp as a function of primals and tangents (both varied).
      const n = args.length;
      const g = (...pt: unknown[]) => jvp(f, pt.slice(0, n), pt.slice(n));
      checkOrders(g, [...args, ...(randomLike(args, next) as unknown[])], order - 1, modes, tol, next, level + 1, named("JVP"));
    }
  }
  if (modes.includes("rev")) {
    checkVjp(f, args, tol, next, named("VJP"), level);
    if (order > 1) {
      // The vjp applied to the function's own output, as a function of the primals.
      const g = (...a: unknown[]) => {
        const [out, vjpFn] = vjp(f, ...a);
        return vjpFn(out);
      };
      checkOrders(g, args, order - 1, modes, tol, next, level + 1, named("VJP"));
    }
  }
};

const gradCheckSig = signature("gradCheck", ["f:function!", "args:any!", "order:count", "modes:any", "atol:number?", "rtol:number?", "eps:number?", "seed:int"]);

/**
 * Checks `f`'s derivatives at `args` (the tuple of its arguments) against finite
 * differences, as `jax.test_util.check_grads(f, args, order, modes, atol, rtol, eps)`:
 * positionally or with an options object. Returns nothing; throws a {@link GradCheckError}
 * on a mismatch. Use float64 arguments for tight tolerances.
 *
 * ```ts
 * gradCheck((x) => np.sum(np.sin(x)), [np.array([0.1, 0.2], { dtype: "float64" })], { order: 2 });
 * ```
 */
export function gradCheck(f: (...args: any[]) => unknown, args: readonly unknown[], order?: number, modes?: readonly GradCheckMode[], atol?: number, rtol?: number, eps?: number): void;
export function gradCheck(f: (...args: any[]) => unknown, args: readonly unknown[], options?: GradCheckOptions): void;
export function gradCheck(...all: unknown[]): void {
  const p = parseArgs<{ f: (...a: any[]) => unknown; args: unknown; order?: number; modes?: unknown; atol?: number | null; rtol?: number | null; eps?: number | null; seed?: number }>(gradCheckSig, all);
  if (!Array.isArray(p.args)) throw new ValueError("args must be the tuple (list) of f's arguments", { op: "gradCheck", hint: "gradCheck(f, [x, y])" });
  const order = p.order ?? 1;
  if (order < 1) throw new ValueError(`order must be at least 1, got ${order}`, { op: "gradCheck" });
  const modes = p.modes ?? ["fwd", "rev"];
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => m === "fwd" || m === "rev")) {
    throw new ValueError(`modes must be a non-empty list of "fwd" and "rev", got ${JSON.stringify(modes) ?? String(modes)}`, { op: "gradCheck" });
  }
  const leaves = flatten(p.args)[0].filter((l): l is ArrayBase => l instanceof ArrayBase);
  const f64 = leaves.length > 0 && leaves.every((l) => !isFloat(l.dtype) || l.dtype === "float64");
  const atol = p.atol ?? (f64 ? 1e-5 : 2e-3);
  const tol = { atol, rtol: p.rtol ?? atol, eps: p.eps ?? (f64 ? 1e-4 : 1e-3) };
  checkOrders(p.f, p.args, order, modes as GradCheckMode[], tol, rng(p.seed ?? 0), 1, "");
}
