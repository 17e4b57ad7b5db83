/**
 * Binary elementwise primitives with NumPy broadcasting (inputs share a dtype; the np
 * layer promotes first). Transpose rules sum the cotangent back to each input's shape
 * with `unbroadcast`; jvp rules broadcast tangents to the output shape.
 */
import type { ArrayBase } from "../array.js";
import type { MaybeZero } from "../ir/primitive.js";
import { UndefinedPrimal } from "../ir/primitive.js";
import { ALL_DTYPES, FLOATS, NUMERIC, scalarLike } from "./common.js";
import { bitwiseAnd, eq, selectN } from "./compare.js";
import { binaryPrimitive, scalarBinaryKernel, tangentTo, unbroadcast } from "./elementwise.js";
import { broadcastOperand, convertElementType } from "./structural.js";
import { abs, floor, log, neg, sign } from "./unary.js";

const isLinear = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;
const k = (x: ArrayBase, v: number) => scalarLike(x, v);

/** Sum of two possibly-zero tangents, broadcast to `shape`. */
export const addTangents = (a: MaybeZero, b: MaybeZero, shape: readonly number[]): MaybeZero =>
  a && b ? tangentTo(add(a, b), shape) : tangentTo(a ?? b, shape);

/**
 * `ct`, or the smaller operand it was broadcast from when the other factor already has
 * `ct`'s shape (so the product keeps that shape): the backward pass of `sum(x * g)` then
 * multiplies `g` by a scalar, instead of building and reading an array of ones.
 */
const compactCotangent = (ct: ArrayBase, other: ArrayBase): ArrayBase => {
  if (other.ndim !== ct.ndim || !other.shape.every((d, i) => d === ct.shape[i])) return ct;
  return broadcastOperand(ct) ?? ct;
};

// ---------------------------------------------------------------- arithmetic

export const [addP, add] = binaryPrimitive({
  name: "add",
  expr: (d) => (d === "int32" ? "(a + b) | 0" : "a + b"),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = add(x!, y!);
    return [[out], [addTangents(tx!, ty!, out.shape)]];
  },
  transpose: ([ct], [x, y]) => [
    ct && isLinear(x) ? unbroadcast(ct, x.aval.shape) : null,
    ct && isLinear(y) ? unbroadcast(ct, y.aval.shape) : null,
  ],
});

export const [subP, sub] = binaryPrimitive({
  name: "sub",
  expr: (d) => (d === "int32" ? "(a - b) | 0" : "a - b"),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = sub(x!, y!);
    return [[out], [addTangents(tx!, ty && neg(ty), out.shape)]];
  },
  transpose: ([ct], [x, y]) => [
    ct && isLinear(x) ? unbroadcast(ct, x.aval.shape) : null,
    ct && isLinear(y) ? unbroadcast(neg(ct), y.aval.shape) : null,
  ],
});

export const [mulP, mul] = binaryPrimitive({
  name: "mul",
  expr: (d) => (d === "int32" ? "Math.imul(a, b)" : "a * b"),
  dtypes: NUMERIC,
  unit: 1,
  jvp: ([x, y], [tx, ty]) => {
    const out = mul(x!, y!);
    return [[out], [addTangents(tx && mul(tx, y!), ty && mul(x!, ty), out.shape)]];
  },
  transpose: ([ct], [x, y]) => {
    if (!ct) return [null, null];
    if (isLinear(x) && isLinear(y)) throw new Error("mul: transpose needs one non-linear operand");
    return [
      isLinear(x) ? unbroadcast(mul(compactCotangent(ct, y as ArrayBase), y as ArrayBase), x.aval.shape) : null,
      isLinear(y) ? unbroadcast(mul(x as ArrayBase, compactCotangent(ct, x as ArrayBase)), y.aval.shape) : null,
    ];
  },
});

export const [divP, div] = binaryPrimitive({
  name: "div",
  // Integer division truncates toward zero, as lax.div does (the store into Int32Array
  // truncates); division by zero gives 0, as NumPy does.
  expr: (d) => (d === "int32" ? "b === 0 ? 0 : a / b" : "a / b"),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = div(x!, y!);
    // d(x/y) = dx/y - (x/y) dy/y
    return [[out], [addTangents(tx && div(tx, y!), ty && neg(mul(ty, div(out, y!))), out.shape)]];
  },
  transpose: ([ct], [x, y]) => {
    if (isLinear(y)) throw new Error("div: transpose is linear in the numerator only");
    return [ct && isLinear(x) ? unbroadcast(div(compactCotangent(ct, y as ArrayBase), y as ArrayBase), x.aval.shape) : null, null];
  },
});

/** trunc(q) = sign(q) floor(|q|), written with primitives for the jvp rule of rem. */
const trunc = (q: ArrayBase) => mul(sign(q), floor(abs(q)));

export const [remP, rem] = binaryPrimitive({
  name: "rem",
  // C's fmod: the result has the sign of the dividend (JS `%` is exactly that). Integer
  // remainder by zero gives 0, as NumPy does.
  expr: (d) => (d === "int32" ? "b === 0 ? 0 : a % b" : "a % b"),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = rem(x!, y!);
    // rem(x, y) = x - y trunc(x/y): d/dx = 1, d/dy = -trunc(x/y).
    return [[out], [addTangents(tx, ty && neg(mul(ty, trunc(div(x!, y!)))), out.shape)]];
  },
});

/** Replaces zeros of `x` by ones, so a rule's unused branch stays finite (JAX's `_replace_zero`). */
const replaceZero = (x: ArrayBase) => selectN(eq(x, k(x, 0)), x, k(x, 1));

/**
 * Integer power by repeated squaring with int32 wrapping (as XLA's integer pow); a negative
 * exponent truncates 1/x^n toward zero (so only ±1 survive), where NumPy would raise.
 */
const intPow = (a: number, b: number): number => {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b & 1 ? -1 : 1) : 0;
  let acc = 1;
  for (let n = b; n > 0; n >>>= 1) {
    if (n & 1) acc = Math.imul(acc, a);
    a = Math.imul(a, a);
  }
  return acc;
};
const intPowKernel = scalarBinaryKernel(intPow);

export const [powP, pow] = binaryPrimitive({
  name: "pow",
  // C's pow (and XLA, NumPy) has pow(1, y) = 1 even for NaN y and pow(-1, ±inf) = 1; JS gives NaN for both.
  expr: "a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b)",
  kernel: (d) => (d === "int32" ? intPowKernel : null),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = pow(x!, y!);
    // d/dx = y x^(y-1), except 0 at x = y = 0, where it reads 0 * inf. The exponent is made
    // safe (1) there, so that the branch not taken stays finite and its derivatives too.
    // (JAX zeroes every y = 0; this keeps d/dy of the derivative right at y = 0, x != 0.)
    let dx: MaybeZero = null;
    if (tx) {
      const both = bitwiseAnd(eq(x!, k(x!, 0)), eq(y!, k(y!, 0)));
      const ySafe = selectN(both, y!, k(y!, 1));
      dx = mul(tx, selectN(both, mul(ySafe, pow(x!, sub(ySafe, k(y!, 1)))), k(out, 0)));
    }
    // d/dy = log(x) x^y, with log(0) replaced by 0 since x^y = 0 there for y > 0.
    const dy = ty && mul(ty, mul(log(replaceZero(x!)), out));
    return [[out], [addTangents(dx, dy, out.shape)]];
  },
});

export const [atan2P, atan2] = binaryPrimitive({
  name: "atan2",
  expr: "Math.atan2(a, b)",
  dtypes: FLOATS,
  jvp: ([x, y], [tx, ty]) => {
    // atan2(x, y) = atan(x / y): d/dx = y / (x² + y²), d/dy = -x / (x² + y²).
    const out = atan2(x!, y!);
    const r2 = add(mul(x!, x!), mul(y!, y!));
    return [[out], [addTangents(tx && mul(tx, div(y!, r2)), ty && mul(ty, div(neg(x!), r2)), out.shape)]];
  },
});

// ---------------------------------------------------------------- max and min

/**
 * The weight of `x`'s tangent in max/min: 1 where x alone attains the result, 1/2 where x
 * and y tie (the tangent splits evenly, as in JAX's `_balanced_eq`), 0 elsewhere.
 */
const balancedEq = (x: ArrayBase, out: ArrayBase, y: ArrayBase): ArrayBase => {
  const is = (a: ArrayBase) => convertElementType(eq(a, out), out.dtype);
  return div(is(x), add(is(y), k(out, 1)));
};

const maxMinJvp =
  (op: (x: ArrayBase, y: ArrayBase) => ArrayBase) =>
  ([x, y]: ArrayBase[], [tx, ty]: MaybeZero[]): [ArrayBase[], MaybeZero[]] => {
    const out = op(x!, y!);
    return [[out], [addTangents(tx && mul(tx, balancedEq(x!, out, y!)), ty && mul(ty, balancedEq(y!, out, x!)), out.shape)]];
  };

export const [maxP, max] = binaryPrimitive({
  name: "max",
  // NaN propagates, as in XLA and NumPy's maximum.
  expr: "(a > b || a !== a) ? a : b",
  dtypes: ALL_DTYPES,
  jvp: maxMinJvp((x, y) => max(x, y)),
});

export const [minP, min] = binaryPrimitive({
  name: "min",
  expr: "(a < b || a !== a) ? a : b",
  dtypes: ALL_DTYPES,
  jvp: maxMinJvp((x, y) => min(x, y)),
});
