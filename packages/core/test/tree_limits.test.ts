/**
 * Typed limits of pytrees: a tree that contains itself is a TreeError naming the path, and
 * nesting deeper than tree.MAX_DEPTH is a TreeError, never a RangeError (stack overflow),
 * in tree.* and in the transforms, which flatten through tree.
 */
import { describe, expect, it } from "vitest";
import { TreeError, grad, jvp, makeJaxpr, np, tree, vmap } from "@cotangent/core";

const nested = (depth: number, leaf: unknown): unknown => {
  let t: unknown = leaf;
  for (let i = 0; i < depth; i++) t = [t];
  return t;
};

describe("tree limits", () => {
  it("a cycle is a TreeError naming the path", () => {
    const t: Record<string, unknown> = { a: np.ones([2]), b: { c: [1, 2] } };
    (t.b as Record<string, unknown>).self = t;
    expect(() => tree.flatten(t)).toThrow(TreeError);
    expect(() => tree.flatten(t)).toThrow(/tree.flatten: the tree contains itself at b.self/);
    expect(() => tree.leaves(t)).toThrow(TreeError);
    expect(() => tree.map((x: unknown) => x, t)).toThrow(TreeError);
    expect(() => tree.mapWithPath((_p: unknown, x: unknown) => x, t)).toThrow(/the tree contains itself at b.self/);
    const list: unknown[] = [1];
    list.push(list);
    expect(() => tree.structure(list)).toThrow(/contains itself at \[1\]/);
  });

  it("a shared (non-cyclic) subtree is fine", () => {
    const shared = { w: np.ones([2]) };
    expect(tree.leaves({ a: shared, b: shared })).toHaveLength(2);
  });

  it("nesting deeper than MAX_DEPTH is a TreeError, not a RangeError", () => {
    expect(tree.MAX_DEPTH).toBe(1000);
    expect(tree.leaves(nested(tree.MAX_DEPTH, 1))).toEqual([1]);
    for (const depth of [tree.MAX_DEPTH + 1, 3000, 100_000]) {
      expect(() => tree.flatten(nested(depth, 1))).toThrow(TreeError);
    }
    expect(() => tree.flatten(nested(3000, 1))).toThrow(/more than 1000 levels deep \(at \[0\]\[0\]\[0\]\[0\]\.\.\./);
  });

  it("transforms inherit both checks", () => {
    const f = (t: unknown) => np.sum(tree.leaves<np.ArrayLike>(t)[0]!);
    const x = np.ones([3]);
    const cyc: Record<string, unknown> = { x };
    cyc.me = cyc;
    expect(() => grad(f)(cyc)).toThrow(TreeError);
    expect(() => vmap(f)(cyc)).toThrow(TreeError);
    expect(() => makeJaxpr(f)(nested(3000, x))).toThrow(TreeError);
    expect(() => jvp(f, [nested(3000, x)], [nested(3000, x)])).toThrow(TreeError);
    // Within the limit, a deep tree differentiates.
    const g = grad(f)(nested(200, x));
    expect(tree.leaves<np.ArrayLike>(g)[0]).toBeDefined();
  });
});
