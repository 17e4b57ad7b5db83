import { describe, expect, it } from "vitest";
import { hessian, jacfwd, jacrev, np } from "@cotangent/core";
import { expectClose } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" });

describe("jacobians", () => {
  it("jacfwd and jacrev agree and have shape out ++ in", () => {
    const f = (x: any) => np.multiply(np.sin(x), np.sum(x));
    const x = f64([[0.1, 0.2, 0.3], [1, 2, 3]]);
    const jf = jacfwd(f)(x);
    const jr = jacrev(f)(x);
    expect(jf.shape).toEqual([2, 3, 2, 3]);
    expectClose(jf, jr, 1e-12);
    // d f_ij / d x_kl = cos(x_ij) s δ + sin(x_ij)
    const s = 6.6;
    const xv = x.toArray() as number[][];
    const want = xv.map((r, i) => r.map((v, j) => xv.map((r2, k) => r2.map((_, l) => (i === k && j === l ? Math.cos(v) * s : 0) + Math.sin(v)))));
    expectClose(jf, f64(want), 1e-12);
  });
  it("pytrees: tree product structure and argnums", () => {
    const f = (p: any, z: any) => ({ y: np.multiply(p.a, z), s: np.sum(np.multiply(p.b, p.b)) });
    const p = { a: f64([1, 2]), b: f64([3]) };
    const z = f64(2);
    for (const jac of [jacfwd, jacrev]) {
      const j = jac(f)(p, z);
      expect(j.y.a.shape).toEqual([2, 2]);
      expect(j.y.b.shape).toEqual([2, 1]);
      expect(j.s.a.shape).toEqual([2]);
      expectClose(j.y.a, f64([[2, 0], [0, 2]]), 1e-12);
      expectClose(j.s.b, f64([6]), 1e-12);
      // Outer structure is the output's; each leaf holds the tuple of argument structures.
      const j2 = jac(f, { argnums: [0, 1] })(p, z);
      expectClose(j2.y[1], f64([1, 2]), 1e-12);
      expect(j2.y[0].a.shape).toEqual([2, 2]);
    }
  });
  it("hessian is symmetric and right", () => {
    const f = (x: any) => np.sum(np.multiply(np.sin(x), np.multiply(x, x)));
    const x = f64([0.3, -1.1, 2]);
    const h = hessian(f)(x);
    expectClose(h, np.array((h.toArray() as number[][])[0]!.map((_, i) => (h.toArray() as number[][]).map((r) => r[i]!)), { dtype: "float64" }), 1e-12);
    const d2 = (v: number) => 2 * Math.sin(v) + 4 * v * Math.cos(v) - v * v * Math.sin(v);
    expectClose(np.multiply(h, np.eye(3, 3, { dtype: "float64" })), f64([[d2(0.3), 0, 0], [0, d2(-1.1), 0], [0, 0, d2(2)]]), 1e-10);
    const g = (x: any, y: any) => np.sum(np.multiply(np.multiply(x, x), y));
    expectClose(jacfwd(jacrev(g, { argnums: 1 }), { argnums: 0 })(f64([1, 2]), f64([3, 4])), f64([[2, 0], [0, 4]]), 1e-12);
  });
});
