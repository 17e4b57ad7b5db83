/** lax elementwise ops (the primitives of unary.ts, binary.ts, compare.ts). */
export { add, sub, mul, div } from "../primitives/binary.js";
export { neg, sin, cos, exp, log } from "../primitives/unary.js";
export { convertElementType } from "../primitives/structural.js";
