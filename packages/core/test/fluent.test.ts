import { describe, expect, it } from "vitest";
import { grad, np } from "@cotangent/core";

describe("fluent methods", () => {
  it("chain as sugar over np", () => {
    const x = np.array([[1, 2], [3, 4]]);
    expect(x.add(1).mul(2).sum().item()).toBe(28);
    expect(x.T.toArray()).toEqual([[1, 3], [2, 4]]);
    expect(x.matmul(x).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(x.reshape([4]).max().item()).toBe(4);
    expect(x.mean({ axis: 0 }).toArray()).toEqual([2, 3]);
    expect(x.astype("int32").dtype).toBe("int32");
  });
  it("work on tracers", () => {
    const g = grad((w: any) => w.mul(w).sum())(np.array([1, 2, 3]));
    expect(g.toArray()).toEqual([2, 4, 6]);
  });
});

describe("iteration over the first axis", () => {
  it("destructures arrays and tracers, and refuses 0-d arrays", () => {
    const [a, b] = np.array([[1, 2], [3, 4]]);
    expect(a!.toArray()).toEqual([1, 2]);
    expect(b!.toArray()).toEqual([3, 4]);
    expect([...np.arange(3)].map((x) => x.item())).toEqual([0, 1, 2]);
    expect(() => [...np.array(1)]).toThrow(/iteration over a 0-d array/);
    const g = grad((m: any) => {
      const [r0, r1] = m;
      return np.sum(np.multiply(r0, r1));
    })(np.array([[1, 2], [3, 4]]));
    expect(g.toArray()).toEqual([[3, 4], [1, 2]]);
  });
});
