/**
 * `copyElements` (kernels/wasm/runtime.ts) copies large float32/int32 runs through 64-bit
 * views when both ends are equally aligned: it must equal `dst.set(src.subarray(...), at)`
 * bit for bit (NaN payloads, -0) for every alignment, length and offset, into and out of the
 * shared kernel memory, and convert values like `set` does between different kinds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { copyElements, kernelMemory } from "../src/kernels/wasm/runtime.js";

const bits = (a: Float32Array | Int32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("copyElements", () => {
  it("equals set() bit for bit, into and out of shared memory, any alignment, length and offsets", () => {
    const { memory } = kernelMemory();
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65530, max: 70000 })),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        fc.constantFrom("f32", "i32"),
        fc.integer(),
        (n, at, from, intoShared, kind, seed) => {
          const T = kind === "f32" ? Float32Array : Int32Array;
          const raw = new Uint32Array(n + from);
          let s = seed | 0;
          for (let i = 0; i < raw.length; i++) raw[i] = s = (Math.imul(s, 1103515245) + 12345) | 0;
          // Some NaNs with payloads and negative zeros among the random bits.
          if (raw.length > 2) raw[1] = 0x7fa00001;
          if (raw.length > 3) raw[2] = 0x80000000;
          const heapSrc = new T(raw.buffer);
          const sharedAt = 256 + 4 * ((seed >>> 0) % 8);
          const shared = new T(memory.buffer, sharedAt, n + Math.max(at, from) + 8);
          let src: Float32Array | Int32Array;
          let mk: () => Float32Array | Int32Array;
          if (intoShared) {
            src = heapSrc;
            mk = () => {
              shared.fill(0);
              return shared;
            };
          } else {
            shared.set(heapSrc);
            src = shared;
            mk = () => new T(n + at + 3);
          }
          const want = mk();
          want.set(src.subarray(from, from + n) as never, at);
          const wantBits = bits(want).slice();
          const got = mk();
          copyElements(got, at, src, from, n);
          expect(bits(got)).toEqual(wantBits);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("between different kinds converts values, as set() does", () => {
    const n = 70_000;
    const src = Int32Array.from({ length: n }, (_, i) => i - 1500);
    const dst = new Float32Array(n);
    copyElements(dst as never, 0, src as never, 0, n);
    expect(Array.from(dst)).toEqual(Array.from(src));
  });
});
