/**
 * Unary elementwise primitives. Each is one `unaryPrimitive({...})` call holding its
 * kernel expression, accepted dtypes and jvp rule; batching is shared (elementwise.ts).
 */
import type { ArrayBase } from "../array.js";
import { FLOATS, NUMERIC } from "./common.js";
import { unaryPrimitive } from "./elementwise.js";
import { mul } from "./binary.js";

export const [negP, neg] = unaryPrimitive({
  name: "neg",
  expr: (d) => (d === "int32" ? "-x | 0" : "-x"),
  dtypes: NUMERIC,
  jvp: ([x], [t]) => [[neg(x!)], [t && neg(t)]],
  transpose: ([ct]) => [ct && neg(ct)],
});

export const [sinP, sin] = unaryPrimitive({
  name: "sin",
  expr: "Math.sin(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[sin(x!)], [t && mul(t, cos(x!))]],
});

export const [cosP, cos] = unaryPrimitive({
  name: "cos",
  expr: "Math.cos(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[cos(x!)], [t && neg(mul(t, sin(x!)))]],
});

export const [expP, exp] = unaryPrimitive({
  name: "exp",
  expr: "Math.exp(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = exp(x!);
    return [[y], [t && mul(t, y)]];
  },
});

export const [logP, log] = unaryPrimitive({
  name: "log",
  expr: "Math.log(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[log(x!)], [t && div(t, x!)]],
});

import { div } from "./binary.js";
export type { ArrayBase };
