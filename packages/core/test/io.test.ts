/**
 * serialize / deserialize: the documented byte layout, bit-exact round trips of every
 * dtype and JS value, and one test per kind of bad input with its message checked.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, NDArray, ShapedArray, ValueError, deserialize, grad, np, random, serialize, tree } from "@cotangent/core";
import { crc32 } from "../src/io/crc32.js";

// ---------------------------------------------------------------- helpers

/** The raw bytes of an array's elements. */
const bytesOf = (x: ArrayBase): number[] => {
  const b = x.toTypedArray();
  return Array.from(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
};

/** Structural, bit-exact equality: arrays by dtype, shape and bytes; numbers by Object.is. */
const expectIdentical = (a: unknown, b: unknown, path = "root"): void => {
  if (a instanceof NDArray || b instanceof NDArray) {
    expect(b, path).toBeInstanceOf(NDArray);
    expect(a, path).toBeInstanceOf(NDArray);
    const [x, y] = [a as NDArray, b as NDArray];
    expect([y.dtype, y.shape], path).toEqual([x.dtype, x.shape]);
    expect(bytesOf(y), path).toEqual(bytesOf(x));
  } else if (Array.isArray(a)) {
    expect(Array.isArray(b), path).toBe(true);
    expect((b as unknown[]).length, path).toBe(a.length);
    a.forEach((v, i) => expectIdentical(v, (b as unknown[])[i], `${path}[${i}]`));
  } else if (typeof a === "object" && a !== null) {
    expect(Object.keys(b as object), path).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expectIdentical((a as any)[k], (b as any)[k], `${path}.${k}`);
  } else {
    expect(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`).toBe(true);
  }
};

/** Arrays of every dtype with random bit patterns (so NaN payloads, -0, subnormals, infinities all occur). */
const arbBitsArray: fc.Arbitrary<ArrayBase> = fc
  .tuple(fc.constantFrom("float32", "float64", "int32", "bool"), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const words = dtype === "float64" ? 2 * size : size;
    const special = fc.constantFrom(0x7fc00001, 0xffc00000, 0x7f800001, 0x80000000, 0x00000001, 0x7f800000, 0xffffffff);
    return fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), special), { minLength: words, maxLength: words }).map((ws) => {
      const u32 = Uint32Array.from(ws);
      const buf =
        dtype === "float32"
          ? new Float32Array(u32.buffer)
          : dtype === "float64"
            ? new Float64Array(u32.buffer)
            : dtype === "int32"
              ? new Int32Array(u32.buffer)
              : Uint8Array.from(ws, (w) => w & 1);
      return np.array(buf as any, { dtype: dtype as any, shape }) as ArrayBase;
    });
  });

const arbNumber = fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE), fc.integer());

const { node: arbTree } = fc.letrec((tie) => ({
  leaf: fc.oneof(arbBitsArray, arbNumber, fc.boolean(), fc.string({ unit: "binary" }), fc.constantFrom(null, undefined)),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(fc.string(), tie("node"), { maxKeys: 4 })),
}));

/** Bytes in the documented layout around a hand-written manifest, with correct checksums. */
const craft = (manifest: unknown, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array => {
  const json = new TextEncoder().encode(typeof manifest === "string" ? manifest : JSON.stringify(manifest));
  const start = 32 + Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(start + data.length);
  out.set(json, 32);
  out.set(data, start);
  const v = new DataView(out.buffer);
  [0x89, 0x43, 0x54, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].forEach((b, i) => v.setUint8(i, b));
  v.setUint32(8, version, true);
  v.setUint32(12, json.length, true);
  v.setUint32(16, data.length, true);
  v.setUint32(24, crc32(out.subarray(32)), true);
  v.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
};
const manifestOf = (tree: unknown) => ({ format: "cotangent-state", endianness: "little", tree });
const nd = (dtype: string, shape: number[], offset: number, nbytes: number) => ({ t: "nd", dtype, shape, offset, nbytes });

// ---------------------------------------------------------------- CRC-32

describe("crc32", () => {
  /** Bit-at-a-time CRC-32 (reflected polynomial 0xEDB88320), without the table. */
  const reference = (bytes: Uint8Array): number => {
    let c = 0xffffffff;
    for (const b of bytes) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };

  it("gives the standard check value", () => {
    // CRC-32/ISO-HDLC check value from Greg Cook's catalogue of parametrised CRC algorithms.
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("matches a bitwise reference and continues across pieces", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 50 }), (a, b) => {
        expect(crc32(a)).toBe(reference(a));
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        expect(crc32(b, crc32(a))).toBe(crc32(ab));
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------- round trips

describe("serialize / deserialize round trip", () => {
  it("is bit-exact for random trees of every dtype and JS value", () => {
    fc.assert(
      fc.property(arbTree, (t) => {
        const bytes = serialize(t);
        expectIdentical(t, deserialize(bytes));
        // Deterministic: the same tree gives the same bytes.
        expect(serialize(deserialize(bytes))).toEqual(bytes);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps NaN payloads, -0 and the JS special numbers", () => {
    const payloads = new Float32Array(new Uint32Array([0x7fc00001, 0xffbfffff, 0x7f800001, 0x80000000]).buffer);
    const x = np.array(payloads, { dtype: "float32" });
    const y = np.array(new Float64Array(new Uint32Array([0x00000001, 0x7ff00000, 0, 0x80000000]).buffer), { dtype: "float64" });
    const back = deserialize(serialize({ x, y, nums: [NaN, -0, 0, Infinity, -Infinity, 5e-324, 0.1] }));
    expect(Array.from(new Uint32Array(back.x.toTypedArray().buffer))).toEqual([0x7fc00001, 0xffbfffff, 0x7f800001, 0x80000000]);
    expect(Array.from(new Uint32Array(back.y.toTypedArray().buffer))).toEqual([0x00000001, 0x7ff00000, 0, 0x80000000]);
    expect(back.nums.map((v: number) => (Object.is(v, -0) ? "-0" : String(v)))).toEqual(["NaN", "-0", "0", "Infinity", "-Infinity", "5e-324", "0.1"]);
  });

  it("keeps any string: NUL, emoji, lone surrogates (JSON.stringify escapes them)", () => {
    const strings = ["", "\u0000", "héllo wörld", "🧮∂", "\ud800", "x\udfffy", "\"quotes\" and \\"];
    expect(deserialize(serialize(strings))).toEqual(strings);
    expect(deserialize(serialize({ [strings[4]!]: 1, "🧮": 2 }))).toEqual({ [strings[4]!]: 1, "🧮": 2 });
  });

  it("saves PRNG keys, scalars, size-0 arrays and a bare array at the root", () => {
    const state = { key: [...random.split(random.key(42))][1]!, step: np.array(7, { dtype: "int32" }), empty: np.zeros([0, 3]), flag: np.array([true, false]) };
    const back = deserialize(serialize(state));
    expectIdentical(state, back);
    expect(random.normal(back.key, [3]).toArray()).toEqual(random.normal(state.key, [3]).toArray());
    expectIdentical(np.arange(5), deserialize(serialize(np.arange(5))));
    expect(deserialize(serialize(3))).toBe(3);
    expect(deserialize(serialize(null))).toBe(null);
  });

  it("saves bool arrays made from typed arrays holding bytes other than 0 and 1", () => {
    const flags = np.array(Uint8Array.of(5, 0, 255), { dtype: "bool" });
    const wide = np.array(Int32Array.of(256, 0, -1), { dtype: "bool" });
    expect(flags.toArray()).toEqual([true, false, true]);
    expect(wide.toArray()).toEqual([true, false, true]);
    const back = deserialize(serialize({ flags, wide }));
    expect(back.flags.toArray()).toEqual([true, false, true]);
    expect(back.wide.toArray()).toEqual([true, false, true]);
  });

  it("writes the documented layout", () => {
    const bytes = serialize({ w: np.array([1.5, -2], { dtype: "float64" }), b: np.array([true]), c: np.array([3], { dtype: "int32" }) });
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x43, 0x54, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(v.getUint32(8, true)).toBe(1);
    const m = v.getUint32(12, true);
    const d = v.getUint32(16, true) + v.getUint32(20, true) * 2 ** 32;
    const start = 32 + Math.ceil(m / 8) * 8;
    expect(bytes.length).toBe(start + d);
    expect(v.getUint32(24, true)).toBe(crc32(bytes.subarray(32)));
    expect(v.getUint32(28, true)).toBe(crc32(bytes.subarray(0, 28)));
    const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(32, 32 + m)));
    expect(manifest).toEqual(manifestOf({ t: "dict", e: [["w", nd("float64", [2], 0, 16)], ["b", nd("bool", [1], 16, 1)], ["c", nd("int32", [1], 24, 4)]] }));
    // Raw little-endian elements at 8-byte-aligned offsets.
    expect(v.getFloat64(start, true)).toBe(1.5);
    expect(v.getFloat64(start + 8, true)).toBe(-2);
    expect(bytes[start + 16]).toBe(1);
    expect(v.getInt32(start + 24, true)).toBe(3);
  });

  it("gives arrays that share nothing with the bytes", () => {
    const bytes = serialize({ a: np.array([1, 2, 3]) });
    const back = deserialize(bytes);
    bytes.fill(0);
    expect(back.a.toArray()).toEqual([1, 2, 3]);
  });

  it("makes '__proto__' an ordinary key", () => {
    const t = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    const back = deserialize(serialize(t));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "y"]);
    expect(back.x).toBeUndefined();
  });

  it("reads a Node Buffer and a Uint8Array at an offset in a larger buffer", () => {
    const bytes = serialize({ a: np.arange(4) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expectIdentical({ a: np.arange(4) }, deserialize(big.subarray(3)));
    expectIdentical({ a: np.arange(4) }, deserialize(Buffer.from(bytes)));
  });
});

// ---------------------------------------------------------------- bad input

describe("deserialize rejects bad bytes with a clear ValueError", () => {
  const good = serialize({ w: np.array([[1, 2], [3, 4]]), step: 3 });
  const flip = (at: number) => {
    const b = good.slice();
    b[at]! ^= 0x10;
    return b;
  };

  it("not bytes", () => {
    expect(() => deserialize("hello" as any)).toThrow(ValueError);
    expect(() => deserialize("hello" as any)).toThrow(/^deserialize: expected a Uint8Array, got string/);
  });
  it("shorter than the header", () => {
    expect(() => deserialize(good.subarray(0, 10))).toThrow(/deserialize: truncated: 10 bytes, but the header of a saved state alone is 32 bytes/);
  });
  it("truncated payload", () => {
    expect(() => deserialize(good.subarray(0, good.length - 5))).toThrow(new RegExp(`truncated: the header announces ${good.length} bytes .* but only ${good.length - 5} are present`));
  });
  it("trailing bytes", () => {
    const b = new Uint8Array(good.length + 3);
    b.set(good);
    expect(() => deserialize(b)).toThrow(new RegExp(`3 unexpected bytes after the end of the saved state \\(${good.length} bytes\\)`));
  });
  it("wrong magic", () => {
    expect(() => deserialize(new TextEncoder().encode("PK\u0003\u0004 this is a zip file, not a state"))).toThrow(
      /not a Cotangent saved state: it starts with 50 4b 03 04 20 74 68 69, expected 89 43 54 47 0d 0a 1a 0a/,
    );
  });
  it("wrong version", () => {
    expect(() => deserialize(craft(manifestOf({ t: "null" }), undefined, 2))).toThrow(/unsupported format version 2; this build of Cotangent reads version 1[^]*hint: the state was written by another version/);
  });
  it("corrupted header", () => {
    expect(() => deserialize(flip(13))).toThrow(/corrupted: the header checksum does not match \(computed CRC-32 0x[0-9a-f]{8}, stored 0x[0-9a-f]{8}\)/);
  });
  it("corrupted data or manifest", () => {
    expect(() => deserialize(flip(good.length - 1))).toThrow(/corrupted: the checksum of the manifest and data does not match[^]*hint: the bytes changed after they were written/);
    expect(() => deserialize(flip(40))).toThrow(/corrupted: the checksum of the manifest and data does not match/);
  });
  it("a manifest that is not JSON", () => {
    expect(() => deserialize(craft("{not json"))).toThrow(/invalid manifest: not UTF-8 JSON/);
    expect(() => deserialize(craft(new Uint8Array([0xff, 0xfe]) as any))).toThrow(/invalid manifest/);
  });
  it("a manifest that does not fit the format (io-ts)", () => {
    expect(() => deserialize(craft({ format: "something-else", endianness: "little", tree: { t: "null" } }))).toThrow(/invalid manifest at format: expected "cotangent-state", got "something-else"/);
    expect(() => deserialize(craft(manifestOf({ t: "dict", e: [["a", nd("float16", [2], 0, 4)]] })))).toThrow(/invalid manifest at tree\.e\[0\]\[1\]\.dtype: expected dtype, got "float16"/);
    expect(() => deserialize(craft(manifestOf({ t: "list", c: [nd("float32", [-1], 0, 4)] })))).toThrow(/invalid manifest at tree\.c\[0\]\.shape\[0\]: expected non-negative integer, got -1/);
    expect(() => deserialize(craft(manifestOf({ t: "num", v: "1e5" })))).toThrow(/invalid manifest at tree\.v: expected number value, got "1e5"/);
  });
  it("an array whose size disagrees with its shape", () => {
    expect(() => deserialize(craft(manifestOf({ t: "dict", e: [["w", nd("float32", [2, 3], 0, 8)]] }), new Uint8Array(24)))).toThrow(
      /invalid manifest: the array at w \(f32\[2,3\]\) claims 8 bytes, but its shape needs 24/,
    );
  });
  it("an array beyond the data section", () => {
    expect(() => deserialize(craft(manifestOf({ t: "list", c: [nd("int32", [4], 8, 16)] }), new Uint8Array(16)))).toThrow(
      /invalid manifest: the array at \[0\] \(bytes 8 to 24\) ends beyond the 16-byte data section/,
    );
  });
  it("a misaligned array", () => {
    expect(() => deserialize(craft(manifestOf(nd("int32", [1], 4, 4)), new Uint8Array(8)))).toThrow(/the array at the root starts at offset 4, which is not 8-byte aligned/);
  });
  it("a duplicate key", () => {
    expect(() => deserialize(craft(manifestOf({ t: "dict", e: [["a", { t: "null" }], ["a", { t: "null" }]] })))).toThrow(/key "a" appears twice in the object at the root/);
  });
  it("a manifest nested too deeply to read (not a stack overflow)", () => {
    // Valid checksums around 100 000 nested lists: refused before anything recurses over it.
    const json = `{"format":"cotangent-state","endianness":"little","tree":${'{"t":"list","c":['.repeat(100_000)}{"t":"null"}${"]}".repeat(100_000)}}`;
    expect(() => deserialize(craft(json))).toThrow(ValueError);
    expect(() => deserialize(craft(json))).toThrow(/invalid manifest: nested more than 256 levels deep/);
    const lists = (n: number) => `{"format":"cotangent-state","endianness":"little","tree":${'{"t":"list","c":['.repeat(n)}{"t":"null"}${"]}".repeat(n)}}`;
    expect(() => deserialize(craft(lists(257)))).toThrow(/invalid manifest: nested more than 256 levels deep/);
    expect(deserialize(craft(lists(256)))).toBeInstanceOf(Array);
  });
  it("a bool byte other than 0 or 1", () => {
    expect(() => deserialize(craft(manifestOf({ t: "dict", e: [["m", nd("bool", [3], 0, 3)]] }), new Uint8Array([1, 0, 7, 0, 0, 0, 0, 0])))).toThrow(
      /invalid data: the bool array at m holds the byte 7 at element 2; bools are stored as 0 or 1/,
    );
  });
});

describe("serialize refuses what it cannot save", () => {
  class Point {
    constructor(readonly x: number) {}
  }
  it("class instances, Maps, functions", () => {
    expect(() => serialize({ a: [1, new Point(1)] })).toThrow(/^serialize: cannot save a Point at a\[1\][^]*hint: saved state holds arrays, numbers/);
    expect(() => serialize(new Map())).toThrow(/cannot save a Map$/m);
    expect(() => serialize({ f: () => 1 })).toThrow(/cannot save a function at f/);
  });
  it("cycles, but not shared subtrees", () => {
    const a: any = { x: [1] };
    a.x.push(a);
    expect(() => serialize({ a })).toThrow(/^serialize: the tree contains itself at a\.x\[1\][^]*hint: saved state is a tree: remove the cycle/);
    const shared = { w: np.ones([2]) };
    const back = deserialize(serialize([shared, shared]));
    expect(back[1].w.toArray()).toEqual([1, 1]);
  });
  it("trees nested deeper than the format allows, with a ValueError rather than a stack overflow", () => {
    const nest = (depth: number, leaf: unknown, wrap: (x: unknown) => unknown) => {
      let x = leaf;
      for (let i = 0; i < depth; i++) x = wrap(x);
      return x;
    };
    // 256 levels of lists and objects save and load, with a template too; 257 do not.
    const ok = nest(128, np.arange(3), (x) => ({ a: [x] }));
    expectIdentical(ok, deserialize(serialize(ok), { like: ok }));
    expect(() => serialize([ok])).toThrow(/more than 256 levels deep/);
    for (const wrap of [(x: unknown) => [x], (x: unknown) => ({ k: x })]) {
      const deep = nest(100_000, 1, wrap);
      expect(() => serialize(deep)).toThrow(ValueError);
      expect(() => serialize(deep)).toThrow(/^serialize: the tree nests lists and objects more than 256 levels deep[^]*hint: /);
    }
  });
  it("registered pytree classes are refused rather than saved without their class", () => {
    class Pair {
      constructor(readonly a: unknown, readonly b: unknown) {}
    }
    tree.register(Pair, (p) => [[p.a, p.b], null], (_, [a, b]) => new Pair(a, b));
    expect(() => serialize({ p: new Pair(1, 2) })).toThrow(/cannot save a Pair at p[^]*turn other values \(registered classes/);
  });
  it("traced values", () => {
    expect(() =>
      grad((x: ArrayBase) => {
        serialize({ x });
        return np.sum(x);
      })(np.array([1, 2])),
    ).toThrow(/serialize: cannot save a traced value at x \(f32\[2\]\)[^]*outside of grad/);
  });
});

// ---------------------------------------------------------------- templates

describe("deserialize with a `like` template", () => {
  const state = { params: { w: np.zeros([2, 3]), b: np.zeros([3]) }, step: 10, key: random.key(0), layers: [np.ones([2]), np.ones([2])] };
  const bytes = serialize(state);

  it("accepts a matching template of arrays or ShapedArrays", () => {
    const like = tree.map((x: unknown) => (x instanceof NDArray ? new ShapedArray(x.shape, x.dtype) : x), state);
    expectIdentical(state, deserialize(bytes, { like }));
    expectIdentical(state, deserialize(bytes, { like: state }));
  });
  it("names a shape difference", () => {
    expect(() => deserialize(bytes, { like: { ...state, params: { w: np.zeros([3, 2]), b: np.zeros([3]) } } })).toThrow(
      /deserialize: the saved state does not match the template \(1 difference\):\n  params\.w: shape \[2, 3\], expected \[3, 2\]/,
    );
  });
  it("names a dtype difference", () => {
    expect(() => deserialize(bytes, { like: { ...state, params: { w: np.zeros([2, 3], { dtype: "float64" }), b: np.zeros([3]) } } })).toThrow(/params\.w: dtype float32, expected float64/);
  });
  it("names missing and unexpected keys", () => {
    expect(() => deserialize(bytes, { like: { ...state, params: { w: np.zeros([2, 3]), bias: np.zeros([3]) } } })).toThrow(
      /\(2 differences\):\n  params: missing key "bias"\n  params: unexpected key "b"/,
    );
  });
  it("names a list length and a kind of leaf", () => {
    expect(() => deserialize(bytes, { like: { ...state, layers: [np.ones([2])], step: np.array(10) } })).toThrow(/step: found a number, expected an array f32\[\]\n  layers: a list of 2 entries, expected 1/);
    expect(() => deserialize(bytes, { like: [1, 2] })).toThrow(/the root: found an object, expected a list of 2/);
  });
  it("lists at most eight differences", () => {
    const many = serialize(Array.from({ length: 12 }, () => np.zeros([1])));
    expect(() => deserialize(many, { like: Array.from({ length: 12 }, () => np.zeros([2])) })).toThrow(/\(12 differences\):[^]*\[7\]: shape \[1\], expected \[2\]\n  \.\.\. and 4 more/);
  });
  it("refuses a template it could never match", () => {
    expect(() => deserialize(bytes, { like: new Map() })).toThrow(/the root: the template holds a Map, which saved state cannot hold/);
  });
});

describe("byte order", () => {
  it("swapBytes reverses each element (the big-endian host path)", async () => {
    const { swapBytes, LITTLE_ENDIAN } = await import("../src/io/format.js");
    expect(LITTLE_ENDIAN).toBe(true);
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapBytes(b, 4);
    expect(Array.from(b)).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    swapBytes(b, 8);
    expect(Array.from(b)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
    swapBytes(b, 1);
    expect(Array.from(b)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
  });
});
