import { describe, expect, it } from "vitest";
import { checkpoint, grad, hessian, jacfwd, jacrev, jvp, linearTranspose, linearize, makeJaxpr, np, stopGradient, tree, typecheck, valueAndGrad, vjp, vmap, type NDArray } from "@cotangent/core";
import { checkVmap, expectClose } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" }) as NDArray;
const at = (xs: any, i: number) => np.take(xs, np.array(i, { dtype: "int32" }), { axis: 0 });

describe("grad options", () => {
  const f = (x: any, y: any) => np.sum(np.multiply(np.sin(x), y));
  const x = f64([0.1, 0.2]);
  const y = f64([3, 4]);
  it("argnums and hasAux", () => {
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y);
    expectClose(gx, np.multiply(np.cos(x), y), 1e-12);
    expectClose(gy, np.sin(x), 1e-12);
    expectClose(grad(f, { argnums: 1 })(x, y), np.sin(x), 1e-12);
    const [g, aux] = grad((x: any) => [np.sum(np.square(x)), { n: np.sum(x) }], { hasAux: true })(x);
    expectClose(g, np.multiply(x, 2), 1e-12);
    expectClose(aux.n, f64(0.3), 1e-12);
    const [[v, a], g2] = valueAndGrad((x: any) => [np.sum(np.square(x)), 7], { hasAux: true })(x);
    expectClose(v, f64(0.05), 1e-12);
    expect(a.item()).toBe(7);
    expectClose(g2, g, 0);
  });
  it("pytree arguments", () => {
    const p = { w: f64([[1, 2], [3, 4]]), b: [f64([1]), 2] };
    const g = grad((p: any) => np.add(np.sum(np.square(p.w)), np.multiply(np.sum(p.b[0]), p.b[1])))(p);
    expectClose(g.w, np.multiply(p.w, 2), 0);
    expectClose(g.b[0], f64([2]), 0);
    expect(g.b[1].shape).toEqual([]);
    expect(g.b[1].dtype).toBe("float32"); // a JS number is differentiated as a float32 scalar
    expect(g.b[1].item()).toBe(1);
  });
});

describe("linearize, linearTranspose, stopGradient", () => {
  it("linearize gives the jvp at the point", () => {
    const f = (x: any) => np.multiply(np.sin(x), x);
    const x = f64([0.5, 1.5]);
    const [out, fLin] = linearize(f, x);
    expectClose(out, f(x), 0);
    const t = f64([1, -2]);
    expectClose(fLin(t), jvp(f, [x], [t])[1], 1e-12);
  });
  it("linearize checks tangents and gives them the primal's dtype, as jvp does", () => {
    const [, fLin] = linearize((x: any) => np.sin(x), f64([1, 2]));
    const want = f64([Math.cos(1), 2 * Math.cos(2)]);
    // int32 and float32 tangents for a float64 primal: the same float64 answer.
    for (const t of [np.array([1, 2], { dtype: "int32" }), np.array([1, 2])]) {
      const out = fLin(t);
      expect(out.dtype).toBe("float64");
      expectClose(out, want, 1e-12);
    }
    const [, sLin] = linearize((x: any) => np.multiply(x, x), f64(3));
    expect([sLin(1).dtype, sLin(1).item()]).toEqual(["float64", 6]);
    expect(() => fLin(f64([1, 2, 3]))).toThrow(/linearize: tangent 0 has shape \[3\] but its primal has shape \[2\]/);
    expect(() => fLin([f64([1, 2])])).toThrow(/linearize: tangents have structure/);
  });
  it("linearTranspose transposes a linear function", () => {
    const A = f64([[1, 2, 3], [4, 5, 6]]);
    const lin = (v: any) => np.matmul(A, v);
    const [ct] = linearTranspose(lin, f64([0, 0, 0]))(f64([1, 1]));
    expectClose(ct, f64([5, 7, 9]), 0);
  });
  it("stopGradient blocks derivatives in every mode", () => {
    const f = (x: any) => np.sum(np.multiply(stopGradient(np.square(x)), x));
    const x = f64([1, 2]);
    expectClose(grad(f)(x), np.square(x), 0);
    expectClose(jvp(f, [x], [f64([1, 1])])[1], f64(5), 0);
    expectClose(vmap(grad(f))(f64([[1, 2], [3, 4]])), f64([[1, 4], [9, 16]]), 0);
  });
});

describe("vmap options", () => {
  it("inAxes pytrees, null, negative axes, outAxes", () => {
    const f = (p: any, x: any) => np.add(np.matmul(x, p.w), p.b);
    const p = { w: f64([[1, 0], [0, 2], [1, 1]]), b: f64([0.5, -0.5]) };
    const xs = f64([[1, 2, 3], [4, 5, 6]]);
    const out = vmap(f, { inAxes: [{ w: null, b: null }, 0] })(p, xs);
    expectClose(out, f(p, xs), 0);
    const outT = vmap(f, { inAxes: [null, -2], outAxes: 1 })(p, xs);
    expectClose(outT, np.transpose(f(p, xs)), 0);
    const xsT = np.transpose(xs);
    expectClose(vmap(f, { inAxes: [null, 1] })(p, xsT), f(p, xs), 0);
  });
  it("axisSize with nothing mapped, and nested vmap", () => {
    const out = vmap(() => f64([1, 2]), { axisSize: 3 })();
    expect(out.shape).toEqual([3, 2]);
    const mm = vmap(vmap((a: any, b: any) => np.multiply(a, b), { inAxes: [0, null] }), { inAxes: [null, 0] });
    expectClose(mm(f64([1, 2, 3]), f64([10, 20])), f64([[10, 20, 30], [20, 40, 60]]), 0);
    checkVmap((x: any, y: any) => vmap((r: any) => np.sum(np.multiply(r, y)))(x), [f64([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), f64([[1, 1], [2, 2]])]);
  });
  it("inAxes/outAxes prefixes follow a registered class's flatten order", () => {
    // Children flatten as [b, a], not in key order.
    class Rev {
      constructor(readonly a: any, readonly b: any) {}
    }
    tree.register(Rev, (r: Rev) => [[r.b, r.a], null], (_aux: unknown, [b, a]: any[]) => new Rev(a, b));
    const out = vmap((r: Rev) => np.add(r.a, np.sum(r.b)), { inAxes: [new Rev(0, null)] })(new Rev(f64([1, 2]), f64([10, 20, 30])));
    expectClose(out, f64([61, 62]), 0);
    const o = vmap((x: any) => new Rev(x, np.stack([x, np.negative(x)])), { outAxes: new Rev(0, 1) })(f64([1, 2, 3]));
    expect(o).toBeInstanceOf(Rev);
    expectClose(o.a, f64([1, 2, 3]), 0);
    expectClose(o.b, f64([[1, 2, 3], [-1, -2, -3]]), 0);
    // A container that is not a list at the top says that inAxes lists the arguments.
    expect(() => vmap((r: Rev) => r.a, { inAxes: new Rev(0, null) })(new Rev(f64([1, 2]), f64([1])))).toThrow(/inAxes has the structure Rev\(_, _\).*argument list/);
    expect(() => vmap((p: any) => p.a, { inAxes: [{ a: 0, c: 1 }] })({ a: f64([1, 2]) })).toThrow(/inAxes\[0\] has the structure \{a: _, c: _\}.*\{a: _\}/);
  });
});

describe("composition to any depth", () => {
  const f = (x: any) => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, 0.5))));
  const x = f64([0.3, -0.7, 1.1]);
  it("grad(grad(grad(f)))", () => {
    const g3 = grad((x: any) => grad((x: any) => grad((x: any) => np.sum(np.multiply(np.sin(x), np.square(x))))(x))(x))(f64(0.7));
    // d3/dx3 of x^2 sin x = -x^2 cos x - 6x sin x + 6 cos x
    const v = 0.7;
    expectClose(g3, f64(-v * v * Math.cos(v) - 6 * v * Math.sin(v) + 6 * Math.cos(v)), 1e-10);
  });
  it("jvp(grad(f)) is a Hessian-vector product", () => {
    const v = f64([1, 2, -1]);
    const [, hvp] = jvp(grad(f), [x], [v]);
    expectClose(hvp, np.matmul(hessian(f)(x), v), 1e-12);
    typecheck(makeJaxpr((x: any, v: any) => jvp(grad(f), [x], [v])[1])(x, v));
  });
  it("grad(vmap(f)) and vmap(grad(f)) (per-example gradients)", () => {
    const xs = f64([[0.3, -0.7, 1.1], [0.2, 0.1, 0.0]]);
    const per = vmap(grad(f))(xs);
    expectClose(at(per, 1), grad(f)(at(xs, 1)), 1e-12);
    expectClose(grad((xs: any) => np.sum(vmap(f)(xs)))(xs), per, 1e-12);
  });
  it("checkpoint inside grad inside vmap, jacfwd(jacrev(f))", () => {
    const xs = f64([[0.3, -0.7, 1.1], [0.2, 0.1, 0.0]]);
    expectClose(vmap(grad((x: any) => checkpoint(f)(x)))(xs), vmap(grad(f))(xs), 1e-12);
    expectClose(jacfwd(jacrev(f))(x), hessian(f)(x), 1e-12);
    expectClose(jacrev(jacrev(f))(x), hessian(f)(x), 1e-12);
    typecheck(makeJaxpr(vmap(grad((x: any) => checkpoint(f)(x))))(xs));
  });
  it("vjp returns cotangents for all arguments", () => {
    const [out, back] = vjp((a: any, b: any) => np.multiply(a, b), f64([1, 2]), f64([3, 4]));
    expectClose(out, f64([3, 8]), 0);
    const [ga, gb] = back(f64([1, 1]));
    expectClose(ga, f64([3, 4]), 0);
    expectClose(gb, f64([1, 2]), 0);
  });
});
