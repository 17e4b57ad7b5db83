import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ARRAY_BRAND, ArrayBase, ShapeError, ValueError, grad, isCotangentArray, np } from "@cotangent/core";

/** An array as another copy of the library (the other build) makes it: same brand, different class. */
const foreign = (values: number[], traced = false) => ({
  [Symbol.for("cotangent.array")]: true,
  shape: [values.length],
  dtype: "float32",
  aval: { shape: [values.length], dtype: "float32", toString: () => `f32[${values.length}]` },
  toTypedArray: () => {
    if (traced) throw new Error("concretization");
    return Float32Array.from(values);
  },
});

describe("arrays of another copy of the library", () => {
  it("carry the registered brand and are accepted by np functions and transforms", () => {
    expect(ARRAY_BRAND).toBe(Symbol.for("cotangent.array"));
    expect((np.ones([2]) as any)[Symbol.for("cotangent.array")]).toBe(true);
    const x = foreign([1, 2]) as unknown as ArrayBase;
    expect(x instanceof ArrayBase).toBe(false);
    expect(isCotangentArray(x)).toBe(true);
    expect(isCotangentArray({ shape: [1] })).toBe(false);
    expect(np.add(x, 1).toArray()).toEqual([2, 3]);
    expect(np.array(x, { dtype: "float64" }).dtype).toBe("float64");
    expect(grad((v: any) => np.sum(np.square(v)))(x).toArray()).toEqual([2, 4]);
  });
  it("a foreign tracer is a ValueError naming the op, not a wrong answer", () => {
    expect(() => np.add(foreign([1], true) as any, 1)).toThrow(ValueError);
    expect(() => np.add(foreign([1], true) as any, 1)).toThrow(/another copy of Cotangent/);
  });
});

describe("errors print once", () => {
  it("fields are not enumerable, so inspect shows the message and stack only", () => {
    let err: unknown;
    try {
      np.reshape(np.ones([6]), [4]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    const e = err as ShapeError;
    expect(e.op).toBe("np.reshape");
    expect(Object.keys(e)).toEqual([]);
    const printed = inspect(e);
    expect(printed).not.toMatch(/hint: undefined|detail:|op: '/);
    expect(printed.split(e.message.split("\n")[0]!).length - 1).toBe(1);
  });
});
