/**
 * Typed limits of pytrees: a tree that contains itself is a TreeError naming the path, and
 * nesting deeper than tree.MAX_DEPTH is a TreeError, never a RangeError (stack overflow),
 * in tree.* and in the transforms, which flatten through tree.
 */
import { describe, expect, it } from "vitest";
import { type ArrayBase, TreeError, checkpoint, customJvp, customVjp, grad, jit, jvp, lax, linearize, makeJaxpr, np, tree, vjp, vmap } from "@cotangent/core";

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

/**
 * Every transform and control-flow construct refuses a cyclic or too-deep pytree, as an
 * argument and as an output of the user's function, with a TreeError (naming the path for a
 * cycle), never a RangeError or a hang.
 */
describe("every transform refuses cyclic and too-deep trees", () => {
  const x = np.array([1, 2, 3], { dtype: "float64" });
  const cyclicTree = (): Record<string, unknown> => {
    const t: Record<string, unknown> = { x };
    t.loop = t;
    return t;
  };
  const deepTree = () => nested(3000, x);
  const first = (t: unknown) => tree.leaves<np.ArrayLike>(t)[0]!;
  const sumFirst = (t: unknown) => np.sum(first(t));

  const sJvp = customJvp((t: unknown) => np.sum(first(t)));
  sJvp.defJvp(([p]: unknown[], [tp]: unknown[]) => [sumFirst(p), sumFirst(tp)]);
  const sVjp = customVjp((t: unknown) => np.sum(first(t)));
  sVjp.defVjp((t: unknown) => [sumFirst(t), null], (_r: unknown, ct: unknown) => [ct]);
  const jvpOut = (out: () => unknown) => {
    const f = customJvp((_x: ArrayBase) => out());
    f.defJvp(([p]: unknown[]) => [out(), p]);
    return f;
  };
  const vjpOut = (out: () => unknown) => {
    const f = customVjp((_x: ArrayBase) => out());
    f.defVjp((_x: ArrayBase) => [out(), null], (_r: unknown, ct: unknown) => [ct]);
    return f;
  };

  // Each entry calls the transform with `arg` as the traced argument of a function that
  // returns the first leaf's sum.
  const withArg: Record<string, (arg: unknown) => unknown> = {
    grad: (a) => grad(sumFirst)(a),
    vjp: (a) => vjp(sumFirst, a),
    jvp: (a) => jvp(sumFirst, [a], [a]),
    linearize: (a) => linearize(sumFirst, a),
    vmap: (a) => vmap(sumFirst)(a),
    checkpoint: (a) => checkpoint(sumFirst)(a),
    makeJaxpr: (a) => makeJaxpr(sumFirst)(a),
    jit: (a) => jit(sumFirst)(a),
    customJvp: (a) => sJvp(a),
    customVjp: (a) => sVjp(a),
    "lax.cond": (a) => lax.cond(true, sumFirst, sumFirst, a),
    "lax.switch": (a) => lax.switch(0, [sumFirst, sumFirst], a),
    "lax.scan": (a) => lax.scan((c: unknown) => [c, null], a, null, { length: 1 }),
    "lax.whileLoop": (a) => lax.whileLoop(() => false, (c: unknown) => c, a),
    "lax.foriLoop": (a) => lax.foriLoop(0, 1, (_i: ArrayBase, c: unknown) => c, a),
    "lax.map": (a) => lax.map(sumFirst, a),
  };
  // Each entry calls the transform on a function of x whose output is `out()`.
  const withOutput: Record<string, (out: () => unknown) => unknown> = {
    grad: (out) => grad((y: ArrayBase) => [np.sum(y), out()], { hasAux: true })(x),
    vjp: (out) => vjp((_y: ArrayBase) => out(), x),
    jvp: (out) => jvp((_y: ArrayBase) => out(), [x], [x]),
    linearize: (out) => linearize((_y: ArrayBase) => out(), x),
    vmap: (out) => vmap((_y: ArrayBase) => out())(x),
    checkpoint: (out) => checkpoint((_y: ArrayBase) => out())(x),
    makeJaxpr: (out) => makeJaxpr((_y: ArrayBase) => out())(x),
    jit: (out) => jit((_y: ArrayBase) => out())(x),
    customJvp: (out) => jvpOut(out)(x),
    customVjp: (out) => vjpOut(out)(x),
    "lax.cond": (out) => lax.cond(true, () => out(), () => out(), x),
    "lax.switch": (out) => lax.switch(0, [() => out(), () => out()], x),
    "lax.scan": (out) => lax.scan((c: ArrayBase) => [c, out()], x, null, { length: 1 }),
    "lax.whileLoop": (out) => lax.whileLoop(() => false, () => out(), x),
    "lax.foriLoop": (out) => lax.foriLoop(0, 1, () => out(), x),
    "lax.map": (out) => lax.map(() => out(), x),
  };

  const refuses = (call: () => unknown, cycle: boolean) => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err, "expected a TreeError").toBeInstanceOf(TreeError);
    if (cycle) expect((err as Error).message).toMatch(/contains itself at (\[\d\]\.|aux\.)?loop/);
    else expect((err as Error).message).toMatch(/more than 1000 levels deep/);
  };

  for (const [name, call] of Object.entries(withArg)) {
    it(`${name}: a cyclic or too-deep argument`, () => {
      refuses(() => call(cyclicTree()), true);
      refuses(() => call(deepTree()), false);
    });
  }
  for (const [name, call] of Object.entries(withOutput)) {
    it(`${name}: a cyclic or too-deep output`, () => {
      refuses(() => call(cyclicTree), true);
      refuses(() => call(deepTree), false);
    });
  }
});
