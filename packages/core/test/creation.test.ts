import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { inspect } from "node:util";
import { type ArrayBase, DTypeError, NDArray, ValueError, grad, np } from "@cotangent/core";

describe("np.array", () => {
  it("reads nested arrays, numbers, booleans and typed arrays", () => {
    const a = np.array([[1, 2], [3, 4]]);
    expect(a.shape).toEqual([2, 2]);
    expect(a.dtype).toBe("float32");
    expect(a.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.array(3.5).shape).toEqual([]);
    expect(np.array(3.5).item()).toBe(3.5);
    expect(np.array([true, false]).dtype).toBe("bool");
    expect(np.array([true, false]).toArray()).toEqual([true, false]);
    expect(np.array(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(np.array(new Float64Array([1, 2])).dtype).toBe("float64");
    expect(np.array([1, 2], { dtype: "float64" }).dtype).toBe("float64");
    expect(np.array([1.7, -2.2], { dtype: "int32" }).toArray()).toEqual([1, -2]);
    expect(np.array([]).shape).toEqual([0]);
    expect(np.array([[], []]).shape).toEqual([2, 0]);
  });
  it("round-trips any nested array of any shape (float64 exactly)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }), fc.double({ noNaN: true }), (shape, seed) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const flat = Array.from({ length: n }, (_, i) => seed * (i + 1));
        const build = (d: number, off: number): any => (d === shape.length ? flat[off] : Array.from({ length: shape[d]! }, (_, i) => build(d + 1, off * shape[d]! + i)));
        const nested = build(0, 0);
        const a = np.array(nested, { dtype: "float64" });
        expect(a.shape).toEqual(shape);
        expect(a.toArray()).toEqual(nested);
        expect(Array.from(a.toTypedArray())).toEqual(flat);
      }),
      { numRuns: 50 },
    );
  });
  it("is immutable: toTypedArray copies", () => {
    const a = np.array([1, 2, 3]);
    const t = a.toTypedArray();
    t[0] = 99;
    expect(a.toArray()).toEqual([1, 2, 3]);
    const shape = a.shape;
    shape[0] = 7;
    expect(a.shape).toEqual([3]);
  });
  it("rejects ragged arrays, bad elements and bad dtypes with clear messages", () => {
    expect(() => np.array([[1, 2], [3]])).toThrow(ValueError);
    expect(() => np.array([[1, 2], [3]])).toThrow(/np.array: ragged nested array: element at \[1\] has length 1 but the shape read from the first elements is \[2, 2\]\n  at packages\/core\/test\/creation.test.ts:\d+/);
    expect(() => np.array([1, [2]] as any)).toThrow(/ragged nested array: element at \[1\] has more nesting than the shape \[2\]/);
    expect(() => np.array([1, "a"] as any)).toThrow(/element at \[1\] is string, not a number or boolean/);
    expect(() => np.array([1], { dtype: "float16" as any })).toThrow(DTypeError);
    expect(() => np.array([1], { dtype: "float16" as any })).toThrow(/np.array: unknown dtype "float16"[\s\S]*hint: use 'float32', 'float64', 'int32' or 'bool'/);
    expect(() => np.array(new Float32Array(6), { shape: [4] })).toThrow(/shape \[4\] does not match the 6 values given/);
    expect(() => np.array([1, 2, 3], { shape: [2, 2] })).toThrow(/np.array: shape \[2, 2\] does not match the 3 values given/);
  });

  it("stacks arrays (and tracers) nested in lists, as np.array([x, y]) does in NumPy and JAX", () => {
    const f64 = (v: number[]) => np.array(v, { dtype: "float64" });
    const s = np.array([f64([1, 2]), f64([3, 4])]);
    expect([s.dtype, s.shape, s.toArray()]).toEqual(["float64", [2, 2], [[1, 2], [3, 4]]]);
    // JS numbers among arrays are weak: an int32 array keeps int32, a float among ints gives float32.
    const i = np.array([np.array(1, { dtype: "int32" }), 2]);
    expect([i.dtype, i.toArray()]).toEqual(["int32", [1, 2]]);
    expect(np.array([np.array(1, { dtype: "int32" }), 2.5]).dtype).toBe("float32");
    expect(np.array([[1, 2], f64([3, 4])]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.array([f64([1, 2]), f64([3, 4])], { dtype: "int32", shape: [4] }).toArray()).toEqual([1, 2, 3, 4]);
    expect(grad((x: ArrayBase) => np.sum(np.multiply(np.array([x, np.multiply(x, 3)]), np.array([1, 10]))))(np.array(2)).item()).toBe(31);
    expect(() => np.array([f64([1, 2]), f64([3])])).toThrow(/np.array: ragged nested array: element at \[1\] has shape \[1\] but element at \[0\] has \[2\]/);
    expect(() => np.array([f64([1]), null] as any)).toThrow(/element at \[1\] is null, not a number, boolean or array/);
  });
});

describe("constructors", () => {
  it("zeros, ones, full, *Like", () => {
    expect(np.zeros([2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(np.ones(2, { dtype: "int32" }).toArray()).toEqual([1, 1]);
    expect(np.full([2], 7).toArray()).toEqual([7, 7]);
    expect(np.full([1], true).dtype).toBe("bool");
    const x = np.array([[1, 2]], { dtype: "float64" });
    expect(np.zerosLike(x).dtype).toBe("float64");
    expect(np.onesLike(x).shape).toEqual([1, 2]);
    expect(np.fullLike(x, 3).toArray()).toEqual([[3, 3]]);
    expect(() => np.zeros([2, -1])).toThrow(/np.zeros|np.full: shape \[2, -1\] must hold non-negative integers/);
  });
  it("full takes an array or traced fill value that broadcasts to the shape, as jnp.full does", () => {
    const row = np.array([1, 2, 3], { dtype: "float64" });
    const f = np.full([2, 3], row);
    expect(f.shape).toEqual([2, 3]);
    expect(f.dtype).toBe("float64");
    expect(f.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(np.full([2], np.array(5, { dtype: "int32" }), { dtype: "float32" }).dtype).toBe("float32");
    expect(np.fullLike(np.zeros([2, 3], { dtype: "int32" }), row).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(np.fullLike(np.zeros([2, 3], { dtype: "int32" }), row).dtype).toBe("int32");
    // A traced scalar fills (it was a ConcretizationError) and the gradient flows to it.
    expect(grad((x: ArrayBase) => np.sum(np.full([4], x)))(np.array(2)).item()).toBe(4);
    // A fill that does not broadcast is a ShapeError naming np.full (it was "item: needs an array of size 1").
    expect(() => np.full([2], np.ones([3]))).toThrow(/^np\.full: cannot broadcast an array of shape \[3\] to shape \[2\]\n  at .*creation\.test\.ts:\d+/);
  });

  it("arange, linspace, eye", () => {
    expect(np.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(np.arange(4).dtype).toBe("int32");
    expect(np.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(np.arange(5, 1, -2).toArray()).toEqual([5, 3]);
    expect(np.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(np.linspace(0, 1, 4, { endpoint: false }).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(np.eye(2, 3, { k: 1 }).toArray()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(() => np.arange(0, 1, 0)).toThrow(/np.arange: step must be a finite non-zero number, got 0/);
    expect(() => np.arange(Infinity)).toThrow(/np.arange: bounds must be finite numbers, got start 0 and stop Infinity/);
    expect(() => np.arange(NaN, 3)).toThrow(ValueError);
  });
});

describe("printing", () => {
  it("summarises large arrays and shows dtype in inspect", () => {
    const s = np.arange(2000).toString();
    expect(s).toBe("[   0,    1,    2, ..., 1997, 1998, 1999]");
    expect(inspect(np.array([1, 2]))).toBe("Array([1., 2.], dtype=float32)");
    expect(np.array(2.5).toString()).toBe("2.5");
    expect(np.array([[1, 2], [3, 4]], { dtype: "int32" }).toString()).toBe("[[1, 2],\n [3, 4]]");
    expect(`${np.array([1.5])}`).toBe("[1.5]");
  });
  it("prints special values and float32 values by their shortest decimal, as NumPy", () => {
    expect(np.array([NaN, Infinity, -Infinity, -0, 0, 1.5]).toString()).toBe("[ nan,  inf, -inf,  -0.,   0.,  1.5]");
    expect(np.array(-0).toString()).toBe("-0.");
    expect(np.array([0.3, 0.7]).toString()).toBe("[0.3, 0.7]");
    expect(np.array(1 / 3).toString()).toBe("0.33333334");
    expect(np.array(1 / 3, { dtype: "float64" }).toString()).toBe("0.33333333");
    expect(np.array([1e-5, 1]).toString()).toBe("[1e-5,   1.]");
    expect(np.array(2.5e-7, { dtype: "float64" }).toString()).toBe("2.5e-7");
    // Integer digits are never rounded away (it printed 123456790); a value rounding to an integer keeps its point.
    expect(np.array(123456789.5, { dtype: "float64" }).toString()).toBe("123456789.5");
    expect(np.array(0.1 + 0.2, { dtype: "float64" }).toString()).toBe("0.3");
    expect(np.array([2.9999999999, 0.5], { dtype: "float64" }).toString()).toBe("[3. , 0.5]");
  });
  it("toString and Node's inspect print the same numbers at the same precision (one formatter)", () => {
    // Before: inspect printed 6 significant digits and toString 8, so 1/3 read 0.3333333 in the REPL.
    expect(inspect(np.array([1 / 3, 2]))).toBe("Array([0.33333334, 2.        ], dtype=float32)");
    expect(inspect(np.array(1 / 3, { dtype: "float64" }))).toBe("Array(0.33333333, dtype=float64)");
    const finite = fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: false }), fc.constantFrom(0, -0, 1e-7, 123456789.5));
    const arrays = fc.tuple(fc.constantFrom("float32", "float64", "int32", "bool") as fc.Arbitrary<"float32" | "float64" | "int32" | "bool">, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.array(finite, { minLength: 20, maxLength: 20 }));
    fc.assert(
      fc.property(arrays, ([dtype, rows, cols, values]) => {
        const raw = values.slice(0, rows * cols);
        const data = dtype === "int32" ? raw.map((v) => (Number.isFinite(v) ? Math.trunc(v) % 1000 : 0)) : dtype === "bool" ? raw.map((v) => v > 0) : raw;
        const x = np.reshape(np.array(data, { dtype }), [rows, cols]);
        // The inspect text is toString's, each continuation row indented under the first.
        const expected = `Array(${x.toString().split("\n").join("\n      ")}, dtype=${dtype})`;
        expect(inspect(x)).toBe(expected);
        expect(inspect(np.sum(x, { axis: 0 }))).toBe(`Array(${np.sum(x, { axis: 0 }).toString()}, dtype=${np.sum(x, { axis: 0 }).dtype})`);
      }),
      { numRuns: 60 },
    );
  });
  it("item and coercion of concrete arrays", () => {
    const x = np.array(4);
    expect(+x).toBe(4);
    expect(x instanceof NDArray).toBe(true);
    expect(() => np.array([1, 2]).item()).toThrow(/item: needs an array of size 1, got shape \[2\]/);
    expect(() => np.array([1, 2]).item()).toThrow(ValueError);
  });
});

describe("np.arange options", () => {
  it("takes the options object after any number of bounds, and refuses int32 overflow", () => {
    expect(np.arange(3, { dtype: "float32" }).toArray()).toEqual([0, 1, 2]);
    expect(np.arange(3, { dtype: "float32" }).dtype).toBe("float32");
    expect(np.arange(1, 7, 2, { dtype: "float64" }).toArray()).toEqual([1, 3, 5]);
    expect(np.arange(1, 3, { dtype: "float64" }).dtype).toBe("float64");
    expect(() => np.arange(3e9, 3e9 + 2)).toThrow(/np.arange: values from 3000000000 to 3000000001 do not fit in int32/);
    expect(np.arange(3e9, 3e9 + 2, 1, { dtype: "float64" }).toArray()).toEqual([3e9, 3e9 + 1]);
  });
});

describe("allocation", () => {
  it("an impossible size is a typed error, not an engine RangeError", () => {
    expect(() => np.zeros([2 ** 20, 2 ** 20])).toThrow(ValueError);
    expect(() => np.zeros([2 ** 20, 2 ** 20])).toThrow(/allocate: an array of 1099511627776 elements is too large to allocate \(at most 536870912 elements\)\n  at packages\/core\/test\/creation.test.ts:\d+/);
  });
});
