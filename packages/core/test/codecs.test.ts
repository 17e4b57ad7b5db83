/**
 * Codecs for arrays and pytrees: round trips in both JSON forms for random dtypes and
 * shapes, and every kind of bad payload rejected with its path in the message.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLeft, isRight } from "fp-ts/lib/Either.js";
import { type ArrayBase, DecodeError, codecs, np } from "@cotangent/core";

const bits = (x: ArrayBase): number[] => {
  const b = x.toTypedArray();
  return Array.from(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
};

const dtypes = ["float32", "float64", "int32", "bool"] as const;

/** A random array of a random dtype and shape, with finite and (for floats) non-finite values. */
const arbArray = fc
  .tuple(fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const elem =
      dtype === "bool"
        ? fc.integer({ min: 0, max: 1 })
        : dtype === "int32"
          ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
          : fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(NaN, Infinity, -Infinity, 0.1, 1e-40));
    return fc.array(elem, { minLength: size, maxLength: size }).map((v) => np.array(Float64Array.from(v), { dtype, shape }));
  });

/** The message of a failed decode (the test fails if it succeeds). */
const failure = (codec: Parameters<typeof codecs.decode>[0], value: unknown, root?: string): DecodeError => {
  const r = codecs.decode(codec, value, root);
  if (!isLeft(r)) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  expect(r.left).toBeInstanceOf(DecodeError);
  return r.left;
};

describe("codecs.array", () => {
  it("round-trips every dtype and shape bit for bit through base64 JSON", () => {
    fc.assert(
      fc.property(arbArray, (x) => {
        const c = codecs.array({ dtype: x.dtype, shape: x.shape }, { encoding: "base64" });
        const json = JSON.parse(JSON.stringify(codecs.encode(c, x)));
        const back = codecs.decodeOrThrow(c, json);
        expect([back.dtype, back.shape]).toEqual([x.dtype, x.shape]);
        expect(bits(back)).toEqual(bits(x));
      }),
    );
  });

  it("round-trips through nested numbers (non-finite values spelled as strings; float64 exact)", () => {
    fc.assert(
      fc.property(arbArray, (x) => {
        const c = codecs.array({ dtype: x.dtype, shape: x.shape });
        const json = JSON.parse(JSON.stringify(codecs.encode(c, x)));
        const back = codecs.decodeOrThrow(c, json);
        expect([back.dtype, back.shape]).toEqual([x.dtype, x.shape]);
        // Equal as values: JSON numbers cannot keep -0 or NaN payloads.
        expect(Array.from(back.toTypedArray(), (v) => (v === 0 ? 0 : v))).toEqual(Array.from(x.toTypedArray(), (v) => (v === 0 ? 0 : v)));
      }),
    );
  });

  it("free axes (-1 or null) take any length", () => {
    const c = codecs.array({ dtype: "float32", shape: [-1, 2] });
    expect(codecs.decodeOrThrow(c, [[1, 2], [3, 4], [5, 6]]).shape).toEqual([3, 2]);
    expect(codecs.decodeOrThrow(codecs.array({ shape: [null] }), [1, 2, 3]).shape).toEqual([3]);
    expect(failure(c, [[1, 2, 3]]).message).toContain("expected float32[?,2], got float32[1,3]");
  });

  it("names what is wrong, and where inside the array", () => {
    const c = codecs.array({ dtype: "int32", shape: [2, 2] });
    expect(failure(c, [[1, 2], [3]]).message).toMatch(/ragged: expected a list of 2 here, got a list of 1 \(at element \[1\]\)/);
    expect(failure(c, [[1, 2], [3, 4.5]]).message).toMatch(/expected an int32 element, got 4.5 \(at element \[1\]\[1\]\)/);
    expect(failure(c, [[1, 2], [3, "x"]]).message).toMatch(/expected an int32 element, got "x"/);
    expect(failure(c, "hello").message).toMatch(/expected an int32 element, got "hello"/);
    expect(failure(c, { dtype: "float32", shape: [2, 2], base64: "AAAA" }).message).toContain("expected int32[2,2], got float32[2,2]");
    expect(failure(c, { dtype: "int32", shape: [2, 2], base64: "AAAA" }).message).toMatch(/base64 holds 3 bytes, but int32\[2,2\] needs 16/);
    expect(failure(c, { dtype: "int32", shape: [2, 2], base64: "A!==" }).message).toMatch(/not valid base64/);
    expect(failure(c, { dtype: "int32", shape: [2], data: [1, 2] }).message).toMatch(/as nested numbers or \{dtype, shape, base64\}/);
    expect(failure(codecs.array({ dtype: "bool" }), { dtype: "bool", shape: [1], base64: "Ag==" }).message).toMatch(/holds the byte 2/);
  });

  it("refuses a random corruption of a valid payload, never decoding it to a different array silently", () => {
    fc.assert(
      fc.property(arbArray, fc.nat(), fc.constantFrom("shape", "dtype", "bytes"), (x, n, what) => {
        fc.pre(x.size > 0);
        const c = codecs.array({ dtype: x.dtype, shape: x.shape }, { encoding: "base64" });
        const json = codecs.encode(c, x) as { dtype: string; shape: number[]; base64: string };
        const bad = { ...json };
        if (what === "shape") bad.shape = json.shape.map((d, i) => (i === n % json.shape.length ? d + 1 : d));
        else if (what === "dtype") bad.dtype = dtypes[(dtypes.indexOf(x.dtype) + 1 + (n % 3)) % 4]!;
        else bad.base64 = json.base64.slice(0, -4);
        fc.pre(x.ndim > 0 || what !== "shape");
        expect(isRight(codecs.decode(c, bad))).toBe(false);
      }),
    );
  });

  it("rejects a bad spec with a ValueError", () => {
    expect(() => codecs.array({ dtype: "float16" as never })).toThrow(/codecs.array: dtype must be one of/);
    expect(() => codecs.array({ shape: [2.5] })).toThrow(/shape must be a list of lengths/);
  });
});

describe("codecs.tree and codecs.like", () => {
  const Layer = (i: number, o: number) => codecs.tree({ w: codecs.array({ dtype: "float32", shape: [i, o] }), b: codecs.array({ dtype: "float32", shape: [o] }) });
  const Params = codecs.tree({ layers: [Layer(4, 3), Layer(3, 3), Layer(3, 2)], scale: codecs.number });
  const good = {
    layers: [
      { w: np.zeros([4, 3]).toArray(), b: [0, 0, 0] },
      { w: np.zeros([3, 3]).toArray(), b: [0, 0, 0] },
      { w: np.zeros([3, 2]).toArray(), b: [0, 0] },
    ],
    scale: 1,
  };

  it("decodes nested params into arrays", () => {
    const p = codecs.decodeOrThrow(Params, good, "params");
    expect(p.layers[2].w.shape).toEqual([3, 2]);
    expect(p.scale).toBe(1);
  });

  it("reports each mismatch by its path under the root name", () => {
    const bad = structuredClone(good);
    bad.layers[2]!.w = np.zeros([3, 5]).toArray();
    expect(failure(Params, bad, "params").message).toContain("params.layers[2].w: expected float32[3,2], got float32[3,5]");
    const two = structuredClone(good) as any;
    two.layers[0].b = [0, 0];
    two.scale = "big";
    const e = failure(Params, two, "params");
    expect(e.failures.map((f) => f.path)).toEqual(["params.layers[0].b", "params.scale"]);
    expect(e.message).toContain("2 mismatches");
  });

  it("refuses unknown and missing keys and wrong list lengths", () => {
    expect(failure(Params, { ...good, sclae: 1 }).message).toMatch(/sclae: unexpected key/);
    const { scale: _s, ...noScale } = good;
    expect(failure(Params, noScale).message).toMatch(/scale: expected number, got nothing/);
    expect(failure(Params, { ...good, layers: good.layers.slice(0, 2) }).message).toMatch(/layers: expected a list of 3, got a list of 2/);
  });

  it("like(params) checks a payload against a model's own arrays", () => {
    const params = { w: np.ones([2, 3]), b: np.zeros([3]), step: 0 };
    const C = codecs.like(params, { encoding: "base64" });
    const json = JSON.parse(JSON.stringify(codecs.encode(C, params)));
    const back = codecs.decodeOrThrow(C, json) as typeof params;
    expect(back.w.toArray()).toEqual(params.w.toArray());
    expect(failure(C, { ...json, w: { dtype: "float32", shape: [3, 2], base64: json.w.base64 } }, "params").message).toContain("params.w: expected float32[2,3], got float32[3,2]");
  });
});
