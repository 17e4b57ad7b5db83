/**
 * More of jax.numpy (issue 11 item 4): each function against NumPy's answers (the fixture
 * written by fixtures/np_extras_ref.py with Debian's numpy), gradients against finite
 * differences in float64, vmap against a loop, JAX's values at the kinks, and typed errors.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, CotangentError, NDArray, ValueError, grad, jit, np, tree, vmap } from "@cotangent/core";
import { checkGrad, checkVmap, expectClose, typecheckTransforms } from "./harness.js";

type Encoded = { nd: unknown; kind: "float" | "int" | "bool" } | unknown;
const fixture = JSON.parse(readFileSync(new URL("./fixtures/np_extras_ref.json", import.meta.url), "utf8")) as {
  numpy: string;
  cases: [string, Encoded[], Record<string, Encoded>, Encoded][];
};

const finite = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(finite) : v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v;
const isNd = (v: unknown): v is { nd: unknown; kind: string } => typeof v === "object" && v !== null && "nd" in v;
/** A fixture value as the argument np gets: arrays as float64 (int32, bool), the rest as is. */
const decode = (v: Encoded): unknown => {
  if (isNd(v)) return np.array(finite(v.nd) as number[], { dtype: v.kind === "float" ? "float64" : v.kind === "int" ? "int32" : "bool" });
  if (Array.isArray(v)) return v.map(decode);
  return finite(v);
};
/** Values with NaN made comparable. */
const plain = (v: unknown): unknown => {
  if (v instanceof NDArray) return plain(v.toArray());
  if (Array.isArray(v)) return v.map(plain);
  return typeof v === "number" && Number.isNaN(v) ? "NaN" : v;
};
const f64 = (v: unknown) => np.array(v as number[], { dtype: "float64" }) as NDArray;

/** How NumPy's keyword arguments map onto our options (the same names, except where listed). */
const callWith = (name: string, args: unknown[], kw: Record<string, unknown>): unknown => {
  const fn = (np as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
  if (name === "meshgrid") return fn(...args, kw);
  if (name === "einsum") return fn(...args);
  if (name === "convolve" || name === "correlate") return fn(args[0], args[1], { mode: args[2] });
  if (name === "histogram" && args.length > 1) return fn(args[0], { bins: args[1], ...kw });
  return Object.keys(kw).length ? fn(...args, kw) : fn(...args);
};

/** Where JAX deliberately differs from NumPy, the fixture's answer is replaced by JAX's. */
const jaxOverride: Record<string, (args: unknown[], want: unknown) => unknown> = {
  // JAX: sinc(±inf) = 0 (NumPy's sin(inf)/inf is NaN).
  sinc: (args, want) => (want as unknown[]).map((w, i) => (Math.abs((args[0] as NDArray).toArray()[i]) === Infinity ? 0 : w)),
};

describe("np functions of issue 11 against NumPy", () => {
  const cases = fixture.cases;
  it(`covers the fixture (numpy ${fixture.numpy}, ${cases.length} cases)`, () => {
    expect(cases.length).toBeGreaterThan(100);
  });
  for (const [i, [name, rawArgs, rawKw, rawWant]] of cases.entries()) {
    it(`${name} #${i}`, () => {
      const args = rawArgs.map(decode);
      const kw = Object.fromEntries(Object.entries(rawKw).map(([k, v]) => [k, decode(v)]));
      const got = callWith(name, args, kw);
      let want = plain(decode(rawWant));
      if (jaxOverride[name]) want = jaxOverride[name]!(args, want);
      const g = plain(Array.isArray(got) ? got : got);
      // Compared elementwise with a relative tolerance: float64 throughout.
      const flatG = [g].flat(Infinity) as unknown[];
      const flatW = [want].flat(Infinity) as unknown[];
      expect(flatG.length, `${name}: ${JSON.stringify(g)} vs ${JSON.stringify(want)}`).toBe(flatW.length);
      flatG.forEach((x, k) => {
        const w = flatW[k];
        if (typeof x === "number" && typeof w === "number" && x !== w) {
          expect(Math.abs(x - w) / Math.max(1, Math.abs(w)), `${name} element ${k}: ${x} vs ${w}`).toBeLessThan(1e-12);
        } else expect(x, `${name} element ${k}`).toEqual(typeof w === "boolean" && typeof x === "number" ? Number(w) : w);
      });
      // Shapes too (the flattening above would hide a transposed result); NumPy's Python scalars are 0-d.
      const shapes = (v: unknown): unknown => (v instanceof NDArray ? v.shape : Array.isArray(v) ? v.map(shapes) : null);
      const wantShapes = (v: Encoded): unknown => (isNd(v) ? (decode(v) as NDArray).shape : Array.isArray(v) ? v.map(wantShapes) : []);
      expect(shapes(got)).toEqual(wantShapes(rawWant));
    });
  }
});

describe("special functions: JAX's values and gradients at the kinks", () => {
  it("hypot: gradient (0.5, 0.5) at the origin, x/r elsewhere, no overflow", () => {
    const g = grad((a: ArrayBase, b: ArrayBase) => np.hypot(a, b), { argnums: [0, 1] })(f64(0), f64(0)) as NDArray[];
    expect(g.map((x) => x.item())).toEqual([0.5, 0.5]);
    expect(np.hypot(f64(3e300), f64(4e300)).item()).toBeCloseTo(5e300, -290);
    expect(np.hypot(f64(NaN), f64(-Infinity)).item()).toBe(Infinity);
    checkGrad((a, b) => np.sum(np.hypot(a, b)), [f64([0.3, -2, 4]), f64([1.5, 0.7, -0.1])]);
  });

  it("sinc: 1 at 0, first derivative 0 and second -pi^2/3 there", () => {
    expect(np.sinc(f64(0)).item()).toBe(1);
    const d1 = grad((x: ArrayBase) => np.sinc(x));
    const d2 = grad(d1);
    expect(d1(f64(0)).item()).toBe(0);
    expect(d2(f64(0)).item()).toBeCloseTo(-(Math.PI ** 2) / 3, 12);
    checkGrad((x) => np.sum(np.sinc(x)), [f64([0.3, -1.7, 2.5, 1e-3])]);
    expect(np.sinc(np.array([1, 0], { dtype: "int32" })).dtype).toBe("float32");
  });

  it("logaddexp and logaddexp2: JAX's rule at infinities and ties", () => {
    for (const [f, base] of [[np.logaddexp, Math.E], [np.logaddexp2, 2]] as const) {
      const g = (a: number, b: number) => (grad((x: ArrayBase, y: ArrayBase) => f(x, y), { argnums: [0, 1] })(f64(a), f64(b)) as NDArray[]).map((v) => v.item());
      expect(g(-Infinity, 0)).toEqual([0, 1]);
      // A tie splits evenly (up to the rounding of exp(x - out), as in JAX).
      for (const v of g(2, 2)) expect(v).toBeCloseTo(0.5, 15);
      expect(g(Infinity, Infinity)).toEqual([1, 1]);
      expect(g(-Infinity, -Infinity).every(Number.isNaN)).toBe(true);
      expect(f(f64(-Infinity), f64(-Infinity)).item()).toBe(-Infinity);
      const [ga] = g(0.3, -1.2);
      expect(ga).toBeCloseTo(base ** 0.3 / (base ** 0.3 + base ** -1.2), 12);
      checkGrad((a, b) => np.sum(f(a, b)), [f64([0.3, -2, 4]), f64([1.5, 0.7, -0.1])]);
      // Second order goes through the rule itself (it calls the function again).
      const h = grad(grad((x: ArrayBase) => f(x, f64(0.5))))(f64(0.2)).item();
      const fd = (grad((x: ArrayBase) => f(x, f64(0.5)))(f64(0.2 + 1e-5)).item() - grad((x: ArrayBase) => f(x, f64(0.5)))(f64(0.2 - 1e-5)).item()) / 2e-5;
      expect(h).toBeCloseTo(fd, 7);
    }
  });

  it("heaviside: gradient only to x2 where x1 == 0", () => {
    const g = grad((a: ArrayBase, b: ArrayBase) => np.sum(np.heaviside(a, b)), { argnums: [0, 1] })(f64([-1, 0, 2]), f64([0.5, 0.5, 0.5])) as NDArray[];
    expect(g.map((x) => x.toArray())).toEqual([[0, 0, 0], [0, 1, 0]]);
  });

  it("isclose/allclose promote to float and return bool arrays; options as JAX's keywords", () => {
    expect(np.isclose(np.array([1, 2], { dtype: "int32" }), 1).dtype).toBe("bool");
    expect(np.allclose(f64([1, 2]), f64([1, 2.1]), { atol: 0.2 }).item()).toBe(1);
    expect(np.allclose(f64([1, 2]), f64([1, 2.1]), 0, 0.05).item()).toBe(0);
    expect(() => np.isclose(f64(1), f64(1), { rtoll: 1 } as never)).toThrow(/did you mean 'rtol'/);
  });

  it("clip takes array bounds (broadcast), options, and splits the gradient at ties", () => {
    const x = f64([[0, 1, 2], [3, 4, 5]]);
    expect(np.clip(x, f64([1, 2, 3]), { max: f64([[2], [4]]) }).toArray()).toEqual([[1, 2, 2], [3, 4, 4]]);
    expect(np.clip(x, null, 2).toArray()).toEqual([[0, 1, 2], [2, 2, 2]]);
    expect(grad((v: ArrayBase) => np.sum(np.clip(v, 1, 3)))(f64([0, 1, 2, 3, 4])).toArray()).toEqual([0, 0.5, 1, 0.5, 0]);
    checkGrad((a, lo, hi) => np.sum(np.clip(a, lo, hi)), [f64([[0.1, 1.3, 2.2], [3.1, 4.4, -5]]), f64([1.1, 0.5, -7]), f64([[2.05], [4.1]])]);
  });
});

describe("matrices and shapes", () => {
  const m = f64([[0.5, -1.2, 2.1, 0.3], [1.7, 0.4, -0.8, 2.2], [-0.6, 1.1, 0.9, -1.4]]);
  it("gradients of diag, diagonal, triu, tril, roll, kron and cross match finite differences", () => {
    checkGrad((a) => np.sum(np.square(np.diag(a, 1))), [f64([0.3, -1.2, 2])]);
    checkGrad((a) => np.sum(np.square(np.diag(a, -1))), [m]);
    checkGrad((a) => np.sum(np.square(np.diagonal(np.reshape(a, [3, 2, 2]), 0, 2, 0))), [m]);
    checkGrad((a) => np.sum(np.square(np.triu(a, 1))), [m]);
    checkGrad((a) => np.sum(np.square(np.tril(a, -1))), [m]);
    checkGrad((a) => np.sum(np.multiply(np.roll(a, [1, -2], [0, 1]), m)), [m]);
    checkGrad((a, b) => np.sum(np.square(np.kron(a, b))), [f64([[0.3, -1], [2, 0.5]]), f64([1.5, -0.7, 0.2])]);
    checkGrad((a, b) => np.sum(np.square(np.cross(a, b))), [f64([[0.3, -1, 2], [1, 2, 3]]), f64([1.5, -0.7, 0.2])]);
  });

  it("vmap of each equals a loop", () => {
    const b = f64([[[0.5, -1.2, 2.1], [1.7, 0.4, -0.8], [-0.6, 1.1, 0.9]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);
    checkVmap((a) => np.diag(a, 1), [b]);
    checkVmap((a) => np.diagonal(a, -1), [b]);
    checkVmap((a) => np.triu(a), [b]);
    checkVmap((a) => np.tril(a, 1), [b]);
    checkVmap((a) => np.roll(a, 2), [b]);
    checkVmap((a, c) => np.kron(a, c), [b, b]);
    checkVmap((a, c) => np.cross(a, c), [b, np.flip(b, 1) as NDArray]);
    checkVmap((v) => np.diag(v), [f64([[1, 2], [3, 4]])]);
  });

  it("roll with a traced shift is a dynamic slice: works under jit and vmap", () => {
    const x = f64([0, 1, 2, 3, 4]);
    const shifts = np.array([0, 1, -2, 7], { dtype: "int32" });
    const rolled = vmap((s: ArrayBase) => np.roll(x, s, 0))(shifts);
    expect(rolled.toArray()).toEqual([0, 1, -2, 7].map((s) => (np.roll(x, s, 0) as NDArray).toArray()));
    expect(jit((s: ArrayBase) => np.roll(x, s))(np.array(3, { dtype: "int32" })).toArray()).toEqual([2, 3, 4, 0, 1]);
  });

  it("meshgrid: sparse outputs broadcast to the dense ones, bad indexing is a ValueError", () => {
    const [xs, ys] = np.meshgrid(f64([1, 2, 3]), f64([4, 5]), { sparse: true }) as [NDArray, NDArray];
    expect([xs.shape, ys.shape]).toEqual([[1, 3], [2, 1]]);
    expect(() => np.meshgrid(f64([1]), { indexing: "yx" as never })).toThrow(/did you mean 'xy'/);
    expect(() => np.meshgrid(f64([1]), { copy: false })).toThrow(ValueError);
  });

  it("bad inputs are typed errors naming the function", () => {
    const bad: [() => unknown, RegExp][] = [
      [() => np.diag(f64([[[1]]])), /np.diag/],
      [() => np.diagonal(f64([1, 2])), /np.diagonal/],
      [() => np.diagonal(m, 0, 1, -1), /cannot be the same/],
      [() => np.triu(f64([1, 2])), /at least 2 dimensions/],
      [() => np.cross(f64([1, 2, 3, 4]), f64([1, 2, 3])), /2 or 3 components/],
      [() => np.roll(m, [1, 2, 3], [0, 1]), /pair up/],
      [() => np.roll(m, 1.5 as never), /shift must be/],
    ];
    for (const [f, re] of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(CotangentError);
      expect(String((err as Error).message) + ((err as CotangentError).op ?? ""), String(re)).toMatch(re);
    }
  });
});

describe("NaN-ignoring reductions", () => {
  const x = f64([[1.5, NaN, -2], [NaN, NaN, NaN], [0.25, 3, NaN]]);
  it("all-NaN slices: NaN for max/min/mean/var, 0 for sum, 1 for prod, -1 for argmax/argmin (JAX)", () => {
    const row = (v: ArrayBase) => (plain(v) as unknown[])[1];
    expect(row(np.nanMax(x, 1))).toBe("NaN");
    expect(row(np.nanMin(x, 1))).toBe("NaN");
    expect(row(np.nanMean(x, 1))).toBe("NaN");
    expect(row(np.nanVar(x, 1))).toBe("NaN");
    expect(row(np.nanSum(x, 1))).toBe(0);
    expect(row(np.nanProd(x, 1))).toBe(1);
    expect(row(np.nanArgmax(x, 1))).toBe(-1);
    expect(row(np.nanArgmin(x, 1))).toBe(-1);
  });

  it("NaN entries get a zero gradient; the others match finite differences", () => {
    for (const f of [np.nanSum, np.nanMean, np.nanMax, np.nanMin, np.nanProd, np.nanVar, np.nanStd]) {
      const g = grad((v: ArrayBase) => np.sum(f(v, 1)))(f64([[1.5, NaN, -2], [0.5, 0.25, NaN]])) as NDArray;
      expect(g.toArray()[0][1], f.name).toBe(0);
      expect(g.toArray()[1][2], f.name).toBe(0);
      expect((plain(g) as unknown[][]).flat().includes("NaN")).toBe(false);
      checkGrad((v) => np.sum(f(v, 0)), [f64([[1.5, 0.3, -2], [0.5, 0.25, 1.1]])]);
    }
  });

  it("integer inputs reduce as the plain functions; vmap equals a loop", () => {
    const i = np.array([[1, 2], [3, 4]], { dtype: "int32" });
    expect(np.nanSum(i).dtype).toBe("int32");
    expect(np.nanMean(i).item()).toBe(2.5);
    checkVmap((v) => np.nanMean(v), [x]);
    checkVmap((v) => np.nanArgmax(v), [x]);
    checkVmap((v) => np.nanCumsum(v), [x]);
    checkVmap((v) => np.nanCumprod(v, 0), [x]);
    checkGrad((v) => np.sum(np.nanCumprod(v, 1)), [f64([[1.5, 0.3, -2], [0.5, 0.25, 1.1]])]);
  });
});

describe("signals", () => {
  const u = f64([0.5, -1.2, 2.1, 0.3, 1.7]);
  const v = f64([0.4, -0.8, 2.2]);
  it("convolve and correlate: gradients in both inputs, every mode; vmap equals a loop", () => {
    for (const mode of ["full", "same", "valid"] as const) {
      checkGrad((a, b) => np.sum(np.square(np.convolve(a, b, mode))), [u, v]);
      checkGrad((a, b) => np.sum(np.square(np.correlate(a, b, { mode }))), [v, u]);
    }
    checkVmap((a, b) => np.convolve(a, b, "same"), [f64([[1, 2, 3, 4], [0.5, -1, 2, 0]]), f64([[1, -1], [2, 0.5]])]);
    expect(np.convolve(np.array([1, 2, 3], { dtype: "int32" }), np.array([1, 1], { dtype: "int32" })).dtype).toBe("float32");
    expect(() => np.convolve(u, v, "middle" as never)).toThrow(/did you mean 'same'|must be one of/);
    expect(() => np.convolve(f64([[1]]), v)).toThrow(/1-D/);
  });

  it("interp: gradients in x, xp and fp; extrapolation; traced under jit and vmap", () => {
    const xp = f64([0, 1, 2.5, 4]);
    const fp = f64([1, 3, -1, 2]);
    const xs = f64([-0.5, 0.3, 1.2, 3.3, 4.5]);
    checkGrad((x, p, q) => np.sum(np.square(np.interp(x, p, q))), [f64([0.3, 1.2, 3.3]), xp, fp]);
    expect(np.interp(f64([-1, 5]), xp, fp, "extrapolate", "extrapolate").toArray()).toEqual([-1, 4]);
    expect(() => np.interp(xs, xp, fp, "clamp" as never)).toThrow(/'extrapolate'/);
    expectClose(jit((x: ArrayBase) => np.interp(x, xp, fp))(xs), np.interp(xs, xp, fp), 1e-15);
    checkVmap((x) => np.interp(x, xp, fp, { period: 3 }), [f64([[0.5, 2], [4, -1]])]);
    // Coinciding xp: no NaN in the gradient (JAX's guard), and the step is taken.
    const g = grad((p: ArrayBase) => np.sum(np.interp(f64([0.5, 1, 1.5]), p, f64([0, 1, 2]))))(f64([0, 1, 1])) as NDArray;
    expect((g.toArray() as number[]).some(Number.isNaN)).toBe(false);
  });

  it("histogram: the traced path (jit) counts as the concrete one; weights are differentiable", () => {
    const a = f64([0.1, 0.4, 0.4, 1.0, 2.0, 2.5, 3.9, 4.0, -1.0, 0.0]);
    for (const opts of [{ bins: 4 }, { bins: 3, range: [0, 3] as [number, number] }, { bins: f64([-1, 0, 0.5, 2, 4]) }, { bins: 5, density: true }]) {
      const eager = np.histogram(a, opts);
      const traced = jit((x: ArrayBase) => np.histogram(x, opts))(a) as ArrayBase[];
      expectClose(traced, eager, 1e-12);
    }
    const w = f64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const g = grad((ws: ArrayBase) => np.sum(np.multiply(np.histogram(a, 4, null, ws)[0], f64([1, 10, 100, 1000]))))(w) as NDArray;
    // Edges -1, 0.25, 1.5, 2.75, 4: each weight lands in its value's bin.
    expect(g.toArray()).toEqual([1, 10, 10, 10, 100, 100, 1000, 1000, 1, 1]);
    expect(() => np.histogram(a, 1e15)).toThrow(ValueError);
    expect(() => np.histogram(a, f64([1, 0]))).toThrow(/increase/);
    expect(() => np.histogram(f64([1, NaN]))).toThrow(/not finite/);
  });
});

describe("einsum: repeated subscripts and ellipses", () => {
  const a = f64([[0.5, -1.2, 2.1], [1.7, 0.4, -0.8], [-0.6, 1.1, 0.9]]);
  it("gradients through diagonals, traces and broadcast ellipses", () => {
    checkGrad((x) => np.einsum("ii", x), [a]);
    checkGrad((x) => np.sum(np.square(np.einsum("ii->i", x))), [a]);
    checkGrad((x, y) => np.sum(np.square(np.einsum("...ij,...jk->...ik", x, y))), [np.reshape(f64([...a.toArray().flat(), ...a.toArray().flat()]), [2, 3, 3]) as NDArray, a]);
  });
  it("vmap of einsum with an ellipsis equals a loop; trace equals np.trace", () => {
    checkVmap((x, y) => np.einsum("...i,...i->...", x, y), [a, a]);
    expectClose(np.einsum("ii", a), np.trace(a), 1e-15);
  });
});

describe("toJSON and np.fromJSON", () => {
  it("float64 arrays round-trip bit for bit through JSON text, NaN, infinities and -0 included", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 0, maxLength: 12 }), fc.boolean(), (vals, nested) => {
        const n = vals.length;
        const sh = nested && n % 2 === 0 ? [2, 1, n / 2] : [n];
        const x = np.array(Float64Array.from(vals), { dtype: "float64", shape: sh }) as NDArray;
        const back = np.fromJSON(JSON.stringify(x), { dtype: "float64" }) as NDArray;
        expect(back.shape).toEqual(x.shape);
        const [a, b] = [x.toTypedArray(), back.toTypedArray()];
        a.forEach((v, i) => expect(Object.is(v, b[i]), `${v} vs ${b[i]}`).toBe(true));
      }),
      { numRuns: 100 },
    );
  });

  it("writes nested numbers (booleans for bool), strings only for what JSON cannot hold", () => {
    expect(f64([[1.5, NaN], [-Infinity, -0]]).toJSON()).toEqual([[1.5, "NaN"], ["-Infinity", "-0"]]);
    expect(JSON.stringify({ w: np.array([1, 2], { dtype: "int32" }), b: np.array([true, false]), s: f64(Infinity) })).toBe('{"w":[1,2],"b":[true,false],"s":"Infinity"}');
    expect(np.array([["NaN", 1]] as never, { dtype: "float64" }).toArray()[0][0]).toBeNaN();
    expect(np.fromJSON("[true, false]").dtype).toBe("bool");
    expect(np.fromJSON('"-Infinity"').item()).toBe(-Infinity);
  });

  it("a tracer's toJSON is a ConcretizationError; bad JSON is a ValueError", () => {
    expect(() => jit((x: ArrayBase) => (JSON.stringify(x), x))(f64(1))).toThrow(/toJSON\(\)/);
    expect(() => np.fromJSON("[1, 2")).toThrow(ValueError);
    expect(() => np.fromJSON('["nan"]')).toThrow(/not a number or boolean/);
    expect(() => np.fromJSON('{"a": 1}')).toThrow(ValueError);
  });
});

describe("tree.reduce and tree.leavesWithPath", () => {
  const params = { b: [f64([1, 2]), null, { c: 3 }], a: f64([[1, 2, 3]]) };
  it("leavesWithPath lists each leaf of tree.leaves with its JAX key path", () => {
    const withPath = tree.leavesWithPath(params);
    expect(withPath.map(([p]) => p)).toEqual([["a"], ["b", 0], ["b", 2, "c"]]);
    const leaves = tree.leaves(params);
    withPath.forEach(([, l], i) => expect(l).toBe(leaves[i]));
    expect(withPath.map(([p]) => tree.keystr(p))).toEqual(["['a']", "['b'][0]", "['b'][2]['c']"]);
    expect(tree.leavesWithPath(5)).toEqual([[[], 5]]);
  });

  it("reduce folds over the leaves in order, with or without an initial value", () => {
    expect(tree.reduce((n: number, p: ArrayBase | number) => n + (typeof p === "number" ? 1 : p.size), params, 0)).toBe(6);
    expect(tree.reduce((a: string, b: unknown) => `${a},${b}`, ["x", ["y", "z"]])).toBe("x,y,z");
    expect(() => tree.reduce((a: number) => a, { a: null })).toThrow(/no leaves/);
    expect(tree.reduce((a: number) => a, [], 7)).toBe(7);
    expect(() => tree.reduce(5 as never, [])).toThrow(ValueError);
  });
});

describe("the IR every transform makes of the new functions typechecks; jit equals eager", () => {
  const m = f64([[0.5, -1.2, 2.1], [1.7, 0.4, -0.8], [-0.6, 1.1, 0.9]]);
  const v = f64([0.3, -0.7, 1.9]);
  const cases: [string, (...a: ArrayBase[]) => unknown, NDArray[]][] = [
    ["hypot", (a, b) => np.hypot(a, b), [v, f64([1, 0, -2])]],
    ["sinc", (a) => np.sinc(a), [v]],
    ["heaviside", (a, b) => np.heaviside(a, b), [v, f64(0.5)]],
    ["logaddexp", (a, b) => np.logaddexp(a, b), [v, f64([1, 0, -2])]],
    ["logaddexp2", (a, b) => np.logaddexp2(a, b), [v, f64([1, 0, -2])]],
    ["clip", (a, lo) => np.clip(a, lo, 1), [m, v]],
    ["diag", (a) => np.diag(a, -1), [v]],
    ["diagonal", (a) => np.diagonal(a, 1), [m]],
    ["triu", (a) => np.triu(a), [m]],
    ["roll", (a) => np.roll(a, [1, 2], [0, 1]), [m]],
    ["kron", (a, b) => np.kron(a, b), [m, v]],
    ["cross", (a, b) => np.cross(a, b), [m, v]],
    ["meshgrid", (a, b) => np.meshgrid(a, b), [v, v]],
    ["nanMean", (a) => np.nanMean(a, 0), [m]],
    ["nanStd", (a) => np.nanStd(a, 1), [m]],
    ["nanArgmin", (a) => np.nanArgmin(a, 1), [m]],
    ["nanCumsum", (a) => np.nanCumsum(a, 0), [m]],
    ["convolve", (a, b) => np.convolve(a, b, "same"), [f64([1, 2, 3, 4]), v]],
    ["correlate", (a, b) => np.correlate(a, b, "full"), [v, f64([1, 2, 3, 4])]],
    ["interp", (a, b, c) => np.interp(a, b, c), [f64([0.5, 2.2]), f64([0, 1, 3]), v]],
    ["interp period", (a, c) => np.interp(a, f64([0, 1, 3]), c, { period: 4 }), [f64([0.5, 3.5]), v]],
    ["histogram weights", (w) => np.histogram(v, 2, null, w), [f64([1, 2, 3])]],
    ["einsum diagonal", (a, b) => np.einsum("ii,...i->...i", a, b), [m, m]],
  ];
  for (const [name, f, args] of cases) {
    it(name, () => {
      typecheckTransforms(f, args);
      expectClose(jit(f)(...args), f(...args), 1e-12);
    });
  }
});
