/** Every registered primitive carries a jvp rule and a batch rule (issue: rules for every primitive). */
import { describe, expect, it } from "vitest";
import "@cotangent/core";
import { allPrimitives } from "../src/ir/primitive.js";

describe("primitive records", () => {
  it("all have jvp and batch rules", () => {
    const prims = allPrimitives();
    expect(prims.length).toBeGreaterThan(80);
    const missing = prims.flatMap((p) => (["jvp", "batch"] as const).filter((r) => !p[r]).map((r) => `${p.name}.${r}`));
    expect(missing).toEqual([]);
  });
  it("the linear ones have transpose rules", () => {
    const linear = ["neg", "add", "sub", "mul", "div", "reduce_sum", "cumsum", "broadcast_in_dim", "reshape", "transpose", "convert_element_type", "slice", "pad", "concatenate", "rev", "squeeze", "dynamic_slice", "dynamic_update_slice", "gather", "scatter_add", "dot_general", "conv_general_dilated", "select_n", "triangular_solve", "cond", "scan", "checkpoint", "custom_lin", "name"];
    const byName = new Map(allPrimitives().map((p) => [p.name, p]));
    expect(linear.filter((n) => !byName.get(n)?.transpose)).toEqual([]);
  });
});
