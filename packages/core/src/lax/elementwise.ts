/**
 * lax elementwise ops: the primitives of unary.ts, binary.ts and compare.ts as thin
 * functions. Unlike `np`, they do not promote: inputs of binary ops must share a dtype
 * (they do broadcast, NumPy-style), and float-only ops refuse integers.
 */
import * as B from "../primitives/binary.js";
import * as U from "../primitives/unary.js";
import * as C from "../primitives/compare.js";
import { arrayFn } from "../api/args.js";

// Each is the primitive function itself behind a strict argument count: a surplus argument or an
// options object is a typed error naming the lax function instead of being ignored.
const unary = <F extends (x: any) => any>(name: string, f: F) => arrayFn(`lax.${name}`, ["x:operand!"], f);
const binary = <F extends (x: any, y: any) => any>(name: string, f: F) => arrayFn(`lax.${name}`, ["x:operand!", "y:operand!"], f);

export const add = binary("add", B.add);
export const sub = binary("sub", B.sub);
export const mul = binary("mul", B.mul);
export const div = binary("div", B.div);
export const rem = binary("rem", B.rem);
export const pow = binary("pow", B.pow);
export const max = binary("max", B.max);
export const min = binary("min", B.min);
export const atan2 = binary("atan2", B.atan2);
export const neg = unary("neg", U.neg);
export const exp = unary("exp", U.exp);
export const exp2 = unary("exp2", U.exp2);
export const log = unary("log", U.log);
export const log1p = unary("log1p", U.log1p);
export const expm1 = unary("expm1", U.expm1);
export const logistic = unary("logistic", U.logistic);
export const sin = unary("sin", U.sin);
export const cos = unary("cos", U.cos);
export const tan = unary("tan", U.tan);
export const asin = unary("asin", U.asin);
export const acos = unary("acos", U.acos);
export const atan = unary("atan", U.atan);
export const sinh = unary("sinh", U.sinh);
export const cosh = unary("cosh", U.cosh);
export const tanh = unary("tanh", U.tanh);
export const asinh = unary("asinh", U.asinh);
export const acosh = unary("acosh", U.acosh);
export const atanh = unary("atanh", U.atanh);
export const sqrt = unary("sqrt", U.sqrt);
export const rsqrt = unary("rsqrt", U.rsqrt);
export const cbrt = unary("cbrt", U.cbrt);
export const square = unary("square", U.square);
export const integerPow = checked(signature("lax.integerPow", ["x:operand!", "y:int!"]), U.integerPow);
export const sign = unary("sign", U.sign);
export const abs = unary("abs", U.abs);
export const floor = unary("floor", U.floor);
export const ceil = unary("ceil", U.ceil);
export const round = checked(signature("lax.round", ["x:operand!", "roundingMethod:int"]), U.round);
export { RoundingMethod } from "../primitives/unary.js";
export const erf = unary("erf", U.erf);
export const erfc = unary("erfc", U.erfc);
export const erfInv = unary("erfInv", U.erfInv);
export const eq = binary("eq", C.eq);
export const ne = binary("ne", C.ne);
export const lt = binary("lt", C.lt);
export const le = binary("le", C.le);
export const gt = binary("gt", C.gt);
export const ge = binary("ge", C.ge);
export const isFinite = unary("isFinite", C.isFinite);
export const bitwiseAnd = binary("bitwiseAnd", C.bitwiseAnd);
export const bitwiseOr = binary("bitwiseOr", C.bitwiseOr);
export const bitwiseXor = binary("bitwiseXor", C.bitwiseXor);
export const bitwiseNot = unary("bitwiseNot", C.bitwiseNot);
export { selectN } from "../primitives/compare.js";
export const select = arrayFn("lax.select", ["pred:operand!", "onTrue:operand!", "onFalse:operand!"], C.select);
import { checked, signature } from "../api/args.js";
import { convertElementType as convertElementTypeOp } from "../primitives/structural.js";

export const convertElementType = checked(signature("lax.convertElementType", ["x:operand!", "dtype:dtypeName!"]), convertElementTypeOp);
/** `lax.randomGammaGrad(a, x)`: dx/da of Gamma(a) samples x (JAX's `lax.random_gamma_grad`), the derivative `random.gamma` uses. */
export { randomGammaGrad } from "../primitives/random_gamma.js";
