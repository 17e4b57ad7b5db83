/**
 * Binary elementwise primitives with NumPy broadcasting. Transpose rules sum the
 * cotangent back to each input's shape with `unbroadcast`.
 */
import type { ArrayBase } from "../array.js";
import type { MaybeZero } from "../ir/primitive.js";
import { UndefinedPrimal } from "../ir/primitive.js";
import { NUMERIC } from "./common.js";
import { binaryPrimitive, tangentTo, unbroadcast } from "./elementwise.js";
import { neg } from "./unary.js";

const isLinear = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;

/** Sum of two possibly-zero tangents, broadcast to `shape`. */
export const addTangents = (a: MaybeZero, b: MaybeZero, shape: readonly number[]): MaybeZero =>
  a && b ? tangentTo(add(a, b), shape) : tangentTo(a ?? b, shape);

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
  jvp: ([x, y], [tx, ty]) => {
    const out = mul(x!, y!);
    return [[out], [addTangents(tx && mul(tx, y!), ty && mul(x!, ty), out.shape)]];
  },
  transpose: ([ct], [x, y]) => {
    if (!ct) return [null, null];
    if (isLinear(x) && isLinear(y)) throw new Error("mul: transpose needs one non-linear operand");
    return [
      isLinear(x) ? unbroadcast(mul(ct, y as ArrayBase), x.aval.shape) : null,
      isLinear(y) ? unbroadcast(mul(x as ArrayBase, ct), y.aval.shape) : null,
    ];
  },
});

export const [divP, div] = binaryPrimitive({
  name: "div",
  // Integer division truncates toward zero, as lax.div does (the store into Int32Array truncates).
  expr: (d) => (d === "int32" ? "b === 0 ? 0 : a / b" : "a / b"),
  dtypes: NUMERIC,
  jvp: ([x, y], [tx, ty]) => {
    const out = div(x!, y!);
    // d(x/y) = dx/y - (x/y) dy/y
    return [[out], [addTangents(tx && div(tx, y!), ty && neg(mul(ty, div(out, y!))), out.shape)]];
  },
  transpose: ([ct], [x, y]) => {
    if (isLinear(y)) throw new Error("div: transpose is linear in the numerator only");
    return [ct && isLinear(x) ? unbroadcast(div(ct, y as ArrayBase), x.aval.shape) : null, null];
  },
});
