import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ValueError, checkpoint, debug, grad, jit, jvp, lax, makeJaxpr, np, typecheck, vjp, vmap, linearize } from "@cotangent/core";
import { dce } from "../src/transforms/dce.js";

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void printed.push(a.join(" ")));
});
afterEach(() => vi.restoreAllMocks());

const f64 = (x: any) => np.array(x, { dtype: "float64" });

describe("debug.print formatting", () => {
  it("fills {} placeholders as JAX does, eagerly", () => {
    debug.print("x = {} and y = {}", np.array([1, 2]), 3);
    debug.print("{1} before {0}; {{braces}}", "a", "b");
    debug.print("loss {:.3f} lr {:.1e}", np.array(0.123456), 0.001);
    debug.print("tree {}", { b: np.array(2), a: [np.array(1), null] });
    debug.print("no values");
    expect(printed).toEqual(["x = [1., 2.] and y = 3", "b before a; {braces}", "loss 0.123 lr 1.0e-3", "tree {a: [1., null], b: 2.}", "no values"]);
  });
  it("rejects bad format strings and missing values with a ValueError", () => {
    expect(() => debug.print("{} {}", 1)).toThrow(/refers to value 1, but 1 value was given/);
    expect(() => debug.print("{x}", 1)).toThrow(ValueError);
    expect(() => debug.print("{", 1)).toThrow(/unmatched '\{'/);
    expect(() => debug.print("}", 1)).toThrow(/single '\}'/);
    expect(() => debug.print("{} {0}", 1)).toThrow(/cannot mix/);
    expect(() => debug.print("{:.2f}", np.array([1, 2]))).toThrow(/needs a number or a one-element array/);
    expect(() => debug.print("{:>5}", 1)).toThrow(/not supported/);
    expect(() => debug.print(3 as any)).toThrow(/format must be a string/);
    expect(() => debug.callback(3 as any, 1)).toThrow(/callback must be a function/);
  });
});

describe("debug.print inside transforms", () => {
  it("shows in the jaxpr and is never removed as dead code", () => {
    const j = makeJaxpr((x: any) => {
      debug.print("x {}", np.sin(x));
      return np.cos(x);
    })(np.array([1, 2]));
    expect(j.toString()).toContain("debug_callback[callback=print] b");
    const pruned = dce(j);
    expect(pruned.eqns.map((e) => e.primitive.name)).toEqual(["sin", "debug_callback", "cos"]);
    typecheck(j);
    expect(printed).toEqual([]);
  });
  it("runs at run time, not at trace time, once per call", () => {
    const f = (x: any) => {
      debug.print("x {}", x);
      return np.multiply(x, 2);
    };
    const j = makeJaxpr(f)(np.array(1));
    expect(printed).toEqual([]);
    vmap(f)(np.array([1, 2]));
    expect(printed).toEqual(["x 1.", "x 2."]);
  });
  it("under grad prints the primal values exactly once", () => {
    const f = (x: any) => {
      const y = np.sin(x);
      debug.print("y = {}", y);
      return np.sum(np.multiply(y, y));
    };
    const g = grad(f)(f64([0, 0.5]));
    expect(printed).toEqual(["y = [0.        , 0.47942554]"]);
    expect(g.toArray()[1]).toBeCloseTo(2 * Math.sin(0.5) * Math.cos(0.5), 12);
    printed = [];
    grad(grad((x: any) => { debug.print("x {}", x); return np.sin(x); }))(f64(0));
    expect(printed).toEqual(["x 0."]);
    printed = [];
    jvp((x: any) => { debug.print("x {}", x); return np.sin(x); }, [f64(1)], [f64(1)]);
    expect(printed).toEqual(["x 1."]);
    printed = [];
    const [, back] = vjp((x: any) => { debug.print("x {}", x); return np.sin(x); }, f64(2));
    back(f64(1));
    expect(printed).toEqual(["x 2."]);
    printed = [];
    const [, fLin] = linearize((x: any) => { debug.print("x {}", x); return np.sin(x); }, f64(3));
    fLin(f64(1));
    expect(printed).toEqual(["x 3."]);
  });
  it("under vmap prints once per batch element, unmapped values whole", () => {
    vmap((x: any, w: any) => { debug.print("x {} w {}", x, w); return np.multiply(x, w); }, { inAxes: [0, null] })(np.array([[1, 2], [3, 4]]), np.array(5));
    expect(printed).toEqual(["x [1., 2.] w 5.", "x [3., 4.] w 5."]);
    printed = [];
    vmap((x: any) => { debug.print("{}", x); return x; }, { inAxes: 1 })(np.array([[1, 2], [3, 4]]));
    expect(printed).toEqual(["[1., 3.]", "[2., 4.]"]);
  });
  it("in a scan prints every iteration, also under grad and vmap", () => {
    const f = (xs: any) =>
      lax.scan((c: any, x: any) => {
        debug.print("step c={} x={}", c, x);
        return [np.add(c, x), null];
      }, f64(0), xs)[0];
    f(f64([1, 2, 3]));
    expect(printed).toEqual(["step c=0. x=1.", "step c=1. x=2.", "step c=3. x=3."]);
    printed = [];
    grad(f)(f64([1, 2]));
    expect(printed).toEqual(["step c=0. x=1.", "step c=1. x=2."]);
    printed = [];
    vmap(f)(f64([[1, 2], [10, 20]]));
    expect(printed).toEqual(["step c=0. x=1.", "step c=0. x=10.", "step c=1. x=2.", "step c=10. x=20."]);
  });
  it("in a scan whose outputs are unused, still prints (an effectful body keeps the scan alive)", () => {
    const f = (x: any) => {
      lax.scan((c: any, y: any) => { debug.print("i {}", y); return [c, null]; }, f64(0), f64([1, 2]));
      return np.sin(x);
    };
    grad(f)(f64(1));
    expect(printed).toEqual(["i 1.", "i 2."]);
    printed = [];
    const j = makeJaxpr(f)(f64(1));
    expect(dce(j).eqns.map((e) => e.primitive.name)).toContain("scan");
  });
  it("under checkpoint is not duplicated by recomputation", () => {
    const body = checkpoint((x: any) => {
      const y = np.sin(x);
      debug.print("inside {}", y);
      return np.sin(y);
    });
    const g = grad((x: any) => np.sum(body(x)))(f64([0]));
    expect(printed).toEqual(["inside [0.]"]);
    expect(g.toArray()).toEqual([1]);
  });
  it("in cond and whileLoop bodies", () => {
    lax.cond(np.array(true), (x: any) => { debug.print("true {}", x); return x; }, (x: any) => { debug.print("false {}", x); return x; }, f64(1));
    lax.foriLoop(0, 3, (i: any, c: any) => { debug.print("i {}", i); return c; }, f64(0));
    expect(printed).toEqual(["true 1.", "i 0", "i 1", "i 2"]);
  });
  it("in a whileLoop under linearize, once per iteration (the tangent loop does not repeat it)", () => {
    const f = (x: any) =>
      lax.whileLoop((c: any) => np.less(c[0], 2), (c: any) => { debug.print("it {}", c[0]); return [np.add(c[0], 1), np.sin(c[1])]; }, [np.array(0, { dtype: "int32" }), x])[1];
    const [, fLin] = linearize(f, f64(1));
    fLin(f64(1));
    expect(printed).toEqual(["it 0", "it 1"]);
  });
});

describe("debug.print under jit", () => {
  it("keeps prints nested in control flow through the compiler's DCE and CSE, once per run", () => {
    const f = (x: any) => {
      const body = (c: any, y: any): [any, null] => {
        lax.cond(np.greater(y, 0), (z: any) => { debug.print("pos {}", z); return z; }, (z: any) => z, y);
        return [c, null];
      };
      // Two identical loops whose results nobody reads: neither is dead, nor are they one loop.
      lax.scan(body, f64(0), f64([1, -1, 2]));
      lax.scan(body, f64(0), f64([1, -1, 2]));
      debug.print("x {}", x);
      return np.sin(x);
    };
    const g = jit(f);
    g(f64(1));
    expect(printed).toEqual(["pos 1.", "pos 2.", "pos 1.", "pos 2.", "x 1."]);
    printed = [];
    grad(g)(f64(2));
    expect(printed).toEqual(["pos 1.", "pos 2.", "pos 1.", "pos 2.", "x 2."]);
  });
});

describe("debug.callback", () => {
  it("receives concrete arrays in the pytree structure it was given, under transforms", () => {
    const seen: unknown[] = [];
    const f = (x: any) => {
      debug.callback((v: any, tag: string) => seen.push([tag, v.a.toArray(), v.b]), { a: x, b: 7 }, "t");
      return np.sum(np.square(x));
    };
    grad(f)(f64([1, 2]));
    vmap(f)(f64([[3], [4]]));
    expect(seen).toEqual([
      ["t", [1, 2], 7],
      ["t", [3], 7],
      ["t", [4], 7],
    ]);
  });
});
