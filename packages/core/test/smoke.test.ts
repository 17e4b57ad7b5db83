import { describe, expect, it } from "vitest";
import { grad, jvp, makeJaxpr, np, typecheck, vjp, vmap, memoryProfile, ConcretizationError, UnexpectedTracerError } from "@cotangent/core";

describe("smoke", () => {
  it("evaluates, traces, differentiates, vmaps", () => {
    const f = (x: any) => np.sum(np.sin(np.multiply(x, 2)));
    const x = np.array([1, 2, 3]);
    expect(f(x).item()).toBeCloseTo(Math.sin(2) + Math.sin(4) + Math.sin(6), 5);
    const j = makeJaxpr(f)(x);
    typecheck(j);
    expect(j.toString()).toBe(`{ lambda ; a:f32[3]. let
    b:f32[3] = mul a 2.0:f32[]
    c:f32[3] = sin b
    d:f32[] = reduce_sum[axes=(0,)] c
  in (d,) }`);
    const g = grad(f)(x);
    expect(g.toArray()[0]).toBeCloseTo(2 * Math.cos(2), 5);
    const gg = grad((x: any) => np.sum(grad(f)(x)))(x);
    expect(gg.toArray()[1]).toBeCloseTo(-4 * Math.sin(4), 4);
    const [, t] = jvp(f, [x], [np.ones([3])]);
    expect(t.item()).toBeCloseTo(2 * (Math.cos(2) + Math.cos(4) + Math.cos(6)), 4);
    const vf = vmap(f)(np.array([[1, 2, 3], [4, 5, 6]]));
    expect(vf.shape).toEqual([2]);
    const pe = vmap(grad(f))(np.array([[1, 2, 3], [4, 5, 6]]));
    expect(pe.toArray()[1][0]).toBeCloseTo(2 * Math.cos(8), 4);
    const [out, back] = vjp((a: any, b: any) => np.multiply(a, b), x, np.array([4, 5, 6]));
    expect(out.toArray()).toEqual([4, 10, 18]);
    expect(back(np.ones([3])).map((a: any) => a.toArray())).toEqual([[4, 5, 6], [1, 2, 3]]);
    console.log(makeJaxpr(grad(f))(x).toString());
    const { peakBytes } = memoryProfile(() => grad(f)(x));
    expect(peakBytes).toBeGreaterThan(0);
  });
  it("refuses to concretize tracers", () => {
    expect(() => grad((x: any) => (x > 0 ? x : np.negative(x)))(np.array(1))).toThrow(ConcretizationError);
    let leaked: any;
    grad((x: any) => { leaked = np.sin(x); return np.sum(x); })(np.array(1));
    expect(() => np.add(leaked, 1)).toThrow(UnexpectedTracerError);
  });
});
