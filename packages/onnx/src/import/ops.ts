/**
 * The ONNX operators `fromOnnx` reads, each as Cotangent ops (so imported graphs
 * differentiate, vmap and jit like any Cotangent function): the subset `toOnnx` writes
 * and the common inference operators. Shape-like inputs (Reshape's shape, Slice's starts,
 * axes, pads) must be constants, or computed from constants and static shapes.
 */
import { type ArrayBase, type DType, NDArray, lax, np, tree } from "@cotangent/core";
import { OnnxImportError } from "../errors.js";
import type { AttributeProto, GraphProto, NodeProto } from "../proto/schema.js";
import { dtypeOfElem, tensorToArray } from "./tensor.js";

export interface OpContext {
  node: NodeProto;
  inputs: (ArrayBase | undefined)[];
  attr: Attrs;
  /** Evaluates a subgraph with the current scope visible; returns its outputs. */
  runGraph(g: GraphProto, inputs: ArrayBase[]): ArrayBase[];
}
export type OpImpl = (c: OpContext) => (ArrayBase | undefined)[];

const fail = (c: OpContext | NodeProto, why: string, hint?: string): never => {
  const node = "node" in c ? c.node : c;
  throw new OnnxImportError(`${node.opType} node '${node.name ?? node.output[0]}': ${why}`, { op: "fromOnnx", source: null, hint });
};

/** Typed attribute access with defaults. */
export class Attrs {
  private readonly byName = new Map<string, AttributeProto>();
  constructor(
    private readonly node: NodeProto,
    attrs: readonly AttributeProto[],
  ) {
    for (const a of attrs) this.byName.set(a.name, a);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  int(name: string, dflt?: number): number {
    const a = this.byName.get(name);
    if (a?.i !== undefined) return a.i;
    if (dflt === undefined) return fail(this.node, `attribute '${name}' (an int) is missing`);
    return dflt;
  }
  float(name: string, dflt: number): number {
    return this.byName.get(name)?.f ?? dflt;
  }
  ints(name: string, dflt?: number[]): number[] | undefined {
    return this.byName.get(name)?.ints ?? dflt;
  }
  string(name: string, dflt: string): string {
    const s = this.byName.get(name)?.s;
    return s instanceof Uint8Array ? new TextDecoder().decode(s) : dflt;
  }
  graph(name: string): GraphProto {
    return this.byName.get(name)?.g ?? fail(this.node, `attribute '${name}' (a graph) is missing`);
  }
  get raw(): Map<string, AttributeProto> {
    return this.byName;
  }
}

const input = (c: OpContext, i: number, what = `input ${i}`): ArrayBase => c.inputs[i] ?? fail(c, `${what} is missing`);

/** A constant input's values (shapes, axes, pads, starts): it must be known without running the graph. */
export const constValues = (c: OpContext, i: number, what: string): number[] => {
  const x = c.inputs[i];
  if (x === undefined) return fail(c, `${what} (input ${i}) is missing`);
  if (!(x instanceof NDArray)) return fail(c, `${what} (input ${i}) must be a constant: Cotangent needs static shapes`, "fold the shape computation into constants (e.g. onnx-simplifier) or export with static shapes");
  return Array.from(x.toTypedArray(), Number);
};
const optionalConst = (c: OpContext, i: number, what: string): number[] | undefined => (c.inputs[i] === undefined ? undefined : constValues(c, i, what));

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);
const same = (a: ArrayBase, b: ArrayBase) => (b.dtype === a.dtype ? b : lax.convertElementType(b, a.dtype));

const unary = (f: (x: ArrayBase) => ArrayBase): OpImpl => (c) => [f(input(c, 0))];
const binary = (f: (a: ArrayBase, b: ArrayBase) => ArrayBase): OpImpl => (c) => [f(input(c, 0), same(input(c, 0), input(c, 1)))];
const variadic = (f: (a: ArrayBase, b: ArrayBase) => ArrayBase): OpImpl => (c) => [(c.inputs.filter((x) => x) as ArrayBase[]).reduce((a, b) => f(a, same(a, b)))];

const axesOf = (c: OpContext, rank: number, inputIndex: number): number[] | undefined => {
  const ax = c.attr.ints("axes") ?? optionalConst(c, inputIndex, "axes");
  return ax?.map((a) => normAxis(a, rank));
};

const reduce =
  (f: (x: ArrayBase, axes: number[]) => ArrayBase): OpImpl =>
  (c) => {
    const x = input(c, 0);
    let axes = axesOf(c, x.ndim, 1);
    if (axes === undefined || axes.length === 0) {
      if (c.attr.int("noop_with_empty_axes", 0)) return [x];
      axes = x.shape.map((_, i) => i);
    }
    const r = f(x, axes);
    return [c.attr.int("keepdims", 1) ? np.reshape(r, x.shape.map((d, i) => (axes!.includes(i) ? 1 : d))) : r];
  };

const argReduce =
  (f: (x: ArrayBase, axis: number) => ArrayBase): OpImpl =>
  (c) => {
    const x = input(c, 0);
    if (c.attr.int("select_last_index", 0)) fail(c, "select_last_index = 1 is not supported");
    const axis = normAxis(c.attr.int("axis", 0), x.ndim);
    const r = f(x, axis);
    return [c.attr.int("keepdims", 1) ? np.expandDims(r, axis) : r];
  };

/** ONNX's reshape: 0 copies the input's dim (unless allowzero), -1 is inferred. */
const reshape: OpImpl = (c) => {
  const x = input(c, 0);
  const shape = constValues(c, 1, "shape");
  const allowZero = c.attr.int("allowzero", 0);
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  return [np.reshape(x, dims.map((d) => (d === -1 ? x.size / known : d)))];
};

const broadcastShapes = (a: readonly number[], b: readonly number[]): number[] => {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
};

const sliceOp: OpImpl = (c) => {
  let x = input(c, 0);
  const starts = constValues(c, 1, "starts");
  const ends = constValues(c, 2, "ends");
  const axes = (optionalConst(c, 3, "axes") ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.ndim));
  const steps = optionalConst(c, 4, "steps") ?? starts.map(() => 1);
  axes.forEach((axis, k) => {
    const n = x.shape[axis]!;
    const step = steps[k]!;
    if (step === 0) fail(c, "a step of 0");
    const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const norm = (v: number) => (v < 0 ? v + n : v);
    if (step > 0) {
      const s = clampTo(norm(starts[k]!), 0, n);
      const e = clampTo(norm(ends[k]!), 0, n);
      x = lax.sliceInDim(x, s, Math.max(s, e), step, axis);
    } else {
      const s = clampTo(norm(starts[k]!), -1, n - 1);
      const e = clampTo(norm(ends[k]!), -1, n - 1);
      const idx: number[] = [];
      for (let i = s; i > e; i += step) idx.push(i);
      x = lax.gather(x, np.array(idx, { dtype: "int32" }), { axis, batch_dims: 0 });
    }
  });
  return [x];
};

const padOp: OpImpl = (c) => {
  const x = input(c, 0);
  if (c.attr.string("mode", "constant") !== "constant") fail(c, `pad mode '${c.attr.string("mode", "")}' is not supported (constant only)`);
  const pads = c.attr.ints("pads") ?? constValues(c, 1, "pads");
  const v = c.inputs[2] ?? np.zeros([], { dtype: x.dtype });
  const axes = (optionalConst(c, 3, "axes") ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.ndim));
  const cfg = x.shape.map((): [number, number, number] => [0, 0, 0]);
  axes.forEach((a, k) => (cfg[a] = [pads[k]!, pads[k + axes.length]!, 0]));
  return [lax.pad(x, np.reshape(same(x, v), []), cfg)];
};

/** Flat indices into x (as [n, ...rest]) of an element-wise index tensor along `axis`. */
const elementLinearIndex = (idx: ArrayBase, shape: readonly number[], axis: number): ArrayBase => {
  const n = shape[axis]!;
  const norm = np.where(np.less(idx, 0), np.add(idx, n), idx);
  let lin: ArrayBase = np.zeros(idx.shape, { dtype: "int32" });
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    const coord = k === axis ? norm : lax.convertElementType(lax.iota("int32", idx.shape, k), "int32");
    lin = np.add(lin, np.multiply(coord, stride));
    stride *= shape[k]!;
  }
  return lin;
};

const scatterInto = (x: ArrayBase, lin: ArrayBase, upd: ArrayBase, replace: boolean): ArrayBase => {
  const flat = np.reshape(x, [x.size]);
  const li = np.reshape(lin, [lin.size]);
  const u = np.reshape(upd, [upd.size]);
  const added = lax.scatterAdd(np.zerosLike(flat), li, u, { axis: 0, batch_dims: 0 });
  if (!replace) return np.reshape(np.add(flat, added), x.shape);
  const hit = np.greater(lax.scatterAdd(np.zeros([x.size]), li, np.ones([li.size]), { axis: 0, batch_dims: 0 }), 0);
  return np.reshape(np.add(np.where(hit, np.zerosLike(flat), flat), added), x.shape);
};

const reductionKind = (c: OpContext): "none" | "add" => {
  const r = c.attr.string("reduction", "none");
  return r === "add" || r === "none" ? r : fail(c, `reduction '${r}' is not supported (none and add are)`);
};

/** Linear indices of GatherND/ScatterND indices [B..., I..., k] into data [B..., D...] viewed as [B..., prod(D[:k]), D[k:]...]. */
const ndLinear = (idx: ArrayBase, dataShape: readonly number[], nb: number): ArrayBase => {
  const k = idx.shape[idx.ndim - 1]!;
  const dims = dataShape.slice(nb, nb + k);
  let lin: ArrayBase = np.zeros(idx.shape.slice(0, -1), { dtype: "int32" });
  let stride = 1;
  for (let j = k - 1; j >= 0; j--) {
    const col = np.reshape(lax.sliceInDim(idx, j, j + 1, 1, idx.ndim - 1), idx.shape.slice(0, -1));
    const norm = np.where(np.less(col, 0), np.add(col, dims[j]!), col);
    lin = np.add(lin, np.multiply(norm, stride));
    stride *= dims[j]!;
  }
  return lin;
};

const gatherND: OpImpl = (c) => {
  const x = input(c, 0);
  const idx = input(c, 1);
  const nb = c.attr.int("batch_dims", 0);
  const k = idx.shape[idx.ndim - 1]!;
  const flat = np.reshape(x, [...x.shape.slice(0, nb), x.shape.slice(nb, nb + k).reduce((p, d) => p * d, 1), ...x.shape.slice(nb + k)]);
  return [lax.gather(flat, ndLinear(idx, x.shape, nb), { axis: nb, batch_dims: nb })];
};

const scatterND: OpImpl = (c) => {
  const x = input(c, 0);
  const idx = input(c, 1);
  const upd = input(c, 2);
  const k = idx.shape[idx.ndim - 1]!;
  const rest = x.shape.slice(k);
  const lead = ndLinear(idx, x.shape, 0);
  const inner = rest.reduce((p, d) => p * d, 1);
  // element (i..., r) of updates goes to lead[i...] * inner + r
  const lin = np.add(np.multiply(np.reshape(lead, [...lead.shape, ...rest.map(() => 1)]), inner), np.reshape(np.arange(inner, { dtype: "int32" } as never), rest.length ? rest : []));
  return [scatterInto(x, np.broadcastTo(lin, upd.shape), upd, reductionKind(c) === "none")];
};

const convPads = (c: OpContext, x: ArrayBase, kernel: readonly number[], strides: readonly number[], dil: readonly number[]): [number, number][] => {
  const ns = kernel.length;
  const auto = c.attr.string("auto_pad", "NOTSET");
  if (auto === "VALID") return kernel.map(() => [0, 0]);
  if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    return kernel.map((k, i) => {
      const n = x.shape[2 + i]!;
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (k - 1) * dil[i]! + 1 - n);
      const small = Math.floor(total / 2);
      return auto === "SAME_UPPER" ? [small, total - small] : [total - small, small];
    });
  }
  const pads = c.attr.ints("pads") ?? new Array(2 * ns).fill(0);
  return kernel.map((_, i) => [pads[i]!, pads[i + ns]!]);
};

const conv: OpImpl = (c) => {
  const x = input(c, 0);
  const w = same(x, input(c, 1));
  const ns = x.ndim - 2;
  const strides = c.attr.ints("strides") ?? new Array(ns).fill(1);
  const dil = c.attr.ints("dilations") ?? new Array(ns).fill(1);
  const kernel = c.attr.ints("kernel_shape") ?? w.shape.slice(2);
  const y = lax.convGeneralDilated(x, w, strides, convPads(c, x, kernel, strides, dil), { rhsDilation: dil, featureGroupCount: c.attr.int("group", 1) });
  const b = c.inputs[2];
  return [b ? np.add(y, np.reshape(same(x, b), [1, b.size, ...new Array(ns).fill(1)])) : y];
};

/** Max/average pooling as a reduction over the kernel's strided window slices. */
const pool =
  (kind: "max" | "avg"): OpImpl =>
  (c) => {
    const x = input(c, 0);
    if (c.attr.int("ceil_mode", 0)) fail(c, "ceil_mode = 1 is not supported");
    if (c.node.output.length > 1 && c.node.output[1]) fail(c, "the Indices output is not supported");
    const kernel = c.attr.ints("kernel_shape") ?? fail(c, "kernel_shape is missing");
    const ns = kernel.length;
    const strides = c.attr.ints("strides") ?? new Array(ns).fill(1);
    const dil = kind === "max" ? (c.attr.ints("dilations") ?? new Array(ns).fill(1)) : new Array(ns).fill(1);
    const pads = convPads(c, x, kernel, strides, dil);
    const fill = kind === "max" ? -Infinity : 0;
    const padded = lax.pad(x, np.array(fill, { dtype: x.dtype }), [[0, 0, 0], [0, 0, 0], ...pads.map(([lo, hi]): [number, number, number] => [lo, hi, 0])]);
    const outDims = kernel.map((k, i) => Math.floor((padded.shape[2 + i]! - ((k - 1) * dil[i]! + 1)) / strides[i]!) + 1);
    const offsets: number[][] = [[]];
    for (const k of kernel) offsets.splice(0, offsets.length, ...offsets.flatMap((o) => Array.from({ length: k }, (_, j) => [...o, j])));
    const windows = offsets.map((o) => {
      const start = [0, 0, ...o.map((j, i) => j * dil[i]!)];
      const limit = [x.shape[0]!, x.shape[1]!, ...o.map((j, i) => j * dil[i]! + (outDims[i]! - 1) * strides[i]! + 1)];
      return lax.slice(padded, start, limit, [1, 1, ...strides]);
    });
    if (kind === "max") return [windows.reduce((a, b) => np.maximum(a, b))];
    const sum = windows.reduce((a, b) => np.add(a, b));
    if (c.attr.int("count_include_pad", 0) || pads.every(([lo, hi]) => lo === 0 && hi === 0)) return [np.divide(sum, offsets.length)];
    // Divide by the number of real (unpadded) elements in each window.
    const ones = lax.pad(np.ones(x.shape.slice(2).map((d) => d), { dtype: x.dtype }), np.array(0, { dtype: x.dtype }), pads.map(([lo, hi]): [number, number, number] => [lo, hi, 0]));
    const counts = offsets
      .map((o) => lax.slice(ones, o.map((j, i) => j * dil[i]!), o.map((j, i) => j * dil[i]! + (outDims[i]! - 1) * strides[i]! + 1), strides))
      .reduce((a, b) => np.add(a, b));
    return [np.divide(sum, counts)];
  };

const softmaxLike =
  (log: boolean): OpImpl =>
  (c) => {
    const x = input(c, 0);
    const axis = normAxis(c.attr.int("axis", -1), x.ndim);
    const shifted = np.subtract(x, np.max(x, { axis, keepdims: true }));
    const z = np.sum(np.exp(shifted), { axis, keepdims: true });
    return [log ? np.subtract(shifted, np.log(z)) : np.divide(np.exp(shifted), z)];
  };

const batchNorm: OpImpl = (c) => {
  if (c.attr.int("training_mode", 0)) fail(c, "training_mode = 1 is not supported (inference form only)");
  const x = input(c, 0);
  const shape = [1, x.shape[1]!, ...x.shape.slice(2).map(() => 1)];
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => np.reshape(same(x, input(c, i)), shape)) as [ArrayBase, ArrayBase, ArrayBase, ArrayBase];
  const eps = c.attr.float("epsilon", 1e-5);
  return [np.add(np.multiply(np.divide(np.subtract(x, mean), np.sqrt(np.add(variance, eps))), scale), bias)];
};

const gemm: OpImpl = (c) => {
  let a = input(c, 0);
  let b = same(a, input(c, 1));
  if (c.attr.int("transA", 0)) a = np.transpose(a);
  if (c.attr.int("transB", 0)) b = np.transpose(b);
  let y = np.multiply(np.matmul(a, b), c.attr.float("alpha", 1));
  const cc = c.inputs[2];
  if (cc) y = np.add(y, np.multiply(same(a, cc), c.attr.float("beta", 1)));
  return [y];
};

const constant: OpImpl = (c) => {
  const raw = c.attr.raw;
  const t = raw.get("value")?.t;
  if (t) return [tensorToArray(t, `Constant '${c.node.output[0]}'`)];
  const f = raw.get("value_float")?.f;
  if (f !== undefined) return [np.array(f, { dtype: "float32" })];
  const i = raw.get("value_int")?.i;
  if (i !== undefined) return [np.array(i, { dtype: "int32" })];
  const fs = raw.get("value_floats")?.floats;
  if (fs) return [np.array(fs, { dtype: "float32" })];
  const is = raw.get("value_ints")?.ints;
  if (is) return [np.array(is, { dtype: "int32" })];
  return fail(c, "needs a value, value_float(s) or value_int(s) attribute");
};

const castTo = (c: OpContext): DType => dtypeOfElem(c.attr.int("to"), `Cast '${c.node.output[0]}'`);

const ifOp: OpImpl = (c) => {
  const p = input(c, 0, "cond");
  const thenG = c.attr.graph("then_branch");
  const elseG = c.attr.graph("else_branch");
  if (p instanceof NDArray) return c.runGraph(p.item() ? thenG : elseG, []);
  const out = lax.cond(np.reshape(p, []), () => c.runGraph(thenG, []), () => c.runGraph(elseG, []));
  return tree.leaves(out) as ArrayBase[];
};

/**
 * Loop: with a constant trip count and a condition that the body passes through unchanged
 * (as toOnnx's scans write it) -> lax.scan; with no trip count and no scan outputs -> lax.whileLoop.
 */
const loopOp: OpImpl = (c) => {
  const body = c.attr.graph("body");
  const [mIn, condIn, ...init] = c.inputs;
  const nCarry = init.length;
  const bodyNodes = body.node ?? [];
  const condOutName = body.output?.[0]?.name;
  const condInName = body.input?.[1]?.name;
  const producer = bodyNodes.find((n) => n.output.includes(condOutName ?? ""));
  const passesCond = condOutName === condInName || (producer?.opType === "Identity" && producer.input[0] === condInName);
  const nScan = (body.output?.length ?? 0) - 1 - nCarry;
  const carries = init.map((x, k) => x ?? fail(c, `loop-carried input ${k} is missing`));
  if (mIn !== undefined) {
    if (!(mIn instanceof NDArray)) return fail(c, "the trip count must be a constant");
    const m = mIn.item();
    const condConst = condIn === undefined || (condIn instanceof NDArray && condIn.item());
    if (!passesCond || !condConst) return fail(c, "a Loop with a trip count must keep its condition true (as a scan) to be imported");
    const [carry, ys] = lax.scan(
      (cs: ArrayBase[], i: ArrayBase) => {
        const outs = c.runGraph(body, [np.astype(i, "int32"), np.array(true), ...cs]);
        return [outs.slice(1, 1 + nCarry), outs.slice(1 + nCarry)];
      },
      carries,
      np.arange(m, { dtype: "int32" } as never),
    ) as [ArrayBase[], ArrayBase[]];
    return [...carry, ...ys];
  }
  if (nScan > 0) return fail(c, "a Loop with no trip count cannot have scan outputs here (their length is data-dependent)");
  if (condIn === undefined) return fail(c, "a Loop with neither a trip count nor a condition never ends");
  // Carry (iteration, cond, values...) through whileLoop.
  const [, , ...final] = lax.whileLoop(
    (s: ArrayBase[]) => np.reshape(s[1]!, []),
    (s: ArrayBase[]) => {
      const outs = c.runGraph(body, [s[0]!, s[1]!, ...s.slice(2)]);
      return [np.add(s[0]!, 1), np.reshape(outs[0]!, []), ...outs.slice(1)];
    },
    [np.array(0, { dtype: "int32" }), np.reshape(condIn, []), ...carries],
  ) as ArrayBase[];
  return final;
};

export const importOps: Readonly<Record<string, OpImpl>> = {
  Identity: unary((x) => x),
  Dropout: (c) => [input(c, 0), np.ones(input(c, 0).shape, { dtype: "bool" })],
  Constant: constant,
  Cast: (c) => [lax.convertElementType(input(c, 0), castTo(c))],
  Add: binary(lax.add),
  Sub: binary(lax.sub),
  Mul: binary(lax.mul),
  Div: (c) => {
    const [a, b] = [input(c, 0), same(input(c, 0), input(c, 1))];
    return [a.dtype === "int32" ? lax.div(a, b) : lax.div(a, b)];
  },
  Mod: (c) => [c.attr.int("fmod", 0) ? lax.rem(input(c, 0), same(input(c, 0), input(c, 1))) : np.mod(input(c, 0), same(input(c, 0), input(c, 1)))],
  Pow: binary(lax.pow),
  Neg: unary(lax.neg),
  Abs: unary(lax.abs),
  Sign: unary(lax.sign),
  Exp: unary(lax.exp),
  Log: unary(lax.log),
  Sqrt: unary(lax.sqrt),
  Reciprocal: unary((x) => lax.div(np.onesLike(x), x)),
  Floor: unary(lax.floor),
  Ceil: unary(lax.ceil),
  Round: unary((x) => lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)),
  Erf: unary(lax.erf),
  Sigmoid: unary(lax.logistic),
  Tanh: unary(lax.tanh),
  Sin: unary(lax.sin),
  Cos: unary(lax.cos),
  Tan: unary(lax.tan),
  Asin: unary(lax.asin),
  Acos: unary(lax.acos),
  Atan: unary(lax.atan),
  Sinh: unary(lax.sinh),
  Cosh: unary(lax.cosh),
  Asinh: unary(lax.asinh),
  Acosh: unary(lax.acosh),
  Atanh: unary(lax.atanh),
  Relu: unary((x) => lax.max(x, np.zerosLike(x))),
  LeakyRelu: (c) => {
    const x = input(c, 0);
    return [np.where(np.greater(x, 0), x, np.multiply(x, c.attr.float("alpha", 0.01)))];
  },
  Elu: (c) => {
    const x = input(c, 0);
    return [np.where(np.greater(x, 0), x, np.multiply(lax.expm1(x), c.attr.float("alpha", 1)))];
  },
  Softplus: unary((x) => np.add(np.maximum(x, 0), lax.log1p(np.exp(np.negative(np.abs(x)))))),
  Gelu: (c) => {
    const x = input(c, 0);
    if (c.attr.string("approximate", "none") !== "none") return [np.multiply(np.multiply(x, 0.5), np.add(1, np.tanh(np.multiply(Math.sqrt(2 / Math.PI), np.add(x, np.multiply(0.044715, np.power(x, 3)))))))];
    return [np.multiply(np.multiply(x, 0.5), np.add(1, lax.erf(np.multiply(x, Math.SQRT1_2))))];
  },
  Softmax: softmaxLike(false),
  LogSoftmax: softmaxLike(true),
  Max: variadic(lax.max),
  Min: variadic(lax.min),
  Sum: variadic(lax.add),
  Mean: (c) => {
    const xs = c.inputs.filter((x) => x) as ArrayBase[];
    return [np.divide(xs.reduce((a, b) => lax.add(a, same(a, b))), xs.length)];
  },
  Clip: (c) => {
    const x = input(c, 0);
    let y = x;
    if (c.inputs[1]) y = lax.max(y, same(x, c.inputs[1]));
    if (c.inputs[2]) y = lax.min(y, same(x, c.inputs[2]));
    return [y];
  },
  Equal: binary(lax.eq),
  Less: binary(lax.lt),
  LessOrEqual: binary(lax.le),
  Greater: binary(lax.gt),
  GreaterOrEqual: binary(lax.ge),
  Not: unary(lax.bitwiseNot),
  And: binary(lax.bitwiseAnd),
  Or: binary(lax.bitwiseOr),
  Xor: binary(lax.bitwiseXor),
  BitwiseAnd: binary(lax.bitwiseAnd),
  BitwiseOr: binary(lax.bitwiseOr),
  BitwiseXor: binary(lax.bitwiseXor),
  BitwiseNot: unary(lax.bitwiseNot),
  IsNaN: unary(np.isnan),
  IsInf: unary(np.isinf),
  Where: (c) => {
    const x = input(c, 1);
    return [lax.select(np.broadcastTo(input(c, 0), broadcastShapes(broadcastShapes(input(c, 0).shape, x.shape), input(c, 2).shape)), ...[x, same(x, input(c, 2))].map((v) => np.broadcastTo(v, broadcastShapes(broadcastShapes(input(c, 0).shape, x.shape), input(c, 2).shape))) as [ArrayBase, ArrayBase])];
  },
  MatMul: binary(np.matmul),
  Gemm: gemm,
  Einsum: (c) => [np.einsum(c.attr.string("equation", ""), ...(c.inputs as ArrayBase[]))],
  Conv: conv,
  MaxPool: pool("max"),
  AveragePool: pool("avg"),
  GlobalAveragePool: unary((x) => np.mean(x, { axis: x.shape.slice(2).map((_, i) => i + 2), keepdims: true })),
  GlobalMaxPool: unary((x) => np.max(x, { axis: x.shape.slice(2).map((_, i) => i + 2), keepdims: true })),
  BatchNormalization: batchNorm,
  Reshape: reshape,
  Flatten: (c) => {
    const x = input(c, 0);
    const axis = normAxis(c.attr.int("axis", 1), x.ndim);
    const lead = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    return [np.reshape(x, [lead, x.size / Math.max(lead, 1)])];
  },
  Expand: (c) => {
    const x = input(c, 0);
    return [np.broadcastTo(x, broadcastShapes(x.shape, constValues(c, 1, "shape")))];
  },
  Transpose: (c) => {
    const x = input(c, 0);
    return [np.transpose(x, c.attr.ints("perm") ?? x.shape.map((_, i) => x.ndim - 1 - i))];
  },
  Squeeze: (c) => {
    const x = input(c, 0);
    const axes = axesOf(c, x.ndim, 1) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return [np.reshape(x, x.shape.filter((_, i) => !axes.includes(i)))];
  },
  Unsqueeze: (c) => {
    const x = input(c, 0);
    const ax = c.attr.ints("axes") ?? constValues(c, 1, "axes");
    const rank = x.ndim + ax.length;
    const axes = ax.map((a) => normAxis(a, rank));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]!);
    return [np.reshape(x, shape)];
  },
  Slice: sliceOp,
  Pad: padOp,
  Concat: (c) => {
    const xs = c.inputs.filter((x) => x) as ArrayBase[];
    return [lax.concatenate(xs, normAxis(c.attr.int("axis"), xs[0]!.ndim))];
  },
  Gather: (c) => {
    const x = input(c, 0);
    return [lax.gather(x, lax.convertElementType(input(c, 1), "int32"), { axis: normAxis(c.attr.int("axis", 0), x.ndim), batch_dims: 0 })];
  },
  GatherElements: (c) => {
    const x = input(c, 0);
    const axis = normAxis(c.attr.int("axis", 0), x.ndim);
    const lin = elementLinearIndex(input(c, 1), x.shape, axis);
    return [np.reshape(lax.gather(np.reshape(x, [x.size]), np.reshape(lin, [lin.size]), { axis: 0, batch_dims: 0 }), input(c, 1).shape)];
  },
  GatherND: gatherND,
  ScatterElements: (c) => {
    const x = input(c, 0);
    const axis = normAxis(c.attr.int("axis", 0), x.ndim);
    return [scatterInto(x, elementLinearIndex(input(c, 1), x.shape, axis), same(x, input(c, 2)), reductionKind(c) === "none")];
  },
  ScatterND: scatterND,
  CumSum: (c) => {
    const x = input(c, 0);
    const axis = normAxis(constValues(c, 1, "axis")[0]!, x.ndim);
    const r = lax.cumsum(x, axis, c.attr.int("reverse", 0) === 1);
    return [c.attr.int("exclusive", 0) ? lax.sub(r, x) : r];
  },
  ReduceSum: reduce((x, axes) => lax.reduceSum(x, axes)),
  ReduceMax: reduce((x, axes) => (x.dtype === "bool" ? lax.reduceOr(x, axes) : lax.reduceMax(x, axes))),
  ReduceMin: reduce((x, axes) => (x.dtype === "bool" ? lax.reduceAnd(x, axes) : lax.reduceMin(x, axes))),
  ReduceProd: reduce((x, axes) => lax.reduceProd(x, axes)),
  ReduceMean: reduce((x, axes) => np.mean(x, { axis: axes })),
  ArgMax: argReduce((x, axis) => lax.argmax(x, axis)),
  ArgMin: argReduce((x, axis) => lax.argmin(x, axis)),
  Shape: (c) => {
    const x = input(c, 0);
    const n = x.ndim;
    const start = normAxis(c.attr.int("start", 0), n);
    const end = c.attr.has("end") ? normAxis(c.attr.int("end"), n) : n;
    return [np.array(x.shape.slice(start, end), { dtype: "int32" })];
  },
  Size: (c) => [np.array(input(c, 0).size, { dtype: "int32" })],
  ConstantOfShape: (c) => {
    const shape = constValues(c, 0, "shape");
    const t = c.attr.raw.get("value")?.t;
    const v = t ? tensorToArray(t, "ConstantOfShape value") : np.array([0], { dtype: "float32" });
    return [np.broadcastTo(np.reshape(v, []), shape)];
  },
  Range: (c) => {
    const [s, l, d] = [0, 1, 2].map((i) => constValues(c, i, ["start", "limit", "delta"][i]!)[0]!) as [number, number, number];
    const n = Math.max(Math.ceil((l - s) / d), 0);
    return [np.array(Array.from({ length: n }, (_, i) => s + i * d), { dtype: input(c, 0).dtype })];
  },
  If: ifOp,
  Loop: loopOp,
};
