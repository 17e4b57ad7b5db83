/**
 * jit: values and gradients equal the un-jitted function through every composition
 * (grad of jit, jit of grad, vmap, control flow and checkpoint on either side), the cache
 * traces once per signature, static and donated arguments, and the errors users meet.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ConcretizationError,
  type NDArray,
  TransformError,
  ValueError,
  checkpoint,
  grad,
  jit,
  jvp,
  lax,
  makeJaxpr,
  np,
  typecheck,
  valueAndGrad,
  vmap,
} from "@cotangent/core";
import { expectClose } from "./harness.js";

type V = any;
const f64 = (xs: number[] | number[][]) => np.array(xs, { dtype: "float64" }) as NDArray;
const W = f64([[0.3, -0.2, 0.1, 0.5], [0.0, 0.4, -0.3, 0.2], [0.6, -0.1, 0.2, -0.4], [0.1, 0.1, 0.1, 0.1]]);

const unary: ((v: V) => V)[] = [
  (v) => np.sin(v),
  (v) => np.tanh(v),
  (v) => np.exp(np.multiply(v, 0.3)),
  (v) => np.square(v),
  (v) => np.sigmoid(v),
  (v) => np.log1p(np.square(v)),
  (v) => np.multiply(v, -1.7),
  (v) => np.matmul(v, W),
  (v) => np.add(v, np.sum(v, { axis: 0, keepdims: true })),
  (v) => np.subtract(v, np.max(v, { axis: 1, keepdims: true })),
  (v) => np.transpose(np.reshape(np.transpose(v), [4, 3])),
  (v) => np.where(np.greater(v, 0.1), v, np.multiply(v, 0.5)),
  (v) => np.cumsum(v, { axis: 1 }),
  (v) => lax.scan((c: V, r: V) => [np.add(np.multiply(c, 0.5), r), np.sin(c)], np.zeros([4], { dtype: "float64" }), v)[1],
  (v) => lax.cond(np.greater(np.sum(v), 0), (a: V) => np.sin(a), (a: V) => np.multiply(a, 2), v),
  (v) => checkpoint((a: V) => np.cos(np.multiply(a, a)))(v),
  (v) => jit((a: V) => np.tanh(np.add(a, 1)))(v),
];
const binary: ((a: V, b: V) => V)[] = [(a, b) => np.add(a, b), (a, b) => np.multiply(a, b), (a, b) => np.subtract(a, b), (a, b) => np.divide(a, np.add(np.square(b), 1))];
type Step = { kind: "u"; op: number; a: number } | { kind: "b"; op: number; a: number; b: number };
const arbStep = fc.oneof(
  fc.record({ kind: fc.constant("u" as const), op: fc.nat(unary.length - 1), a: fc.nat(20) }),
  fc.record({ kind: fc.constant("b" as const), op: fc.nat(binary.length - 1), a: fc.nat(20), b: fc.nat(20) }),
);
const program = (steps: Step[]) => (x: V, y: V) => {
  const vals: V[] = [x, y];
  for (const s of steps) {
    const pick = (i: number) => vals[i % vals.length];
    vals.push(s.kind === "u" ? unary[s.op]!(pick(s.a)) : binary[s.op]!(pick(s.a), pick(s.b)));
  }
  return vals[vals.length - 1];
};
const arrayOf = (seed: number, shape: number[]) =>
  np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i * 0.77) * 0.9), { dtype: "float64", shape }) as NDArray;

describe("jit agrees with the function it compiles", () => {
  it("on random compositions of primitives (control flow included): values, grads, vmap", () => {
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const f = program(steps);
        const s = (x: V, y: V) => np.sum(f(x, y));
        const x = arrayOf(seed, [3, 4]);
        const y = arrayOf(seed + 1, [3, 4]);
        expectClose(jit(f)(x, y), f(x, y), 1e-12);
        const g = grad(s, { argnums: [0, 1] });
        expectClose(grad(jit(s), { argnums: [0, 1] })(x, y), g(x, y), 1e-12);
        expectClose(jit(g)(x, y), g(x, y), 1e-12);
        const xs = arrayOf(seed + 2, [2, 3, 4]);
        const ys = arrayOf(seed + 3, [2, 3, 4]);
        expectClose(vmap(jit(f))(xs, ys), vmap(f)(xs, ys), 1e-12);
        expectClose(jit(vmap(grad(s)))(xs, ys), vmap(grad(s))(xs, ys), 1e-12);
        typecheck(makeJaxpr(grad(jit(s)))(x, y));
        typecheck(makeJaxpr(vmap(jit(f)))(xs, ys));
        typecheck(jit(g).lower(x, y).optimized);
      }),
      { numRuns: 15 },
    );
  });

  it("grad, jvp (forward-over-reverse), hvp and float32", () => {
    const f = (x: V) => np.sum(np.multiply(np.sin(x), np.power(x, 3)));
    const x = np.linspace(-2, 2, 7, { dtype: "float32" }) as NDArray;
    expect(jit(f)(x).item()).toBe(f(x).item()); // elementwise chains keep eager's float32 rounding
    expectClose(jit(grad(f))(x), grad(f)(x), 1e-6);
    const hvpRev = (x: V, v: V) => grad((y: V) => np.sum(np.multiply(grad(f)(y), v)))(x);
    const hvpFwd = (x: V, v: V) => jvp(grad(f), [x], [v])[1];
    const v = np.cos(x);
    expectClose(jit(hvpRev)(x, v), hvpRev(x, v), 1e-5);
    expectClose(jit(hvpFwd)(x, v), hvpFwd(x, v), 1e-5);
    expectClose(jvp(jit(grad(f)), [x], [v])[1], hvpFwd(x, v), 1e-5);
  });

  it("inside scan, cond and whileLoop bodies, inside checkpoint, and around checkpoint", () => {
    const inner = jit((c: V, x: V) => np.add(np.multiply(np.sin(c), x), 0.5));
    const x = f64([0.3, -0.7, 1.1]);
    const viaScan = (x: V) => np.sum(lax.scan((c: V, xi: V) => [inner(c, xi), c], np.sum(x), x)[1]);
    const viaScanRef = (x: V) => np.sum(lax.scan((c: V, xi: V) => [np.add(np.multiply(np.sin(c), xi), 0.5), c], np.sum(x), x)[1]);
    expectClose(viaScan(x), viaScanRef(x), 1e-12);
    expectClose(grad(viaScan)(x), grad(viaScanRef)(x), 1e-12);
    expectClose(jit(grad(viaScan))(x), grad(viaScanRef)(x), 1e-12);
    const viaCond = (x: V) => lax.cond(np.greater(np.sum(x), 0), (a: V) => np.sum(inner(a, a)), (a: V) => np.sum(a), x);
    expectClose(grad(viaCond)(x), grad((x: V) => np.sum(np.add(np.multiply(np.sin(x), x), 0.5)))(x), 1e-12);
    const viaWhile = (x: V) => lax.whileLoop((c: V) => np.less(np.sum(c), 10), (c: V) => np.add(c, np.add(1, np.square(inner(c, 2)))), x);
    expectClose(jit(viaWhile)(x), viaWhile(x), 1e-12);
    const inCk = checkpoint((x: V) => np.sum(inner(x, x)));
    expectClose(grad(inCk)(x), grad((x: V) => np.sum(inner(x, x)))(x), 1e-12);
    const ckIn = jit((x: V) => np.sum(checkpoint((a: V) => np.sin(np.sin(a)))(x)));
    expectClose(grad(ckIn)(x), grad((x: V) => np.sum(np.sin(np.sin(x))))(x), 1e-12);
    expectClose(jit(grad(ckIn))(x), grad((x: V) => np.sum(np.sin(np.sin(x))))(x), 1e-12);
  });

  it("prints nested, like the other higher-order primitives", () => {
    const f = jit(function square(x: V) {
      return np.multiply(x, x);
    });
    const text = makeJaxpr((x: V) => np.sin(f(x)))(f64([1, 2])).toString();
    expect(text).toContain("jit[");
    expect(text).toContain("name=square");
    expect(text).toMatch(/jaxpr=\{ lambda ; \w+:f64\[2\]\. let/);
  });
});

describe("the jit cache", () => {
  it("traces once per signature: a new shape retraces once and then hits", () => {
    let traces = 0;
    const f = jit((x: V) => {
      traces++;
      return np.sum(np.sin(x));
    });
    f(np.ones([3]));
    f(np.ones([3]));
    f(np.zeros([3]));
    expect(traces).toBe(1);
    f(np.ones([4]));
    expect(traces).toBe(2);
    f(np.ones([4]));
    f(np.ones([3]));
    expect(traces).toBe(2);
    const info = f.cacheInfo();
    expect(info).toMatchObject({ hits: 4, misses: 2, size: 2, maxSize: 64 });
    expect(info.retraces.map((r) => r.reason)).toEqual(["first call", "argument 0 is f32[4], was f32[3]"]);
  });
  it("a repeated call with arrays of the same shapes and dtypes takes the fast path and still notices any change", () => {
    let traces = 0;
    const f = jit((x: V, y: V) => {
      traces++;
      return np.add(np.multiply(x, 2), y);
    });
    const [a, b] = [np.array([1, 2, 3], { dtype: "float32" }), np.array([1, 1, 1], { dtype: "float32" })];
    const a64 = np.array([1, 2, 3], { dtype: "float64" });
    const a2 = np.array([[1, 2, 3]], { dtype: "float32" });
    const runs: [V, V, number[][] | number[], string][] = [
      [a, b, [3, 5, 7], "float32"],
      [a, b, [3, 5, 7], "float32"],
      [a64, b, [3, 5, 7], "float64"],
      [a, b, [3, 5, 7], "float32"],
      [a2, b, [[3, 5, 7]], "float32"],
      [b, a, [3, 4, 5], "float32"],
    ];
    for (const [x, y, want, dtype] of runs) {
      const r = f(x, y) as NDArray;
      expect(r.toArray()).toEqual(want);
      expect(r.dtype).toBe(dtype);
    }
    expect(traces).toBe(3);
    expect(f.cacheInfo()).toMatchObject({ hits: 3, misses: 3 });
    f.clearCache();
    expect((f(a, b) as NDArray).toArray()).toEqual([3, 5, 7]);
    expect(traces).toBe(4);
  });
  it("keys on dtype, weak type, pytree structure and static values; reports why", () => {
    const f = jit((p: V, n: number, mode: string) => (mode === "double" ? np.multiply(np.multiply(p.w, n), 2) : np.multiply(p.w, n)), { staticArgnums: [2] });
    const w = np.ones([2]);
    f({ w }, 1, "double");
    f({ w }, 2, "double"); // a JS number is traced: same signature
    f({ w }, 2.5, "double"); // weak float instead of weak int
    f({ w: np.ones([2], { dtype: "float64" }) }, 1, "double");
    f({ w, b: w }, 1, "double");
    f({ w }, 1, "single");
    expect(f.cacheInfo().retraces.map((r) => r.reason)).toEqual([
      "first call",
      "argument 1 is weak f32[], was weak i32[]",
      "argument 0.w is f64[2], was f32[2]",
      'the pytree structure of the arguments changed (now [{"b":*,"w":*},*], before [{"w":*},*])',
      'static argument 2 is "single", was "double"',
    ]);
    expect((f({ w }, 3, "double") as NDArray).toArray()).toEqual([6, 6]);
  });
  it("is bounded: the least recently used signature goes first", () => {
    const f = jit((x: V) => np.sin(x), { cacheSize: 2 });
    f(np.ones([1]));
    f(np.ones([2]));
    f(np.ones([1]));
    f(np.ones([3])); // evicts [2]
    expect(f.cacheInfo().size).toBe(2);
    f(np.ones([2]));
    expect(f.cacheInfo().retraces.at(-1)!.reason).toBe("the cache had dropped this signature (least recently used)");
    expect(() => jit((x: V) => x, { cacheSize: 0 })).toThrow(TransformError);
  });
  it("booleans, strings and functions in the arguments are static", () => {
    let traces = 0;
    const f = jit((x: V, opts: { relu: boolean; act: (v: V) => V }) => {
      traces++;
      return opts.relu ? np.maximum(opts.act(x), 0) : opts.act(x);
    });
    const x = f64([-1, 2]);
    expect((f(x, { relu: true, act: np.negative }) as NDArray).toArray()).toEqual([1, 0]);
    expect((f(x, { relu: false, act: np.negative }) as NDArray).toArray()).toEqual([1, -2]);
    f(x, { relu: false, act: np.negative });
    expect(traces).toBe(2);
  });
});

describe("jit arguments and errors", () => {
  it("staticArgnums and staticArgnames make values part of the key", () => {
    const f = jit((x: V, n: number) => (n > 2 ? np.sin(x) : np.cos(x)), { staticArgnums: 1 });
    const g = jit(function pick(x: V, n: number) {
      return n > 2 ? np.sin(x) : np.cos(x);
    }, { staticArgnames: "n" });
    const x = f64([0.5]);
    expectClose(f(x, 3), np.sin(x), 0);
    expectClose(f(x, 1), np.cos(x), 0);
    expectClose(g(x, 1), np.cos(x), 0);
    expect(() => jit((x: V) => x, { staticArgnames: "nope" })).toThrow(/no parameter of that name/);
  });
  it("branching on a traced value is a ConcretizationError that suggests staticArgnums", () => {
    const f = jit((x: V, n: number) => (n > 2 ? np.sin(x) : np.cos(x)));
    let err: unknown;
    try {
      f(f64([0.5]), 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConcretizationError);
    expect((err as ConcretizationError).hint).toContain("staticArgnums: [1]");
    expect((err as ConcretizationError).source).toMatch(/jit\.test\.ts:\d+/);
  });
  it("a non-hashable static argument is a typed error", () => {
    const f = jit((x: V, cfg: unknown) => x, { staticArgnums: [1] });
    expect(() => f(f64([1]), f64([1]))).toThrow(ValueError);
    expect(() => f(f64([1]), new Map())).toThrow(/not hashable/);
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    expect(() => f(f64([1]), cyclic)).toThrow(/cyclic/);
    expect(() => jit((x: V) => x, { staticArgnums: [3] })(f64([1]))).toThrow(TransformError);
    expect(() => jit((x: V) => x, { staticArgnums: [0], donateArgnums: [0] })(f64([1]))).toThrow(/both static and donated/);
  });
  it("errors at trace time name the user's line", () => {
    const f = jit((x: V) => np.add(x, np.ones([3])));
    try {
      f(np.ones([2]));
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toMatch(/jit\.test\.ts:\d+/);
    }
  });
  it("a closed-over array is a constant of the trace", () => {
    let w = f64([1, 2]);
    const f = jit((x: V) => np.multiply(x, w));
    expect((f(f64([1, 1])) as NDArray).toArray()).toEqual([1, 2]);
    w = f64([5, 5]);
    expect((f(f64([1, 1])) as NDArray).toArray()).toEqual([1, 2]); // cached: still the old w
  });
  it("valueAndGrad through jit with pytrees and aux", () => {
    const loss = (p: V, x: V) => {
      const y = np.tanh(np.add(np.matmul(x, p.w), p.b));
      return [np.mean(np.square(y)), { y }] as const;
    };
    const p = { w: np.multiply(np.ones([3, 2], { dtype: "float64" }), 0.1), b: f64([0.1, -0.2]) };
    const x = f64([[1, 2, 3], [0.5, -1, 0]]);
    const step = jit(valueAndGrad(loss, { hasAux: true }));
    const [[v, aux], g] = step(p, x);
    const [[v0, aux0], g0] = valueAndGrad(loss, { hasAux: true })(p, x);
    expectClose(v, v0, 1e-12);
    expectClose(aux, aux0, 1e-12);
    expectClose(g, g0, 1e-12);
  });
});

describe("jit and debugNans", () => {
  it("a NaN from a compiled program reruns it op by op and names the equation and line", async () => {
    const { config, FloatingPointError } = await import("@cotangent/core");
    const f = jit((x: V) => np.sum(np.log(np.subtract(x, 1))));
    const x = f64([0.5, 2]);
    expect(Number.isNaN(f(x).item())).toBe(true); // off: no check
    config.update("debugNans", true);
    try {
      let err: unknown;
      try {
        f(x);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FloatingPointError);
      expect(String(err)).toContain("log");
      expect(String(err)).toMatch(/jit\.test\.ts:\d+/);
      expect(() => grad(f)(x)).toThrow(FloatingPointError);
    } finally {
      config.update("debugNans", false);
    }
  });
});
