import { describe, expect, it } from "vitest";
import { ConcretizationError, UnexpectedTracerError, evalJaxpr, grad, linearize, makeJaxpr, np, tree, vjp, vmap } from "@cotangent/core";

class Point {
  constructor(readonly x: any, readonly y: any, readonly label: string) {}
}
tree.register(Point, (p) => [[p.x, p.y], p.label], (label, [x, y]) => new Point(x, y, label));

describe("pytrees", () => {
  const t = { b: [1, np.array([2, 3])], a: { z: null, y: 4 }, c: undefined };
  it("flattens with keys sorted, null/undefined as empty nodes, and unflattens", () => {
    const [leaves, def] = tree.flatten(t);
    expect(leaves.map((l: any) => (typeof l === "number" ? l : l.toArray()))).toEqual([4, 1, [2, 3]]);
    expect(tree.treedefToString(def)).toBe("{a: {y: *, z: null}, b: [*, *], c: undefined}");
    const back = tree.unflatten(def, leaves);
    expect(back.a.y).toBe(4);
    expect(back.a.z).toBe(null);
    expect("c" in back && back.c === undefined).toBe(true);
    expect(tree.leaves([1, [2, [3]]])).toEqual([1, 2, 3]);
    expect(tree.numLeaves(tree.structure(t))).toBe(3);
  });
  it("maps over several trees and with paths", () => {
    expect(tree.map((a: number, b: number) => a + b, [1, { x: 2 }], [10, { x: 20 }])).toEqual([11, { x: 22 }]);
    expect(tree.mapWithPath((p: any[], l: number) => `${tree.pathToString(p)}=${l}`, { w: [5, 6], b: 7 })).toEqual({ b: "b=7", w: ["w[0]=5", "w[1]=6"] });
    expect(() => tree.map((a: number, b: number) => a + b, [1, 2], [1])).toThrow(/tree.map: tree 1 has structure \[\*\] which differs|tree 1 has structure \[\*\], which differs from the first tree's \[\*, \*\]/);
  });
  it("registered classes are nodes, and transforms see through them", () => {
    const p = new Point(np.array(1, { dtype: "float64" }), np.array(2, { dtype: "float64" }), "p");
    const [leaves, def] = tree.flatten(p);
    expect(leaves.length).toBe(2);
    const q = tree.unflatten<Point>(def, [3, 4]);
    expect(q).toBeInstanceOf(Point);
    expect(q.label).toBe("p");
    const g = grad((p: Point) => np.multiply(p.x, p.y))(p);
    expect(g).toBeInstanceOf(Point);
    expect(g.x.item()).toBe(2);
    expect(g.y.item()).toBe(1);
  });
  it("unflatten checks the leaf count", () => {
    expect(() => tree.unflatten(tree.structure([1, 2]), [1])).toThrow(/tree.unflatten: structure has \d leaves but 1 were given|structure has 2 leaves but 1 were given/);
  });
});

describe("tracing", () => {
  const x = np.array([1, 2]);
  it("coercing a tracer raises ConcretizationError naming the op and the fix", () => {
    const forms: [string, (t: any) => unknown][] = [
      ["comparison", (t) => t > 0],
      ["unary plus", (t) => +t],
      ["template string", (t) => `${t}`],
      ["item()", (t) => t.item()],
      ["Number()", (t) => Number(t)],
      ["toArray()", (t) => t.toArray()],
    ];
    for (const [, coerce] of forms) {
      const f = (t: any) => {
        coerce(np.sin(t));
        return np.sum(t);
      };
      expect(() => grad(f)(x)).toThrow(ConcretizationError);
      expect(() => makeJaxpr(f)(x)).toThrow(/^sin: .* of a traced value \(f32\[2\], the output of 'sin' from packages\/core\/test\/tree_and_tracing.test.ts:\d+\) is not available while tracing[\s\S]*hint: .*np.where.*lax.cond.*lax.whileLoop/);
    }
  });
  it("a tracer used after its trace ended says where it was created", () => {
    let leaked: any;
    vmap((t: any) => {
      leaked = np.exp(t);
      return t;
    })(x);
    expect(() => np.add(leaked, 1)).toThrow(UnexpectedTracerError);
    expect(() => np.add(leaked, 1)).toThrow(/a tracer \(f32\[\], made by 'exp' at packages\/core\/test\/tree_and_tracing.test.ts:\d+\) was used after the transform that created it .*had finished/);
  });
  it("a vjp or linearize function, or a jaxpr, kept past the trace it closes over is an UnexpectedTracerError", () => {
    let back: any;
    let lin: any;
    let jaxpr: any;
    grad((a: any) => {
      const [out, b] = vjp((y: any) => np.sin(np.multiply(a, y)), np.array(1));
      back = b;
      lin = linearize((y: any) => np.sin(np.multiply(a, y)), np.array(1))[1];
      jaxpr = makeJaxpr((y: any) => np.multiply(a, y))(np.array(1));
      return out;
    })(np.array(0.5));
    expect(() => back(np.array(1))).toThrow(UnexpectedTracerError);
    expect(() => lin(np.array(1))).toThrow(UnexpectedTracerError);
    expect(() => evalJaxpr(jaxpr, [np.array(2)])).toThrow(/a tracer \(f32\[\], a traced argument\) was used after the transform that created it/);
  });
  it("outer values used inside an inner trace become constvars", () => {
    const j = makeJaxpr((a: any) => grad((b: any) => np.sum(np.multiply(a, b)))(a))(np.array([1, 2]));
    expect(j.toString()).toMatch(/^\{ lambda ; a:f32\[2\]\. let/);
    const c = np.array([5, 6]);
    const j2 = makeJaxpr((a: any) => np.add(a, c))(np.array([1, 2]));
    expect(j2.constvars.length).toBe(1);
    expect(j2.consts[0]).toBe(c);
  });
});
