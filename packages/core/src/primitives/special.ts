/** stop_gradient: the identity whose derivative is zero. */
import type { ArrayBase } from "../array.js";
import { definePrimitive } from "../ir/primitive.js";
import { bind1 } from "../trace.js";

export const stopGradientP = definePrimitive({
  name: "stop_gradient",
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!],
  jvp: ([x]) => [[stopGradient(x!)], [null]],
  batch: ([x], [d]) => [[stopGradient(x!)], [d!]],
});

/** The identity in evaluation; blocks derivatives (its tangent and cotangent are zero). */
export const stopGradient = (x: ArrayBase): ArrayBase => bind1(stopGradientP, [x]);
