/**
 * Every primitive with a lowering: the exported model, run on onnxruntime-node with random
 * inputs, agrees with Cotangent's interpreter (f32 1e-5, f64 1e-12 relative).
 */
import { type DType, Jaxpr, makeJaxpr } from "@cotangent/core";
import { describe, expect, it } from "vitest";
import { loweringRules } from "../src/index.js";
import { cases, rng } from "./cases.js";
import { checkOnnx } from "./harness.js";

const primitivesIn = (j: Jaxpr, into = new Set<string>()): Set<string> => {
  for (const e of j.eqns) {
    into.add(e.primitive.name);
    for (const v of Object.values(e.params)) {
      if (v instanceof Jaxpr) primitivesIn(v, into);
      if (Array.isArray(v)) v.forEach((b) => b instanceof Jaxpr && primitivesIn(b, into));
    }
  }
  return into;
};

describe("each lowering agrees with the interpreter on onnxruntime-node", () => {
  cases.forEach((c, k) => {
    for (const dtype of c.dtypes ?? (["float32", "float64"] as DType[])) {
      it(`${c.label ?? c.prim} (${dtype})`, async () => {
        const args = c.args(rng(1000 + k), dtype);
        expect(primitivesIn(makeJaxpr(c.fn)(...args)).has(c.prim), `the case binds ${c.prim}`).toBe(true);
        await checkOnnx(c.fn, args, c.rtol ? { rtol: c.rtol } : {});
      });
    }
  });
});

// Rules checked elsewhere: control flow and inlining (control.test.ts).
const ELSEWHERE = new Set(["cond", "scan", "while", "checkpoint", "custom_jvp_call", "custom_vjp_call", "closed_call", "jit", "pjit", "debug_callback"]);

it("every lowering has a case here or in control.test.ts", () => {
  const covered = new Set(cases.map((c) => c.prim));
  const missing = Object.keys(loweringRules).filter((p) => !covered.has(p) && !ELSEWHERE.has(p));
  expect(missing).toEqual([]);
});
