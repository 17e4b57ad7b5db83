/** `np` elementwise functions: promotion of dtypes and weak JS scalars, then one primitive each. */
import type { ArrayBase } from "../array.js";
import * as b from "../primitives/binary.js";
import * as u from "../primitives/unary.js";
import { type ArrayLike, promoteArgs, promoteToFloat } from "./coerce.js";

export const add = (x: ArrayLike, y: ArrayLike): ArrayBase => b.add(...(promoteArgs(x, y) as [ArrayBase, ArrayBase]));
export const subtract = (x: ArrayLike, y: ArrayLike): ArrayBase => b.sub(...(promoteArgs(x, y) as [ArrayBase, ArrayBase]));
export const multiply = (x: ArrayLike, y: ArrayLike): ArrayBase => b.mul(...(promoteArgs(x, y) as [ArrayBase, ArrayBase]));
/** True division: integers become float32. */
export const divide = (x: ArrayLike, y: ArrayLike): ArrayBase => b.div(...(promoteToFloat(x, y) as [ArrayBase, ArrayBase]));
export const negative = (x: ArrayLike): ArrayBase => u.neg(promoteArgs(x)[0]!);
export const sin = (x: ArrayLike): ArrayBase => u.sin(promoteToFloat(x)[0]!);
export const cos = (x: ArrayLike): ArrayBase => u.cos(promoteToFloat(x)[0]!);
export const exp = (x: ArrayLike): ArrayBase => u.exp(promoteToFloat(x)[0]!);
export const log = (x: ArrayLike): ArrayBase => u.log(promoteToFloat(x)[0]!);
