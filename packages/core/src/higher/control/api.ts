/**
 * The user API of control flow: `lax.cond`, `lax.switch`, `lax.scan`, `lax.whileLoop`,
 * `lax.foriLoop` and `lax.map`, over pytrees. Each traces its functions once into
 * sub-jaxprs of one equation, so a loop's jaxpr does not grow with its trip count.
 */
import { ArrayBase } from "../../array.js";
import { describeValue, requireFunction } from "../../api/args.js";
import { DTypeError, TypeMismatchError, ValueError } from "../../errors.js";
import { type ShapedArray, promoteDTypes } from "../../dtype.js";
import { Jaxpr, Var } from "../../ir/jaxpr.js";
import { add } from "../../primitives/binary.js";
import { scalar } from "../../primitives/common.js";
import { lt, ne } from "../../primitives/compare.js";
import { convertElementType } from "../../primitives/structural.js";
import { bind } from "../../trace.js";
import { type TreeDef, flatten, treedefEquals, treedefToString, unflatten } from "../../tree.js";
import { flattenTraced, isStaticLeaf, leafToArray, traceFlat } from "../../transforms/api_util.js";
import { condP } from "./cond.js";
import { scanP } from "./scan.js";
import { typesText } from "./util.js";
import { whileP } from "./while.js";

const avalsOf = (xs: ArrayBase[]) => xs.map((x) => x.aval);
/** Every leaf as an array (outputs such as scan's ys). */
const leavesOf = (op: string, t: unknown, what: string): [ArrayBase[], TreeDef] => {
  const [ls, def] = flatten(t);
  return [ls.map((l) => leafToArray(l, op, what)), def];
};

/**
 * Traces `f` on the avals of `args` (a tuple of pytrees); returns jaxpr (with consts) and
 * output tree. Static leaves of `args` (see StaticLeaves) reach `f` as they are; with
 * `carry`, only untraceable ones do, and they also stay static in the output.
 */
const traceOn = (op: string, f: (...a: any[]) => unknown, args: unknown[], carry = false) => {
  const mode = carry ? "untraceable" : "js";
  const [flat, inTree] = flattenTraced(op, args, "operand", mode);
  return traceFlat(op, f, inTree, flat, carry ? mode : undefined);
};

const checkCarry = (op: string, what: string, inTree: TreeDef, outTree: TreeDef, inAvals: { toString(): string; equals(o: any): boolean }[], outAvals: any[]) => {
  if (!treedefEquals(inTree, outTree)) {
    throw new TypeMismatchError(`${what}: the carry goes in as ${treedefToString(inTree)} but comes out as ${treedefToString(outTree)}`, {
      op,
      hint: "the function must return a carry of the same structure, shapes and dtypes as it receives",
    });
  }
  if (inAvals.length !== outAvals.length || inAvals.some((a, i) => !a.equals(outAvals[i]))) {
    throw new TypeMismatchError(`${what}: the carry goes in as ${typesText(inAvals)} but comes out as ${typesText(outAvals)}`, {
      op,
      hint: "keep each carry leaf's shape and dtype (give the initial value its final dtype, e.g. np.array(0, {dtype: 'float32'}))",
    });
  }
};

/**
 * JS numbers in a loop's initial carry are weakly typed, like Python scalars in JAX: a leaf
 * that the body turns into a wider dtype of the same shape takes that dtype from the start
 * (as JAX's scan and while_loop promote weakly typed inputs). Returns the promoted carry
 * leaves, or null when nothing changes.
 */
const promoteWeakCarry = (init: unknown, carry: ArrayBase[], outAvals: readonly ShapedArray[]): ArrayBase[] | null => {
  const leaves = flatten(init)[0].filter((l) => !isStaticLeaf(l, "untraceable"));
  if (leaves.length !== carry.length || outAvals.length < carry.length) return null;
  let changed = false;
  const next = carry.map((c, i) => {
    const o = outAvals[i]!;
    const weak = typeof leaves[i] === "number" || typeof leaves[i] === "boolean";
    if (!weak || o.dtype === c.dtype || o.shape.join() !== c.shape.join() || promoteDTypes(c.dtype, o.dtype) !== o.dtype) return c;
    changed = true;
    return convertElementType(c, o.dtype);
  });
  return changed ? next : null;
};

/** Branch jaxprs over a shared operand list `[...all branches' consts, ...operands]`. */
const joinBranches = (jaxprs: Jaxpr[]): { branches: Jaxpr[]; consts: ArrayBase[] } => {
  const consts = jaxprs.flatMap((j) => j.consts);
  const branches = jaxprs.map((j, k) => {
    const slots = jaxprs.flatMap((o, m) => (m === k ? j.constvars : o.constvars.map((v) => new Var(v.aval))));
    return new Jaxpr([], [], [...slots, ...j.invars], j.eqns, j.outvars);
  });
  return { branches, consts };
};

/**
 * `switch(index, branches, ...operands)`: applies `branches[index]` (clamped into range)
 * to the operands. All branches must return the same structure and types.
 */
export const switchCase = (index: ArrayBase | number, branches: readonly ((...ops: any[]) => unknown)[], ...operands: unknown[]): any => {
  const op = "lax.switch";
  if (!Array.isArray(branches)) throw new ValueError(`branches must be a list of functions, got ${describeValue(branches)}`, { op });
  branches.forEach((b, i) => requireFunction(op, `branch ${i}`, b));
  if (branches.length === 0) throw new ValueError("needs at least one branch", { op });
  let idx = leafToArray(index, op, "the index");
  if (idx.ndim !== 0) throw new DTypeError(`the index must be a scalar, got ${idx.aval}`, { op });
  if (idx.dtype !== "int32") idx = convertElementType(idx, "int32");
  const traced = branches.map((b) => traceOn(op, b, operands));
  traced.forEach((t, k) => {
    if (!treedefEquals(t.outTree, traced[0]!.outTree) || t.jaxpr.outAvals.some((a, i) => !a.equals(traced[0]!.jaxpr.outAvals[i]!)) || t.jaxpr.outAvals.length !== traced[0]!.jaxpr.outAvals.length) {
      throw new TypeMismatchError(
        `branch ${k} returns ${treedefToString(t.outTree)} ${typesText(t.jaxpr.outAvals)} but branch 0 returns ${treedefToString(traced[0]!.outTree)} ${typesText(traced[0]!.jaxpr.outAvals)}`,
        { op, hint: "every branch must return the same structure, shapes and dtypes" },
      );
    }
  });
  const { branches: js, consts } = joinBranches(traced.map((t) => t.jaxpr));
  const [ops] = flattenTraced(op, operands, "operand");
  return unflatten(traced[0]!.outTree, bind(condP, [idx, ...consts, ...ops], { branches: js }));
};

/**
 * `cond(pred, trueFn, falseFn, ...operands)`: `trueFn(...operands)` when the scalar `pred`
 * holds, else `falseFn(...operands)`. Both are traced; only one runs.
 */
export const cond = (pred: ArrayBase | boolean | number, trueFn: (...ops: any[]) => unknown, falseFn: (...ops: any[]) => unknown, ...operands: unknown[]): any => {
  const op = "lax.cond";
  requireFunction(op, "trueFn", trueFn);
  requireFunction(op, "falseFn", falseFn);
  let p = leafToArray(pred, op, "the predicate");
  if (p.ndim !== 0) {
    throw new DTypeError(`the predicate must be a scalar, got ${p.aval}`, { op, hint: "for elementwise choices use np.where(cond, x, y)" });
  }
  if (p.dtype !== "bool") p = ne(p, scalar(0, p.dtype));
  try {
    return switchCase(convertElementType(p, "int32"), [falseFn, trueFn], ...operands);
  } catch (e) {
    if (e instanceof TypeMismatchError) {
      throw new TypeMismatchError(e.detail.replace("branch 1", "trueFn").replace("branch 0", "falseFn"), { op, hint: e.hint });
    }
    throw e;
  }
};

export interface ScanOptions {
  /** The number of steps; needed when `xs` is empty, checked against it otherwise. */
  length?: number;
  /** Run from the last element to the first (ys keep their positions). */
  reverse?: boolean;
}

/**
 * `scan(f, init, xs)` with `f(carry, x) -> [carry, y]`: loops over the leading axis of
 * every leaf of `xs`, returning `[finalCarry, ys]` with the ys stacked along a new leading axis.
 */
export const scan = <C, Y = any>(f: (carry: C, x: any) => [C, Y], init: C, xs?: unknown, options: ScanOptions = {}): [C, Y] =>
  scanAs("lax.scan", "scan step", f, init, xs, options);

/** `scan` reporting errors as `op` (foriLoop and map are scans underneath). */
const scanAs = <C, Y = any>(op: string, what: string, f: (carry: C, x: any) => [C, Y], init: C, xs: unknown, options: ScanOptions): [C, Y] => {
  requireFunction(op, what, f);
  if (options === null || typeof options !== "object") throw new ValueError(`options must be an object, got ${describeValue(options)}`, { op });
  let [carry, carryTree] = flattenTraced(op, init, "init", "untraceable");
  // Static leaves of xs (JS booleans, strings, functions) reach every step as they are.
  const [xl, xTree] = flattenTraced(op, xs ?? null, "xs");
  let length = options.length;
  xl.forEach((x, i) => {
    const n = x.ndim === 0 ? -1 : x.shape[0]!;
    if (n < 0) throw new ValueError(`xs leaf ${i} is a scalar (${x.aval}); it needs a leading axis to scan over`, { op });
    if (length === undefined) length = n;
    else if (length !== n) {
      throw new ValueError(`xs leaf ${i} has leading size ${n}, but the scan length is ${length}`, { op, hint: "all xs leaves must share their leading size (and match options.length)" });
    }
  });
  if (length === undefined) throw new ValueError("the scan length is unknown: xs is empty", { op, hint: "pass options.length" });
  const xSlices = xl.map((x) => ({ aval: new (x.aval.constructor as any)(x.shape.slice(1), x.dtype) }) as ArrayBase);
  let yTree: TreeDef | undefined;
  let carryOutTree: TreeDef | undefined;
  const flatBody = (...a: ArrayBase[]) => {
    const c = unflatten<C>(carryTree, a.slice(0, carry.length));
    const x = unflatten(xTree, a.slice(carry.length));
    const r = f(c, x);
    if (!Array.isArray(r) || r.length !== 2) {
      throw new ValueError(`the step function must return a pair [carry, y], got ${Array.isArray(r) ? `an array of length ${r.length}` : typeof r}`, { op });
    }
    const [co, ct] = flattenTraced(op, r[0], "the carry", "untraceable");
    const [ys, yt] = leavesOf(op, r[1], "y");
    carryOutTree = ct;
    yTree = yt;
    return [...co, ...ys];
  };
  const traceBody = () => traceFlat(op, flatBody, flatten(new Array<number>(carry.length + xSlices.length).fill(0))[1], [...carry, ...xSlices]);
  let { jaxpr } = traceBody();
  const promoted = promoteWeakCarry(init, carry, jaxpr.outAvals);
  if (promoted) {
    carry = promoted;
    ({ jaxpr } = traceBody());
  }
  checkCarry(op, what, carryTree, carryOutTree!, avalsOf(carry), jaxpr.outAvals.slice(0, carry.length));
  const outs = bind(scanP, [...jaxpr.consts, ...carry, ...xl], {
    jaxpr: new Jaxpr([], [], [...jaxpr.constvars, ...jaxpr.invars], jaxpr.eqns, jaxpr.outvars),
    num_consts: jaxpr.consts.length,
    num_carry: carry.length,
    length,
    reverse: options.reverse ?? false,
  });
  return [unflatten<C>(carryTree, outs.slice(0, carry.length)), unflatten<Y>(yTree!, outs.slice(carry.length))];
};

/** `whileLoop(condFn, bodyFn, init)`: repeats `bodyFn` while `condFn(carry)` holds. */
export const whileLoop = <C>(condFn: (carry: C) => unknown, bodyFn: (carry: C) => C, init: C): C => {
  const op = "lax.whileLoop";
  requireFunction(op, "condFn", condFn);
  requireFunction(op, "bodyFn", bodyFn);
  let [carry, carryTree] = flattenTraced(op, init, "init", "untraceable");
  let b = traceOn(op, bodyFn, [init], true);
  const promoted = promoteWeakCarry(init, carry, b.jaxpr.outAvals);
  if (promoted) {
    carry = promoted;
    b = traceOn(op, bodyFn, [unflatten(carryTree, carry)], true);
  }
  const c = traceOn(op, condFn, [unflatten(carryTree, carry)], true);
  const p = c.jaxpr.outAvals;
  if (p.length !== 1 || p[0]!.ndim !== 0 || p[0]!.dtype !== "bool") {
    throw new DTypeError(`condFn must return a bool scalar, got ${typesText(p)}`, { op, hint: "compare with np.less / np.greater etc." });
  }
  checkCarry(op, "bodyFn", carryTree, b.outTree, avalsOf(carry), b.jaxpr.outAvals);
  const hoist = (j: Jaxpr) => new Jaxpr([], [], [...j.constvars, ...j.invars], j.eqns, j.outvars);
  const outs = bind(whileP, [...c.jaxpr.consts, ...b.jaxpr.consts, ...carry], {
    cond_jaxpr: hoist(c.jaxpr),
    body_jaxpr: hoist(b.jaxpr),
    cond_nconsts: c.jaxpr.consts.length,
    body_nconsts: b.jaxpr.consts.length,
  });
  return unflatten<C>(carryTree, outs);
};

/**
 * `foriLoop(lower, upper, body, init)`: `val = body(i, val)` for i in [lower, upper).
 * With JS-number bounds it lowers to `scan` (so it is reverse-differentiable);
 * with traced bounds to `whileLoop`.
 */
export const foriLoop = <C>(lower: number | ArrayBase, upper: number | ArrayBase, body: (i: ArrayBase, val: C) => C, init: C): C => {
  requireFunction("lax.foriLoop", "body", body);
  for (const [name, b] of [["lower", lower], ["upper", upper]] as const) {
    if (!(b instanceof ArrayBase) && !(typeof b === "number" && Number.isSafeInteger(b))) {
      throw new ValueError(`${name} must be an integer or an int32 scalar array, got ${describeValue(b)}`, { op: "lax.foriLoop" });
    }
  }
  if (typeof lower === "number" && typeof upper === "number") {
    const n = Math.max(0, Math.ceil(upper - lower));
    // The carry is [counter, value]: a type error shows the counter first.
    const [[, val]] = scanAs<[ArrayBase, C]>("lax.foriLoop", "body (carry: [i, value])", ([i, v]) => [[add(i, scalar(1, "int32")), body(i, v)], null], [scalar(lower, "int32"), init], null, { length: n });
    return val;
  }
  const lo = convertElementType(leafToArray(lower, "lax.foriLoop", "lower"), "int32");
  const hi = convertElementType(leafToArray(upper, "lax.foriLoop", "upper"), "int32");
  const [, , out] = whileLoop<[ArrayBase, ArrayBase, C]>(
    ([i, u]) => lt(i, u),
    ([i, u, v]) => [add(i, scalar(1, "int32")), u, body(i, v)],
    [lo, hi, init],
  );
  return out;
};

/** `map(f, xs)`: `f` applied to each slice of `xs` along its leading axis, sequentially (a scan). */
export const map = <Y = any>(f: (x: any) => Y, xs: unknown): Y => {
  requireFunction("lax.map", "f", f);
  return scanAs<null, Y>("lax.map", "f", (c, x) => [c, f(x)], null, xs, {})[1];
};

export { ArrayBase };
