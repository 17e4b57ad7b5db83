import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, ShapeError, ValueError, makeJaxpr, np, random, typecheck, vmap } from "@cotangent/core";
import { typecheckTransforms } from "./harness.js";
import { i32, refBlock, refIotaStream, u32 } from "./random_reference.js";

// ---------------------------------------------------------------- the block

describe("threefry2x32", () => {
  // Known-answer vectors of Random123 (tests/kat_vectors, "threefry2x32 20" lines, listed
  // there as counter then key); JAX's random_test.py testThreefry2x32 checks the same three.
  const KAT: [key: [number, number], counter: [number, number], out: [number, number]][] = [
    [[0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6b200159, 0x99ba4efe]],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], [0xc4923a9c, 0x483df7a0]],
  ];

  it("matches the Random123 known-answer vectors", () => {
    for (const [k, c, want] of KAT) {
      const [y0, y1] = random.threefry2x32(...([k[0], k[1], c[0], c[1]].map((w) => i32([w], [])) as [ArrayBase, ArrayBase, ArrayBase, ArrayBase]));
      expect([...u32(y0), ...u32(y1)]).toEqual(want);
      expect(refBlock(k[0], k[1], c[0], c[1])).toEqual(want);
    }
    // All three at once, as arrays.
    const col = (j: number, part: 0 | 1) => i32(KAT.map((v) => v[part][j]!));
    const [y0, y1] = random.threefry2x32(col(0, 0), col(1, 0), col(0, 1), col(1, 1));
    expect(u32(y0)).toEqual(KAT.map((v) => v[2][0]));
    expect(u32(y1)).toEqual(KAT.map((v) => v[2][1]));
  });

  it("equals the reference block elementwise, with broadcasting", () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.array(word, { minLength: 60, maxLength: 60 }), fc.boolean(), (rows, cols, ws, scalarKey) => {
        const n = rows * cols;
        const k0 = scalarKey ? [ws[0]!] : ws.slice(0, rows);
        const k1 = scalarKey ? [ws[1]!] : ws.slice(5, 5 + rows);
        const x0 = ws.slice(10, 10 + n);
        const x1 = ws.slice(30, 30 + n);
        const kShape = scalarKey ? [] : [rows, 1];
        const [y0, y1] = random.threefry2x32(i32(k0, kShape), i32(k1, kShape), i32(x0, [rows, cols]), i32(x1, [rows, cols]));
        expect(y0.shape).toEqual([rows, cols]);
        const e0: number[] = [];
        const e1: number[] = [];
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const i = r * cols + c;
            const [a, b] = refBlock(k0[scalarKey ? 0 : r]!, k1[scalarKey ? 0 : r]!, x0[i]!, x1[i]!);
            e0.push(a);
            e1.push(b);
          }
        }
        expect(u32(y0)).toEqual(e0);
        expect(u32(y1)).toEqual(e1);
      }),
      { numRuns: 30 },
    );
  });

  it("batches over keys like a loop", () => {
    const keys = i32([1, 2, 3, 4, 5, 6], [3, 2]);
    const counts = i32([10, 11, 12, 13]);
    const f = (k: ArrayBase, x: ArrayBase) => random.threefry2x32(np.take(k, 0), np.take(k, 1), x, np.add(x, 7));
    const [b0, b1] = vmap(f, { inAxes: [0, null] })(keys, counts);
    for (let i = 0; i < 3; i++) {
      const [l0, l1] = f(np.take(keys, i, { axis: 0 }), counts);
      expect(u32(np.take(b0, i, { axis: 0 }))).toEqual(u32(l0));
      expect(u32(np.take(b1, i, { axis: 0 }))).toEqual(u32(l1));
    }
  });

  it("rejects non-int32 words and shapes that do not broadcast", () => {
    const k = i32([1], []);
    expect(() => random.threefry2x32(np.array(1), k, k, k)).toThrow(DTypeError);
    expect(() => random.threefry2x32(np.array(1), k, k, k)).toThrow(/threefry2x32: key word 0 has dtype float32, but threefry2x32 accepts int32/);
    expect(() => random.threefry2x32(k, k, i32([1, 2]), i32([1, 2, 3]))).toThrow(/threefry2x32: shapes \[\], \[\], \[2\], \[3\] do not broadcast/);
  });
});

// ---------------------------------------------------------------- keys

describe("keys", () => {
  it("key(seed) holds JAX's words", () => {
    expect(u32(random.key(0))).toEqual([0, 0]);
    expect(u32(random.key(42))).toEqual([0, 42]);
    // From JAX's test_prng_seeds_and_keys (without x64).
    expect(u32(random.key(-1))).toEqual([0, 4294967295]);
    expect(u32(random.key(-2))).toEqual([0, 4294967294]);
    expect(u32(random.key(2 ** 31 - 1 + 100))).toEqual([0, 2147483747]);
    // Larger seeds keep all their bits: the 64-bit words (as JAX with x64).
    expect(u32(random.key(2 ** 40 + 5))).toEqual([256, 5]);
    expect(u32(random.key(-(2 ** 40)))).toEqual([0xffffff00, 0]);
    expect(random.key(3).dtype).toBe("int32");
    expect(u32(random.PRNGKey(7))).toEqual([0, 7]);
    expect(u32(random.key(np.array(9, { dtype: "int32" })))).toEqual([0, 9]);
  });

  it("matches JAX's split, foldIn and bit streams", () => {
    // JAX random_test.py testPRNGValues (threefry, non-partitionable) and the
    // well-known split of PRNGKey(0).
    const k = random.key(0);
    expect(u32(random.split(k, 4))).toEqual([2285895361, 1501764800, 1518642379, 4090693311, 433833334, 4221794875, 839183663, 3740430601]);
    expect(u32(random.split(k))).toEqual([4146024105, 967050713, 2718843009, 1272950319]);
    expect(u32(random.foldIn(k, 4))).toEqual([2285895361, 433833334]);
    // testRngRandomBits: 32-bit words of PRNGKey(1701).
    expect(u32(random.bits(random.key(1701), [3]))).toEqual([56197195, 4200222568, 961309823]);
  });

  it("bits are JAX's iota stream for every shape (odd sizes included)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (shape, seed) => {
        const k = random.key(seed);
        const b = random.bits(k, shape);
        expect(b.shape).toEqual(shape);
        expect(b.dtype).toBe("int32");
        expect(u32(b)).toEqual(refIotaStream([0, seed >>> 0], shape.reduce((a, d) => a * d, 1)));
      }),
      { numRuns: 30 },
    );
  });

  it("split destructures and gives distinct keys", () => {
    const k = random.key(123);
    const ks = random.split(k, 5);
    expect(ks.shape).toEqual([5, 2]);
    const [a, b] = random.split(k);
    expect(a!.shape).toEqual([2]);
    expect(u32(a!).concat(u32(b!))).toEqual(u32(random.split(k)));
    const rows = [...ks].map(u32);
    expect(rows.length).toBe(5);
    expect(new Set(rows.map((r) => r.join())).size).toBe(5);
    expect(rows.some((r) => r.join() === u32(k).join())).toBe(false);
    expect(random.split(k, [2, 3]).shape).toEqual([2, 3, 2]);
    expect([...random.split(k, [2, 3])].map((x) => x.shape)).toEqual([[3, 2], [3, 2]]);
    expect(random.split(k, 0).shape).toEqual([0, 2]);
    // split(k, n) is JAX's stream over 2n counts.
    expect(u32(ks)).toEqual(refIotaStream([0, 123], 10));
  });

  it("is deterministic: the same key gives the same bits, different keys differ", () => {
    const k = random.key(5);
    expect(u32(random.bits(k, [50]))).toEqual(u32(random.bits(random.key(5), [50])));
    const [k1, k2] = random.split(k);
    expect(u32(random.bits(k1!, [20]))).not.toEqual(u32(random.bits(k2!, [20])));
    expect(u32(random.foldIn(k, 1))).not.toEqual(u32(random.foldIn(k, 2)));
    expect(u32(random.foldIn(k, np.array(3, { dtype: "int32" })))).toEqual(u32(random.foldIn(k, 3)));
  });

  it("works on traced keys: makeJaxpr, typecheck, vmap over keys equals a loop", () => {
    const k = random.key(11);
    const f = (key: ArrayBase) => random.bits(key, [3]);
    const j = makeJaxpr(f)(k);
    typecheck(j);
    expect(j.toString()).toContain("threefry2x32");
    typecheckTransforms(f, [k]);
    const keys = random.split(k, 4);
    const cases: [string, (key: ArrayBase) => ArrayBase][] = [
      ["bits", (key) => random.bits(key, [5])],
      ["split", (key) => random.split(key, 3)],
      ["foldIn", (key) => random.foldIn(key, 17)],
    ];
    for (const [, g] of cases) {
      const batched = vmap(g)(keys);
      const looped = np.stack([...keys].map(g));
      expect(u32(batched)).toEqual(u32(looped));
    }
    // Keys along axis 1, and data mapped instead of keys.
    expect(u32(vmap((key: ArrayBase) => random.bits(key, [2]), { inAxes: 1, outAxes: 1 })(np.transpose(keys)))).toEqual(
      u32(np.transpose(vmap((key: ArrayBase) => random.bits(key, [2]))(keys))),
    );
    const data = np.array([1, 2, 3], { dtype: "int32" });
    expect(u32(vmap((d: ArrayBase) => random.foldIn(k, d))(data))).toEqual([1, 2, 3].flatMap((d) => u32(random.foldIn(k, d))));
    expect(u32(vmap((s: ArrayBase) => random.key(s))(data))).toEqual([0, 1, 0, 2, 0, 3]);
  });

  it("names the op and the bad argument in errors", () => {
    const k = random.key(0);
    expect(() => random.bits(i32([1, 2, 3]), [2])).toThrow(ShapeError);
    expect(() => random.bits(i32([1, 2, 3]), [2])).toThrow(/random.bits: key must have shape \[2\], got shape \[3\]/);
    expect(() => random.split(np.array([1, 2]))).toThrow(DTypeError);
    expect(() => random.split(np.array([1, 2]))).toThrow(/random.split: key must be an int32 array of shape \[2\].*got f32\[2\]/);
    expect(() => random.bits(random.split(k, 4), [2])).toThrow(/got shape \[4, 2\][\s\S]*hint: this looks like 4 keys from random.split/);
    expect(() => random.split(k, -1)).toThrow(ValueError);
    expect(() => random.split(k, -1)).toThrow(/random.split: num must be a shape \(a non-negative integer or a list of them\), got -1/);
    expect(() => random.bits(k, [2, 1.5])).toThrow(/random.bits: shape must be a shape .*, got \[2, 1.5\]/);
    expect(() => random.key(1.5)).toThrow(/random.key: seed must be an integer, got 1.5/);
    expect(() => random.foldIn(k, NaN)).toThrow(/random.foldIn: data must be an integer/);
    expect(() => random.foldIn(k, np.array([1, 2], { dtype: "int32" }))).toThrow(/random.foldIn: data must be a JS integer or an int32 scalar array, got i32\[2\]/);
    expect(() => random.bits("k" as any)).toThrow(/random.bits: key must be an array made by random.key, got string/);
  });
});
