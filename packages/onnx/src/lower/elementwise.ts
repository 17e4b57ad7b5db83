/** Lowerings of elementwise math, comparisons, logic, select_n and convert_element_type. */
import type { DType } from "@cotangent/core";
import { type ConstDType, type GraphBuilder, onnxDType } from "../builder.js";
import { DataType } from "../proto/schema.js";
import type { LoweringRule, LoweringTable } from "./rule.js";

/** `Cast` to a Cotangent dtype. */
export const cast = (g: GraphBuilder, x: string, to: ConstDType): string => g.op("Cast", [x], { to: { int: to === "int64" ? DataType.INT64 : onnxDType[to] } });

/** The same ONNX operator applied to all inputs. */
const direct =
  (opType: string, since?: number): LoweringRule =>
  ({ g, inputs }) => [g.op(opType, inputs, {}, since)];

/** An op whose ONNX form needs the other outputs' dtype for its constants. */
const unary = (f: (g: GraphBuilder, x: string, d: DType) => string): LoweringRule => ({ g, inputs, inAvals }) => [f(g, inputs[0]!, inAvals[0]!.dtype)];
const binary = (f: (g: GraphBuilder, a: string, b: string, d: DType) => string): LoweringRule => ({ g, inputs, inAvals }) => [f(g, inputs[0]!, inputs[1]!, inAvals[0]!.dtype)];

const one = (g: GraphBuilder, d: DType) => g.scalar(1, d);

// log1p and expm1 keep their accuracy near 0 with Kahan's correction (W. Kahan's trick, e.g.
// Goldberg, "What every computer scientist should know about floating-point arithmetic",
// 1991, Theorem 4): log1p(x) = x * log(u) / (u - 1) with u = 1 + x, and x when u == 1.
const log1p = (g: GraphBuilder, x: string, d: DType): string => {
  const u = g.op("Add", [x, one(g, d)]);
  const um1 = g.op("Sub", [u, one(g, d)]);
  const isOne = g.op("Equal", [um1, g.scalar(0, d)]);
  const safe = g.op("Where", [isOne, one(g, d), um1]);
  const corrected = g.op("Div", [g.op("Mul", [g.op("Log", [u]), x]), safe]);
  // For large x (u - 1 == x exactly) the plain log is already exact and avoids inf/inf.
  return g.op("Where", [isOne, x, corrected]);
};

// expm1(x) = (u - 1) * x / log(u) with u = exp(x) (same source); x when u == 1, u - 1 when log(u) is inf.
const expm1 = (g: GraphBuilder, x: string, d: DType): string => {
  const u = g.op("Exp", [x]);
  const um1 = g.op("Sub", [u, one(g, d)]);
  const lu = g.op("Log", [u]);
  const isOne = g.op("Equal", [um1, g.scalar(0, d)]);
  const safe = g.op("Where", [isOne, one(g, d), lu]);
  const corrected = g.op("Div", [g.op("Mul", [um1, x]), safe]);
  const finite = g.op("Where", [g.op("IsInf", [u]), um1, corrected]);
  const small = g.op("Equal", [um1, g.scalar(-1, d)]);
  return g.op("Where", [isOne, x, g.op("Where", [small, um1, finite])]);
};

const cbrt = (g: GraphBuilder, x: string, d: DType): string =>
  g.op("Mul", [g.op("Sign", [x]), g.op("Pow", [g.op("Abs", [x]), g.scalar(1 / 3, d)])]);

// atan2 from atan with the quadrant fixed by the signs (the textbook definition).
const atan2 = (g: GraphBuilder, y: string, x: string, d: DType): string => {
  const zero = g.scalar(0, d);
  const pi = g.scalar(Math.PI, d);
  const base = g.op("Atan", [g.op("Div", [y, x])]);
  const yNonNeg = g.op("GreaterOrEqual", [y, zero]);
  const yNeg = g.op("Less", [y, zero]);
  const xNeg = g.op("Less", [x, zero]);
  const xZero = g.op("Equal", [x, zero]);
  const left = g.op("Where", [yNonNeg, g.op("Add", [base, pi]), g.op("Sub", [base, pi])]);
  const halfPi = g.scalar(Math.PI / 2, d);
  const onAxis = g.op("Where", [g.op("Greater", [y, zero]), halfPi, g.op("Where", [yNeg, g.op("Neg", [halfPi]), g.op("Mul", [y, zero])])]);
  // 0 * y keeps a NaN y NaN on the axis; the x < 0, y = -0 case takes -pi as atan2 does.
  const signedLeft = g.op("Where", [g.op("And", [g.op("Equal", [y, zero]), g.op("Less", [g.op("Div", [one(g, d), y]), zero])]), g.op("Neg", [pi]), left]);
  return g.op("Where", [xZero, onAxis, g.op("Where", [xNeg, signedLeft, base])]);
};

// Integer division and remainder by zero give 0 in Cotangent (an engine may trap instead).
const intSafe = (g: GraphBuilder, opType: string, a: string, b: string, d: DType, attrs = {}): string => {
  if (d !== "int32") return g.op(opType, [a, b], attrs);
  const zero = g.scalar(0, d);
  const isZero = g.op("Equal", [b, zero]);
  const safe = g.op("Where", [isZero, one(g, d), b]);
  return g.op("Where", [isZero, zero, g.op(opType, [a, safe], attrs)]);
};

const roundRule: LoweringRule<{ rounding_method: number }> = ({ g, inputs: [x], inAvals: [a], params }) => {
  if (params.rounding_method === 1) return [g.op("Round", [x!])]; // ONNX Round breaks ties to even
  // Away from zero: sign(x) * floor(|x| + 0.5), exact because |x| + 0.5 only rounds when |x| >= 2^52 (or 2^23), where x is already integral.
  const d = a!.dtype;
  const ax = g.op("Abs", [x!]);
  const big = g.op("GreaterOrEqual", [ax, g.scalar(d === "float32" ? 2 ** 23 : 2 ** 52, d)]);
  const r = g.op("Mul", [g.op("Sign", [x!]), g.op("Floor", [g.op("Add", [ax, g.scalar(0.5, d)])])]);
  return [g.op("Where", [big, x!, r])];
};

const integerPow: LoweringRule<{ y: number }> = ({ g, inputs: [x], inAvals: [a], params: { y } }) => {
  const d = a!.dtype;
  if (y === 0) return [g.op("Add", [g.op("Mul", [x!, g.scalar(0, d)]), one(g, d)])];
  // Repeated squaring, the same sequence of roundings as Cotangent's kernel.
  let base = x!;
  let acc: string | null = null;
  for (let n = Math.abs(y); n > 0; n >>>= 1) {
    if (n & 1) acc = acc === null ? base : g.op("Mul", [acc, base]);
    if (n > 1) base = g.op("Mul", [base, base]);
  }
  return [y < 0 ? g.op("Div", [one(g, d), acc!]) : acc!];
};

/** Bool operands of an order comparison go through int32 (ONNX compares numbers only). */
const compare =
  (opType: string, negate = false): LoweringRule =>
  ({ g, inputs, inAvals }) => {
    const ins = inAvals[0]!.dtype === "bool" && opType !== "Equal" ? inputs.map((n) => cast(g, n, "int32")) : inputs;
    const r = g.op(opType, ins);
    return [negate ? g.op("Not", [r]) : r];
  };

/** and/or/xor/not: logical on bool, bitwise (opset 18) on int32. */
const logic =
  (logical: string, bitwise: string): LoweringRule =>
  ({ g, inputs, inAvals }) =>
    [inAvals[0]!.dtype === "bool" ? g.op(logical, inputs) : g.op(bitwise, inputs, {}, 18)];

const selectN: LoweringRule = ({ g, inputs: [which, ...cases], inAvals: [w] }) => {
  if (cases.length === 1) return [cases[0]!];
  if (w!.dtype === "bool") return [g.op("Where", [which!, cases[1]!, cases[0]!])];
  // int32 selector: case k where which == k (the last case takes the rest, as the kernel does).
  let out = cases[cases.length - 1]!;
  for (let k = cases.length - 2; k >= 0; k--) out = g.op("Where", [g.op("Equal", [which!, g.scalar(k, "int32")]), cases[k]!, out]);
  return [out];
};

const convert: LoweringRule<{ new_dtype: DType }> = ({ g, inputs: [x], inAvals: [a], params }) => {
  if (a!.dtype === params.new_dtype) return [g.op("Identity", [x!])];
  return [cast(g, x!, params.new_dtype)];
};

export const elementwiseLowerings: LoweringTable = {
  neg: direct("Neg"),
  exp: direct("Exp"),
  exp2: unary((g, x, d) => g.op("Pow", [g.scalar(2, d), x])),
  log: direct("Log"),
  log1p: unary(log1p),
  expm1: unary(expm1),
  logistic: direct("Sigmoid"),
  sin: direct("Sin"),
  cos: direct("Cos"),
  tan: direct("Tan"),
  asin: direct("Asin"),
  acos: direct("Acos"),
  atan: direct("Atan"),
  sinh: direct("Sinh"),
  cosh: direct("Cosh"),
  tanh: direct("Tanh"),
  asinh: direct("Asinh"),
  acosh: direct("Acosh"),
  atanh: direct("Atanh"),
  sqrt: direct("Sqrt"),
  rsqrt: unary((g, x) => g.op("Reciprocal", [g.op("Sqrt", [x])])),
  cbrt: unary(cbrt),
  square: unary((g, x) => g.op("Mul", [x, x])),
  integer_pow: integerPow,
  sign: direct("Sign"),
  abs: direct("Abs"),
  floor: direct("Floor"),
  ceil: direct("Ceil"),
  round: roundRule,
  erf: direct("Erf"),
  erfc: unary((g, x, d) => g.op("Sub", [one(g, d), g.op("Erf", [x])])),
  add: direct("Add"),
  sub: direct("Sub"),
  mul: direct("Mul"),
  div: binary((g, a, b, d) => intSafe(g, "Div", a, b, d)),
  // lax.rem is C's fmod: the result takes the dividend's sign (ONNX Mod with fmod = 1).
  rem: binary((g, a, b, d) => intSafe(g, "Mod", a, b, d, { fmod: { int: 1 } })),
  pow: direct("Pow"),
  atan2: binary(atan2),
  max: direct("Max"),
  min: direct("Min"),
  eq: compare("Equal"),
  ne: compare("Equal", true),
  lt: compare("Less"),
  le: compare("LessOrEqual"),
  gt: compare("Greater"),
  ge: compare("GreaterOrEqual"),
  is_finite: unary((g, x) => g.op("Not", [g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])])])),
  and: logic("And", "BitwiseAnd"),
  or: logic("Or", "BitwiseOr"),
  xor: logic("Xor", "BitwiseXor"),
  not: logic("Not", "BitwiseNot"),
  select_n: selectN,
  convert_element_type: convert,
  stop_gradient: direct("Identity"),
  name: direct("Identity"),
};
