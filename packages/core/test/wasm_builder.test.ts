/**
 * The WebAssembly module builder emits valid modules whose instructions do what their
 * names say: each test builds a small function, runs it, and compares with plain JS.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ModuleBuilder } from "../src/kernels/wasm/builder.js";

const instantiate = (m: ModuleBuilder, memory: WebAssembly.Memory): any =>
  new WebAssembly.Instance(new WebAssembly.Module(m.toBytes()), { env: { memory } }).exports;

describe("wasm module builder", () => {
  it("emits a valid empty module and scalar arithmetic with constants of every width", () => {
    const m = new ModuleBuilder();
    m.func("addi", { params: ["i32", "i32"], results: ["i32"] }, (f) => {
      f.get(f.params[0]!).get(f.params[1]!).op("i32.add");
    });
    m.func("big", { results: ["i64"] }, (f) => {
      f.i64(-(2n ** 40n) + 3n);
    });
    m.func("consts", { results: ["f64"] }, (f) => {
      f.f32(1.5).op("f64.promote_f32").f64(-0.25).op("f64.mul").i32(-1000000).op("f64.convert_i32_s").op("f64.add");
    });
    expect(WebAssembly.validate(new ModuleBuilder().toBytes())).toBe(true);
    const ex = new WebAssembly.Instance(m.compile()).exports as any;
    expect(ex.addi(2 ** 31 - 1, 1)).toBe(-(2 ** 31));
    expect(ex.big()).toBe(-(2n ** 40n) + 3n);
    expect(ex.consts()).toBe(1.5 * -0.25 - 1000000);
  });

  it("calls functions declared earlier and rejects calls to undeclared ones", () => {
    const m = new ModuleBuilder();
    m.func("sq", { params: ["f64"], results: ["f64"], exported: false }, (f) => {
      f.get(f.params[0]!).get(f.params[0]!).op("f64.mul");
    });
    m.func("quad", { params: ["f64"], results: ["f64"] }, (f) => {
      f.get(f.params[0]!).call("sq").call("sq");
    });
    expect(() => m.func("bad", {}, (f) => void f.call("nope"))).toThrow(/declare a function before/);
    const ex = new WebAssembly.Instance(m.compile()).exports as any;
    expect(ex.quad(3)).toBe(81);
    expect(ex.sq).toBeUndefined();
  });

  it("signed LEB128 constants round-trip for every i32 and many i64", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (a, b) => {
        const m = new ModuleBuilder();
        m.func("a", { results: ["i32"] }, (f) => void f.i32(a));
        m.func("b", { results: ["i64"] }, (f) => void f.i64(b));
        const ex = new WebAssembly.Instance(m.compile()).exports as any;
        expect(ex.a()).toBe(a);
        expect(ex.b()).toBe(b);
      }),
      { numRuns: 50 },
    );
  });

  it("float and splat constants round-trip exactly (f32, f64, f32x4, f64x2, i32x4), beside locals of several types", () => {
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (x, n) => {
        const m = new ModuleBuilder();
        m.func("f32", { results: ["f32"] }, (f) => void f.f32(x));
        m.func("f64", { results: ["f64"] }, (f) => void f.f64(x));
        m.func("lanes", { params: ["i32"], results: ["f64"] }, (f) => {
          const a = f.local("f64");
          const b = f.local("v128");
          const c = f.local("i32");
          // One lane of each splat, summed in f64: f32x4 + f64x2 + i32x4.
          f.f32x4(x).set(b);
          f.get(b).lane("f32x4.extract_lane", 3).op("f64.promote_f32").set(a);
          f.f64x2(x).lane("f64x2.extract_lane", 1).get(a).op("f64.add").set(a);
          f.i32x4(n).lane("i32x4.extract_lane", 2).tee(c).op("f64.convert_i32_s").get(a).op("f64.add");
        });
        const ex = new WebAssembly.Instance(m.compile()).exports as any;
        expect(Object.is(ex.f32(), Math.fround(x))).toBe(true);
        expect(Object.is(ex.f64(), x)).toBe(true);
        expect(Object.is(ex.lanes(0), Math.fround(x) + x + n)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("loops, loads and SIMD ops over an imported memory match a JS loop (f32x4 and f64x2)", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const m = new ModuleBuilder();
    m.importMemory({ initial: 1, maximum: 4 });
    // axpy4(x, y, n, a): y[i] = a * x[i] + y[i] for n floats (n a multiple of 4).
    m.func("axpy4", { params: ["i32", "i32", "i32", "f32"] }, (f) => {
      const [x, y, n, a] = f.params as [any, any, any, any];
      const i = f.local("i32");
      f.whileLt(i, n, 4, () => {
        f.get(y).get(i).i32(2).op("i32.shl").op("i32.add");
        f.get(a).op("f32x4.splat");
        f.get(x).get(i).i32(2).op("i32.shl").op("i32.add").load("v128.load").op("f32x4.mul");
        f.get(y).get(i).i32(2).op("i32.shl").op("i32.add").load("v128.load").op("f32x4.add");
        f.store("v128.store");
      });
    });
    // dot2(x, y, n): sum of x[i] * y[i] over n doubles (n even), lanes added at the end.
    m.func("dot2", { params: ["i32", "i32", "i32"], results: ["f64"] }, (f) => {
      const [x, y, n] = f.params as [any, any, any];
      const i = f.local("i32");
      const acc = f.local("v128");
      f.whileLt(i, n, 2, () => {
        f.get(x).get(i).i32(3).op("i32.shl").op("i32.add").load("v128.load");
        f.get(y).get(i).i32(3).op("i32.shl").op("i32.add").load("v128.load");
        f.op("f64x2.mul").get(acc).op("f64x2.add").set(acc);
      });
      f.get(acc).lane("f64x2.extract_lane", 0).get(acc).lane("f64x2.extract_lane", 1).op("f64.add");
    });
    // maxabs(x, n): max |x[i]| over n floats, with a scalar tail, using load32_splat and a block/if.
    m.func("maxabs", { params: ["i32", "i32"], results: ["f32"] }, (f) => {
      const [x, n] = f.params as [any, any];
      const i = f.local("i32");
      const best = f.local("f32");
      f.whileLt(i, n, 1, () => {
        f.get(x).get(i).i32(2).op("i32.shl").op("i32.add").load("v128.load32_splat").op("f32x4.abs").lane("f32x4.extract_lane", 3);
        f.get(best).op("f32.max").set(best);
      });
      f.get(n).op("i32.eqz").if(() => void f.f32(-1).set(best));
      f.get(best);
    });
    const ex = instantiate(m, memory);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: -4, max: 4, noNaN: true }), (q, a) => {
        const n = q * 4;
        const f32 = new Float32Array(memory.buffer);
        const x = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i + a)));
        const y = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * a)));
        f32.set(x, 0);
        f32.set(y, 1024);
        ex.axpy4(0, 4096, n, a);
        const af = Math.fround(a);
        for (let i = 0; i < n; i++) expect(f32[1024 + i]).toBe(Math.fround(Math.fround(af * x[i]!) + y[i]!));
        const f64 = new Float64Array(memory.buffer);
        const xd = Float64Array.from({ length: 2 * q }, (_, i) => i * a - 1);
        f64.set(xd, 0);
        f64.set(xd, 512);
        let s0 = 0, s1 = 0;
        for (let i = 0; i < 2 * q; i += 2) { s0 += xd[i]! * xd[i]!; s1 += xd[i + 1]! * xd[i + 1]!; }
        expect(ex.dot2(0, 4096, 2 * q)).toBe(s0 + s1);
        f32.set(x, 0);
        expect(ex.maxabs(0, n)).toBe(n === 0 ? -1 : Math.max(...Array.from(x, Math.abs)));
      }),
      { numRuns: 30 },
    );
  });

  it("relaxed-SIMD madd either validates (engine has it) or is refused at compile, never mis-executes", () => {
    const m = new ModuleBuilder();
    m.func("fma", { params: ["f32", "f32", "f32"], results: ["f32"] }, (f) => {
      const [a, b, c] = f.params as [any, any, any];
      f.get(a).op("f32x4.splat").get(b).op("f32x4.splat").get(c).op("f32x4.splat").op("f32x4.relaxed_madd").lane("f32x4.extract_lane", 0);
    });
    if (WebAssembly.validate(m.toBytes())) {
      const ex = new WebAssembly.Instance(m.compile()).exports as any;
      // Fused or not, 2 * 3 + 1 is exact.
      expect(ex.fma(2, 3, 1)).toBe(7);
    } else {
      expect(() => m.compile()).toThrow(WebAssembly.CompileError);
    }
  });

  it("a shared memory import needs a maximum; branches must target enclosing labels", () => {
    expect(() => new ModuleBuilder().importMemory({ initial: 1, shared: true })).toThrow(/maximum/);
    const m = new ModuleBuilder();
    expect(() =>
      m.func("bad", {}, (f) => {
        let outer: any;
        f.block((l) => void (outer = l));
        f.br(outer);
      }),
    ).toThrow(/not enclosing/);
  });
});
