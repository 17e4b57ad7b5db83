/**
 * A small WebAssembly module builder: kernels are generated as binary modules at run time,
 * so nothing is compiled at install and no toolchain is needed.
 *
 * Written by hand (no dependency) because the binary format is small and stable, and the
 * kernels need only a sliver of it: one memory (imported, possibly shared), functions with
 * locals, structured control flow, scalar and SIMD (`v128`) arithmetic, loads and stores.
 *
 * ```ts
 * const m = new ModuleBuilder();
 * m.importMemory({ initial: 1, maximum: 256 });
 * m.func("scale", { params: ["i32", "i32", "f32"] }, (f) => {
 *   const [ptr, n, s] = f.params;
 *   const end = f.local("i32");
 *   f.get(ptr).get(n).i32(2).op("i32.shl").op("i32.add").set(end);   // end = ptr + 4n
 *   f.whileLt(ptr, end, 16, () => {                                     // for (; ptr < end; ptr += 16)
 *     f.get(ptr).get(ptr).load("v128.load").get(s).op("f32x4.splat").op("f32x4.mul").store("v128.store");
 *   });
 * });
 * const instance = new WebAssembly.Instance(m.compile(), { env: { memory } });
 * ```
 *
 * The builder is a stack-machine emitter: each method appends one instruction and returns
 * the builder, so code reads in WAT order. Branch targets are {@link Label}s handed to the
 * body of `block`/`loop`, not raw relative depths.
 */
import { ATOMIC_OPS, LANE_OPS, type LaneOp, MEMORY_OPS, MISC_OPS, type MemoryOp, PLAIN_OPS, type PlainOp, RELAXED_OPS, SIMD_MEMORY_OPS, SIMD_OPS } from "./opcodes.js";

export type { LaneOp, MemoryOp, PlainOp } from "./opcodes.js";

/** A WebAssembly value type. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** A parameter or local of the function being built. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** A branch target: the block or loop whose body received it. */
export interface Label {
  readonly depth: number;
}

/** Appends the unsigned LEB128 encoding of `n`. */
const uleb = (out: number[], n: number): void => {
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
};

/** Appends the signed LEB128 encoding of `n` (a bigint covers i64 constants). */
const sleb = (out: number[], n: bigint): void => {
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
};

/** Appends the signed LEB128 encoding of a 32-bit integer, without a bigint (the common case). */
const sleb32 = (out: number[], n: number): void => {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
};

/** Scratch for the bytes of float constants (little-endian, as Wasm wants them). */
const scratch = new DataView(new ArrayBuffer(16));
const pushScratch = (out: number[], n: number): void => {
  for (let i = 0; i < n; i++) out.push(scratch.getUint8(i));
};

const utf8 = (s: string): number[] => Array.from(new TextEncoder().encode(s));

const vec = (out: number[], items: number[][]): void => {
  uleb(out, items.length);
  for (const it of items) out.push(...it);
};

const section = (out: number[], id: number, body: number[]): void => {
  if (body.length === 0) return;
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
};

/** Emits the body of one function. Obtained from {@link ModuleBuilder.func}. */
export class FunctionBuilder {
  /** The parameters, in order. */
  readonly params: readonly Local[];
  /** @internal */ readonly code: number[] = [];
  /** @internal */ readonly localTypes: ValType[] = [];
  private depth = 0;

  /** @internal */
  constructor(paramTypes: readonly ValType[], private readonly funcIndexOf: (name: string) => number) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local of `type` (zero-initialised). */
  local(type: ValType): Local {
    const index = this.params.length + this.localTypes.length;
    this.localTypes.push(type);
    return { index, type };
  }

  get(l: Local): this {
    this.code.push(0x20);
    uleb(this.code, l.index);
    return this;
  }

  set(l: Local): this {
    this.code.push(0x21);
    uleb(this.code, l.index);
    return this;
  }

  tee(l: Local): this {
    this.code.push(0x22);
    uleb(this.code, l.index);
    return this;
  }

  i32(n: number): this {
    this.code.push(0x41);
    sleb32(this.code, n | 0);
    return this;
  }

  i64(n: bigint): this {
    this.code.push(0x42);
    sleb(this.code, BigInt.asIntN(64, n));
    return this;
  }

  f32(x: number): this {
    this.code.push(0x43);
    scratch.setFloat32(0, x, true);
    pushScratch(this.code, 4);
    return this;
  }

  f64(x: number): this {
    this.code.push(0x44);
    scratch.setFloat64(0, x, true);
    pushScratch(this.code, 8);
    return this;
  }

  /** A `v128.const` from 16 bytes (little-endian lanes). */
  v128(bytes: Uint8Array): this {
    if (bytes.length !== 16) throw new RangeError(`v128.const needs 16 bytes, got ${bytes.length}`);
    this.code.push(0xfd);
    uleb(this.code, 12);
    for (let i = 0; i < 16; i++) this.code.push(bytes[i]!);
    return this;
  }

  /** The `v128.const` opcode with the 16 bytes in `scratch`. */
  private v128Scratch(): this {
    this.code.push(0xfd);
    uleb(this.code, 12);
    pushScratch(this.code, 16);
    return this;
  }

  /** `f32x4.splat` of a constant, as a `v128.const`. */
  f32x4(x: number): this {
    for (let i = 0; i < 16; i += 4) scratch.setFloat32(i, x, true);
    return this.v128Scratch();
  }

  /** `f64x2.splat` of a constant, as a `v128.const`. */
  f64x2(x: number): this {
    scratch.setFloat64(0, x, true);
    scratch.setFloat64(8, x, true);
    return this.v128Scratch();
  }

  /** `i32x4.splat` of a constant, as a `v128.const`. */
  i32x4(x: number): this {
    for (let i = 0; i < 16; i += 4) scratch.setInt32(i, x, true);
    return this.v128Scratch();
  }

  /** An instruction without immediates, by its WAT name (`"f32x4.mul"`, `"i32.add"`, ...). */
  op(name: PlainOp): this {
    if (name in PLAIN_OPS) this.code.push(PLAIN_OPS[name as keyof typeof PLAIN_OPS]);
    else if (name in MISC_OPS) {
      this.code.push(0xfc);
      uleb(this.code, MISC_OPS[name as keyof typeof MISC_OPS]);
    } else if (name in SIMD_OPS) {
      this.code.push(0xfd);
      uleb(this.code, SIMD_OPS[name as keyof typeof SIMD_OPS]);
    } else if (name in RELAXED_OPS) {
      this.code.push(0xfd);
      uleb(this.code, RELAXED_OPS[name as keyof typeof RELAXED_OPS]);
    } else throw new RangeError(`unknown instruction ${name}`);
    return this;
  }

  /**
   * A load or store by its WAT name, with a constant byte `offset` added to the address
   * on the stack. `alignLog2` defaults to the natural alignment (a hint only, never a trap).
   */
  load(name: MemoryOp, offset = 0, alignLog2?: number): this {
    let natural: number;
    if (name in MEMORY_OPS) {
      const [code, a] = MEMORY_OPS[name as keyof typeof MEMORY_OPS];
      this.code.push(code);
      natural = a;
    } else if (name in SIMD_MEMORY_OPS) {
      const [code, a] = SIMD_MEMORY_OPS[name as keyof typeof SIMD_MEMORY_OPS];
      this.code.push(0xfd);
      uleb(this.code, code);
      natural = a;
    } else if (name in ATOMIC_OPS) {
      const [code, a] = ATOMIC_OPS[name as keyof typeof ATOMIC_OPS];
      this.code.push(0xfe);
      uleb(this.code, code);
      natural = a;
    } else throw new RangeError(`unknown memory instruction ${name}`);
    uleb(this.code, alignLog2 ?? natural);
    uleb(this.code, offset);
    return this;
  }

  /** Same as {@link load}: stores take their address and value from the stack. */
  store(name: MemoryOp, offset = 0, alignLog2?: number): this {
    return this.load(name, offset, alignLog2);
  }

  /** `memory.copy` (bulk memory): copies `n` bytes from `src` to `dst`, taken from the stack as (dst, src, n). */
  memoryCopy(): this {
    this.code.push(0xfc);
    uleb(this.code, 10);
    this.code.push(0x00, 0x00);
    return this;
  }

  /** A lane accessor (`"f32x4.extract_lane"`, ...) with its lane index. */
  lane(name: LaneOp, lane: number): this {
    const [code, lanes] = LANE_OPS[name];
    if (!(lane >= 0 && lane < lanes)) throw new RangeError(`${name}: lane ${lane} out of range`);
    this.code.push(0xfd);
    uleb(this.code, code);
    this.code.push(lane);
    return this;
  }

  /** `i8x16.shuffle` with 16 lane indices into the concatenation of its two operands. */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError("i8x16.shuffle needs 16 lane indices");
    this.code.push(0xfd);
    uleb(this.code, 13);
    this.code.push(...lanes);
    return this;
  }

  private structured(opcode: number, result: ValType | undefined, body: (l: Label) => void): this {
    this.code.push(opcode, result ? VALTYPE_CODE[result] : 0x40);
    this.depth++;
    body({ depth: this.depth });
    this.depth--;
    this.code.push(0x0b);
    return this;
  }

  /** A `block`: branching to its label jumps past its end. */
  block(body: (exit: Label) => void, result?: ValType): this {
    return this.structured(0x02, result, body);
  }

  /** A `loop`: branching to its label jumps back to its start. */
  loop(body: (again: Label) => void, result?: ValType): this {
    return this.structured(0x03, result, body);
  }

  /** `if` on the i32 on the stack, with an optional `else` arm. */
  if(then: (exit: Label) => void, otherwise?: (exit: Label) => void, result?: ValType): this {
    this.code.push(0x04, result ? VALTYPE_CODE[result] : 0x40);
    this.depth++;
    const label = { depth: this.depth };
    then(label);
    if (otherwise) {
      this.code.push(0x05);
      otherwise(label);
    }
    this.depth--;
    this.code.push(0x0b);
    return this;
  }

  private relative(l: Label): number {
    const d = this.depth - l.depth;
    if (d < 0) throw new RangeError("branch to a label that is not enclosing");
    return d;
  }

  br(l: Label): this {
    this.code.push(0x0c);
    uleb(this.code, this.relative(l));
    return this;
  }

  brIf(l: Label): this {
    this.code.push(0x0d);
    uleb(this.code, this.relative(l));
    return this;
  }

  /** Calls a function of this module declared before this one, by name. */
  call(name: string): this {
    this.code.push(0x10);
    uleb(this.code, this.funcIndexOf(name));
    return this;
  }

  /**
   * `while (i < end) { body(); i += step }` over i32 locals: the loop every kernel needs.
   * `end` may be a local or a constant.
   */
  whileLt(i: Local, end: Local | number, step: number, body: () => void): this {
    const pushEnd = () => (typeof end === "number" ? this.i32(end) : this.get(end));
    return this.block((exit) => {
      this.get(i);
      pushEnd();
      this.op("i32.ge_s").brIf(exit);
      this.loop((again) => {
        body();
        this.get(i).i32(step).op("i32.add").tee(i);
        pushEnd();
        this.op("i32.lt_s").brIf(again);
      });
    });
  }
}

interface FuncDecl {
  name: string;
  typeIndex: number;
  exported: boolean;
  builder: FunctionBuilder;
}

/** Options of an imported memory (sizes in 64 KiB pages). */
export interface MemoryImport {
  module?: string;
  name?: string;
  initial: number;
  maximum?: number;
  /** A shared memory (threads); requires `maximum`. */
  shared?: boolean;
}

/** Builds one module: an imported memory, then functions, encoded by {@link toBytes}. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly funcs: FuncDecl[] = [];
  private memory: MemoryImport | undefined;

  /** The module imports one linear memory (default `env.memory`). */
  importMemory(mem: MemoryImport): this {
    if (mem.shared && mem.maximum === undefined) throw new RangeError("a shared memory needs a maximum size");
    this.memory = mem;
    return this;
  }

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(",")}->${results.join(",")}`;
    const i = this.types.indexOf(key);
    if (i >= 0) return i;
    this.types.push(key);
    return this.types.length - 1;
  }

  private indexOf = (name: string): number => {
    const i = this.funcs.findIndex((f) => f.name === name);
    if (i >= 0) return i;
    throw new RangeError(`call to ${name}: declare a function before calling it`);
  };

  /**
   * Declares a function and emits its body. Exported under `name` unless `exported: false`.
   * Returns the function's index.
   */
  func(
    name: string,
    sig: { params?: readonly ValType[]; results?: readonly ValType[]; exported?: boolean },
    body: (f: FunctionBuilder) => void,
  ): number {
    if (this.funcs.some((f) => f.name === name)) throw new RangeError(`function ${name} declared twice`);
    const params = sig.params ?? [];
    const results = sig.results ?? [];
    const builder = new FunctionBuilder(params, this.indexOf);
    body(builder);
    this.funcs.push({ name, typeIndex: this.typeIndex(params, results), exported: sig.exported ?? true, builder });
    return this.funcs.length - 1;
  }

  /** The binary module. */
  toBytes(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const typeBody: number[] = [];
    vec(
      typeBody,
      this.types.map((key) => {
        const [p, r] = key.split("->") as [string, string];
        const ps = p ? (p.split(",") as ValType[]) : [];
        const rs = r ? (r.split(",") as ValType[]) : [];
        const t = [0x60];
        uleb(t, ps.length);
        t.push(...ps.map((v) => VALTYPE_CODE[v]));
        uleb(t, rs.length);
        t.push(...rs.map((v) => VALTYPE_CODE[v]));
        return t;
      }),
    );
    section(out, 1, typeBody);
    if (this.memory) {
      const m = this.memory;
      const imp: number[] = [];
      const mod = utf8(m.module ?? "env");
      const nm = utf8(m.name ?? "memory");
      uleb(imp, mod.length);
      imp.push(...mod);
      uleb(imp, nm.length);
      imp.push(...nm, 0x02, m.shared ? 0x03 : m.maximum !== undefined ? 0x01 : 0x00);
      uleb(imp, m.initial);
      if (m.maximum !== undefined) uleb(imp, m.maximum);
      const body: number[] = [];
      vec(body, [imp]);
      section(out, 2, body);
    }
    const funcBody: number[] = [];
    vec(
      funcBody,
      this.funcs.map((f) => {
        const t: number[] = [];
        uleb(t, f.typeIndex);
        return t;
      }),
    );
    section(out, 3, funcBody);
    const exportBody: number[] = [];
    vec(
      exportBody,
      this.funcs.flatMap((f, i) => {
        if (!f.exported) return [];
        const e = utf8(f.name);
        const t: number[] = [];
        uleb(t, e.length);
        t.push(...e, 0x00);
        uleb(t, i);
        return [t];
      }),
    );
    section(out, 7, exportBody);
    // The code section holds the function bodies, by far the largest part: it is written
    // straight into the result instead of being copied through nested number arrays.
    const heads = this.funcs.map((f) => {
      // Locals are declared as runs of one type.
      const runs: [number, ValType][] = [];
      for (const t of f.builder.localTypes) {
        const last = runs[runs.length - 1];
        if (last && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      const locals: number[] = [];
      uleb(locals, runs.length);
      for (const [n, t] of runs) {
        uleb(locals, n);
        locals.push(VALTYPE_CODE[t]);
      }
      const size: number[] = [];
      uleb(size, locals.length + f.builder.code.length + 1);
      return { size, locals, code: f.builder.code };
    });
    const count: number[] = [];
    uleb(count, this.funcs.length);
    const codeLength = heads.reduce((n, h) => n + h.size.length + h.locals.length + h.code.length + 1, count.length);
    const sectionHead: number[] = [10];
    uleb(sectionHead, codeLength);
    const bytes = new Uint8Array(out.length + sectionHead.length + codeLength);
    let at = 0;
    const put = (part: ArrayLike<number>) => {
      bytes.set(part, at);
      at += part.length;
    };
    put(out);
    put(sectionHead);
    put(count);
    for (const h of heads) {
      put(h.size);
      put(h.locals);
      put(h.code);
      bytes[at++] = 0x0b;
    }
    return bytes;
  }

  /** Compiles the module synchronously (kernels are built once, small, at first use). */
  compile(): WebAssembly.Module {
    return new WebAssembly.Module(this.toBytes());
  }
}
