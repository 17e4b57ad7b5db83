/**
 * Code generation for fused groups (JS backend): one loop nest over the group's domain,
 * with every member computed in registers, each intermediate rounded to its dtype exactly
 * as storing it would (so results equal eager evaluation's, bit for bit, for elementwise
 * chains), reductions accumulated in a JS number (float64) as the eager reduce kernels do.
 * Shapes are known when compiling, so sizes and strides are constants in the code. The
 * generator emits source text for `new Function` (the pattern kernels/elementwise.ts uses);
 * float32 arithmetic groups also get a Wasm SIMD kernel (wasm_kernel.ts), used when large.
 */
import type { DType, TypedArray } from "../dtype.js";
import { type Atom, Literal, type Var } from "../ir/jaxpr.js";
import { compile } from "../kernels/codegen.js";
import { type FusionGroup, broadcastStrides } from "./fusion.js";
import { isVar } from "./passes/rewrite.js";
import { type WasmFusedKernel, wasmFusedKernel } from "./wasm_kernel.js";

export type FusedKernel = (ins: TypedArray[], outs: TypedArray[]) => void;

export interface GeneratedKernel {
  /** The external inputs, in the order the kernel takes their buffers. */
  inputs: Var[];
  /** The group's outputs, in the order the kernel writes them. */
  outputs: Var[];
  source: string;
  fn: FusedKernel;
  /** Per input: read only at each element's own domain index (so its buffer may take an output in place). */
  inPlaceSafe: boolean[];
  /** Per output: written at each element's domain index (not a reduction). */
  elementwiseOut: boolean[];
  /** Whether the group runs as a Wasm SIMD kernel (else the generated JS loop). */
  wasm: boolean;
  /** The Wasm kernel alone (it may take operands already in the kernel memory), when there is one. */
  wasmKernel: WasmFusedKernel | null;
}

const literal = (l: Literal): string => {
  const v = l.value;
  return Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : String(v);
};

const rowMajor = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
};

const initOf = (op: "sum" | "max" | "min", d: DType): string =>
  op === "sum" ? "0" : op === "max" ? (d === "int32" ? "-2147483648" : "-Infinity") : d === "int32" ? "2147483647" : "Infinity";

const cache = new Map<string, FusedKernel>();

/** The group's kernel, or null where the host forbids generated code (then its equations run one by one). */
export const generateKernel = (g: FusionGroup): GeneratedKernel | null => {
  const domain = g.domain;
  const r = domain.length;
  const reduce = new Set(g.reduceAxes ?? []);
  const names = new Map<Var, string>();
  const inputs: Var[] = [];
  const inputIndex = new Map<Var, number>();
  // Accesses: each has a stride per domain axis.
  type Access = { strides: number[]; expr?: string };
  const accesses: Access[] = [];
  const loads: { name: string; buf: string; access: number }[] = [];
  const body: string[] = [];
  const stores: { buf: string; access: number; value: string }[] = [];
  const accs: { name: string; op: "sum" | "max" | "min"; dtype: DType; out: string }[] = [];
  const inputBuf = (v: Var): string => {
    let k = inputIndex.get(v);
    if (k === undefined) {
      k = inputs.length;
      inputs.push(v);
      inputIndex.set(v, k);
    }
    return `in${k}`;
  };
  const addLoad = (v: Var, strides: number[]): string => {
    const name = `l${loads.length}`;
    accesses.push({ strides });
    loads.push({ name, buf: inputBuf(v), access: accesses.length - 1 });
    return name;
  };
  const read = (a: Atom): string => {
    if (!isVar(a)) return literal(a as Literal);
    const n = names.get(a);
    if (n) return n;
    // An external value: read with NumPy broadcasting to the domain.
    const name = addLoad(a, broadcastStrides(a.aval.shape, domain));
    names.set(a, name);
    return name;
  };
  const outputs = g.outputs.slice();
  const outIndex = new Map(outputs.map((v, i) => [v, i] as const));
  let tmp = 0;
  for (const m of g.members) {
    const out = m.eqn.outputs[0]!;
    if (m.kind === "load") {
      names.set(out, addLoad(m.eqn.inputs[0] as Var, m.strides));
    } else if (m.kind === "map") {
      const ins = m.eqn.inputs.map(read);
      const v = `v${tmp++}`;
      body.push(`let ${v}; ${m.code(v, ins)}`);
      names.set(out, v);
    } else {
      const x = read(m.eqn.inputs[0]!);
      const acc = `acc${accs.length}`;
      const k = outIndex.get(out);
      if (k === undefined) continue; // an unread reduction (DCE normally removes it)
      accs.push({ name: acc, op: m.op, dtype: out.aval.dtype, out: `out${k}` });
      body.push(m.op === "sum" ? `${acc} += ${x};` : m.op === "max" ? `if (${x} > ${acc} || ${x} !== ${x}) ${acc} = ${x};` : `if (${x} < ${acc} || ${x} !== ${x}) ${acc} = ${x};`);
    }
  }
  const domStrides = rowMajor(domain);
  const sizeOfDomain = domain.reduce((a, b) => a * b, 1);
  for (const v of outputs) {
    if (v.aval.shape.length === r && !accs.some((a) => a.out === `out${outIndex.get(v)}`)) {
      accesses.push({ strides: domStrides });
      stores.push({ buf: `out${outIndex.get(v)}`, access: accesses.length - 1, value: names.get(v)! });
    }
  }

  // Loop order: kept axes outside, reduced axes inside; adjacent loops merge when every access allows.
  const order = [...domain.keys()].filter((d) => !reduce.has(d)).concat([...domain.keys()].filter((d) => reduce.has(d)));
  type Loop = { size: number; reduced: boolean; strides: number[] };
  const loops: Loop[] = [];
  for (const d of order) {
    const l: Loop = { size: domain[d]!, reduced: reduce.has(d), strides: accesses.map((a) => a.strides[d]!) };
    const prev = loops[loops.length - 1];
    if (prev && prev.reduced === l.reduced && prev.strides.every((s, k) => s === l.strides[k]! * l.size)) {
      prev.size *= l.size;
      prev.strides = l.strides;
    } else loops.push(l);
  }
  const nKept = loops.filter((l) => !l.reduced).length;
  const index = (k: number): string => {
    const terms = loops.map((l, i) => (l.strides[k] === 0 ? null : l.strides[k] === 1 ? `i${i}` : `i${i} * ${l.strides[k]}`)).filter((t) => t !== null);
    return terms.length ? terms.join(" + ") : "0";
  };
  const lines: string[] = [];
  inputs.forEach((_, k) => lines.push(`const in${k} = ins[${k}];`));
  outputs.forEach((_, k) => lines.push(`const out${k} = outs[${k}];`));
  // Loads that do not move (scalars, or broadcast along every loop) are read once.
  const hoisted = new Set<string>();
  for (const l of loads) {
    if (index(l.access) === "0") {
      lines.push(`const ${l.name} = ${l.buf}[0];`);
      hoisted.add(l.name);
    }
  }
  const inner: string[] = [];
  for (const l of loads) if (!hoisted.has(l.name)) inner.push(`const ${l.name} = ${l.buf}[${index(l.access)}];`);
  inner.push(...body);
  for (const s of stores) inner.push(`${s.buf}[${index(s.access)}] = ${s.value};`);
  const open = (i: number) => `for (let i${i} = 0; i${i} < ${loops[i]!.size}; i${i}++) {`;
  const code: string[] = [...lines];
  if (accs.length) code.push("let ro = 0;");
  for (let i = 0; i < nKept; i++) code.push(open(i));
  for (const a of accs) code.push(`let ${a.name} = ${initOf(a.op, a.dtype)};`);
  for (let i = nKept; i < loops.length; i++) code.push(open(i));
  code.push(...inner);
  for (let i = nKept; i < loops.length; i++) code.push("}");
  for (const a of accs) code.push(`${a.out}[ro] = ${a.name};`);
  if (accs.length) code.push("ro++;");
  for (let i = 0; i < nKept; i++) code.push("}");
  const source = code.join("\n");
  let fn = cache.get(source) ?? null;
  if (!fn) {
    fn = compile<FusedKernel>(["ins", "outs"], source);
    if (!fn) return null;
    cache.set(source, fn);
  }
  // Float32 arithmetic groups over contiguous or scalar operands run as Wasm SIMD where that is on.
  const wasm = wasmFusedKernel(g, inputs, outputs, (v) => broadcastStrides(v.aval.shape, domain));
  if (wasm) {
    const js = fn;
    fn = (ins, outs) => {
      if (!wasm(ins, outs)) js(ins, outs);
    };
  }
  const contiguous = (st: number[]) => st.every((x, d) => x === (domain[d] === 1 ? x : domStrides[d]));
  const inPlaceSafe = inputs.map((_, k) => loads.filter((l) => l.buf === `in${k}`).every((l) => contiguous(accesses[l.access]!.strides)) && inputs[k]!.aval.size === sizeOfDomain);
  const elementwiseOut = outputs.map((v) => stores.some((st) => st.buf === `out${outIndex.get(v)}`));
  return { inputs, outputs, source, fn, inPlaceSafe, elementwiseOut, wasm: wasm !== null, wasmKernel: wasm };
};
