/** nn functions take JAX's positional arguments through the shared validator. */
import { describe, expect, it } from "vitest";
import { AxisError, ValueError, np } from "@cotangent/core";
import * as nn from "@cotangent/nn";

const a = np.array([[1, 5, 2], [7, 3, 4]], { dtype: "float64" });

describe("nn positional arguments", () => {
  it("softmax and logSoftmax take axis positionally", () => {
    const s0 = nn.softmax(a, 0);
    expect(s0.toArray()).toEqual(nn.softmax(a, { axis: 0 }).toArray());
    // Columns sum to one over axis 0 (the default axis -1 would make rows sum to one).
    (np.sum(s0, 0).toArray() as number[]).forEach((v) => expect(v).toBeCloseTo(1, 12));
    expect(nn.logSoftmax(a, 0).toArray()).toEqual(nn.logSoftmax(a, { axis: 0 }).toArray());
    expect(nn.logsumexp(a, 1).shape).toEqual([2]);
  });

  it("bad options are typed errors", () => {
    expect(() => nn.softmax(a, { axes: 0 } as never)).toThrow(/nn.softmax: unknown option 'axes'[\s\S]*did you mean 'axis'/);
    expect(() => nn.softmax(a, "0" as never)).toThrow(AxisError);
    expect(() => nn.oneHot(np.array([1, 2], { dtype: "int32" }), 3, { dtype: "float32", axs: 0 } as never)).toThrow(ValueError);
  });
});
