/**
 * Scaled dot-product attention (Vaswani et al. 2017): the function `dotProductAttention`
 * with `jax.nn.dot_product_attention`'s layout and semantics, and the layer
 * `multiHeadAttention` (Flax's `MultiHeadDotProductAttention`) built on it.
 */
import {
  type ArrayBase,
  DTypeError,
  type DType,
  type PositionalOr,
  describeValue,
  ShapeError,
  type Signature,
  ValueError,
  lax,
  np,
  parseArgs,
  random,
  signature,
} from "@cotangent/core";
import { softmax } from "../activations.js";
import { type Initializer, lecunNormal, zeros } from "../initializers.js";
import { type ApplyOptions, type Layer, checkFloatInput, checkParam, checkParamDType, checkParamsObject, checkSize } from "./layer.js";

export interface DotProductAttentionOptions {
  /** Added to the logits; broadcastable to [B, N, T, S]. */
  bias?: np.ArrayLike | null;
  /** Boolean, true where a query may attend a key; broadcastable to [B, N, T, S]. */
  mask?: np.ArrayLike | null;
  /** Multiplies the logits. Default 1/sqrt(H). */
  scale?: number | null;
  /** Query t attends keys s ≤ t only (the lower triangle of [T, S], as JAX). Default false. */
  isCausal?: boolean;
  /** int32 [B]: query positions at or after the length are padding (their rows are masked). */
  querySeqLengths?: np.ArrayLike | null;
  /** int32 [B]: key positions at or after the length are padding (never attended). */
  keyValueSeqLengths?: np.ArrayLike | null;
  /**
   * Local (sliding-window) attention: `[left, right]` lets query t attend keys s with
   * t - left ≤ s ≤ t + right; one number is a symmetric window. Default: no window.
   */
  localWindowSize?: number | readonly [number, number] | null;
}

/** `(query, key, value, bias?, mask?, options?)` as JAX takes them. */
export type DotProductAttentionArgs = PositionalOr<[bias: np.ArrayLike | null, mask: np.ArrayLike | null], DotProductAttentionOptions>;

const attentionSig: Signature = signature("nn.dotProductAttention", [
  "query:array!",
  "key:array!",
  "value:array!",
  "bias:array?",
  "mask:array?",
  "scale:finite?=",
  "isCausal:bool=",
  "querySeqLengths:array?=",
  "keyValueSeqLengths:array?=",
  "localWindowSize:ints?=",
]);

const shapeStr = (x: ArrayBase) => `[${x.shape.join(", ")}]`;

/** The most negative number a masked logit becomes: -0.7 × the dtype's max, as JAX (finite, so a fully masked row gives a uniform softmax, not NaN). */
const largeNegative = (dtype: DType): number => (dtype === "float64" ? -0.7 * Number.MAX_VALUE : -0.7 * 3.4028234663852886e38);

/** `b` must broadcast to `target` (numpy rules), or a ShapeError naming the argument. */
const checkBroadcastable = (op: string, what: string, b: ArrayBase, target: readonly number[]): void => {
  const ok = b.ndim <= target.length && b.shape.every((n, i) => n === 1 || n === target[target.length - b.ndim + i]);
  if (!ok) {
    throw new ShapeError(`${what} of shape ${shapeStr(b)} does not broadcast to the logits' shape [${target.join(", ")}] ([B, N, T, S])`, {
      op,
      hint: `give ${what} shape [B or 1, N or 1, T or 1, S or 1]`,
    });
  }
};

/** int32 sequence lengths of shape [B]. */
const seqLengths = (op: string, what: string, v: np.ArrayLike, b: number): ArrayBase => {
  const a = np.asArray(v);
  if (a.dtype !== "int32") throw new DTypeError(`${what} must be int32, got ${a.aval}`, { op });
  if (a.shape.join() !== String(b)) throw new ShapeError(`${what} must have shape [${b}] (one length per batch entry), got ${shapeStr(a)}`, { op });
  return a;
};

/**
 * Scaled dot-product attention, as `jax.nn.dot_product_attention`:
 *
 *     logits = scale · einsum("BTNH,BSNH->BNTS", query, key) + bias,  masked where mask is false
 *     out    = einsum("BNTS,BSNH->BTNH", softmax(logits over S), value)
 *
 * `query` is [B, T, N, H] (batch, query length, heads, head size); `key` and `value` are
 * [B, S, K, H] with K dividing N (grouped-query attention: query head n reads key/value head
 * n // (N / K); K = N is ordinary multi-head attention). Rank-3 inputs ([T, N, H]) have no
 * batch axis. `bias` and `mask` broadcast to [B, N, T, S]; `mask`, `isCausal`, the
 * sequence lengths and `localWindowSize` combine (a key is attended only where all allow it). Masked logits become
 * -0.7 × the dtype's largest number, as JAX, so a row with every key masked attends
 * uniformly instead of giving NaN. The softmax runs in the inputs' float dtype. Returns
 * [B, T, N, H].
 */
export function dotProductAttention(query: np.ArrayLike, key: np.ArrayLike, value: np.ArrayLike, ...args: DotProductAttentionArgs): ArrayBase {
  const o = parseArgs<DotProductAttentionOptions>(attentionSig, [query, key, value, ...args]);
  return attend(query, key, value, o);
}

/**
 * The attention itself; `weights`, when given, maps the attention weights [B, N, T, S]
 * (after the softmax) before they weight the values: the layer's dropout.
 */
const attend = (query: np.ArrayLike, key: np.ArrayLike, value: np.ArrayLike, o: DotProductAttentionOptions, weights?: (p: ArrayBase) => ArrayBase): ArrayBase => {
  const op = "nn.dotProductAttention";
  let q = np.asArray(query);
  let k = np.asArray(key);
  let v = np.asArray(value);
  for (const [name, a] of [["query", q], ["key", k], ["value", v]] as const) {
    if (a.dtype !== "float32" && a.dtype !== "float64") throw new DTypeError(`${name} must be a float array, got ${a.aval}`, { op, hint: 'convert with np.astype(x, "float32")' });
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) {
    throw new DTypeError(`query, key and value must share a dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}`, { op, hint: "convert them to one float dtype with np.astype" });
  }
  const rank = q.ndim;
  if ((rank !== 3 && rank !== 4) || k.ndim !== rank || v.ndim !== rank) {
    throw new ShapeError(`query, key and value must all be [B, T, N, H] (rank 4) or [T, N, H] (rank 3), got ${shapeStr(q)}, ${shapeStr(k)} and ${shapeStr(v)}`, { op });
  }
  if (rank === 3) [q, k, v] = [q, k, v].map((a) => np.expandDims(a, 0)) as [ArrayBase, ArrayBase, ArrayBase];
  const [B, T, N, H] = q.shape as [number, number, number, number];
  const [, S, K] = k.shape as [number, number, number, number];
  if (k.shape[0] !== B || k.shape[3] !== H) {
    throw new ShapeError(`key ${shapeStr(k)} must be [B, S, K, H] with query's B = ${B} and H = ${H} (query is [B, T, N, H] = ${shapeStr(q)})`, { op });
  }
  if (v.shape.join() !== k.shape.join()) throw new ShapeError(`value ${shapeStr(v)} must have key's shape ${shapeStr(k)} ([B, S, K, H])`, { op });
  if (K === 0 || N % K !== 0) {
    throw new ShapeError(`the number of key/value heads (K = ${K}) must divide the number of query heads (N = ${N})`, { op, hint: "K = N is multi-head attention, K = 1 multi-query attention" });
  }
  const G = N / K;
  const logitsShape = [B, N, T, S];
  const scale = o.scale ?? 1 / Math.sqrt(H);
  // [B, T, K, G, H] · [B, S, K, H] over H, batched over (B, K): [B, K, T, G, S] -> [B, N, T, S].
  const qg = np.reshape(q, [B, T, K, G, H]);
  let logits = lax.dotGeneral(qg, k, [[[4], [3]], [[0, 2], [0, 2]]]);
  logits = np.reshape(np.transpose(logits, [0, 1, 3, 2, 4]), logitsShape);
  logits = np.multiply(logits, scale);
  if (o.bias !== undefined && o.bias !== null) {
    const b = np.asArray(o.bias);
    checkBroadcastable(op, "bias", b, rank === 3 ? logitsShape.slice(1) : logitsShape);
    logits = np.add(logits, np.astype(b, logits.dtype));
  }
  // Every mask as a boolean broadcastable to [B, N, T, S]; they combine by "and".
  const masks: ArrayBase[] = [];
  if (o.mask !== undefined && o.mask !== null) {
    const m = np.asArray(o.mask);
    if (m.dtype !== "bool") throw new DTypeError(`mask must be boolean (true where attention is allowed), got ${m.aval}`, { op, hint: "make it with a comparison, e.g. np.greater(ids, 0)" });
    checkBroadcastable(op, "mask", m, rank === 3 ? logitsShape.slice(1) : logitsShape);
    masks.push(m);
  }
  const tPos = lax.iota("int32", [T, S], 0);
  const sPos = lax.iota("int32", [T, S], 1);
  if (o.isCausal) masks.push(np.lessEqual(sPos, tPos));
  if (o.querySeqLengths !== undefined && o.querySeqLengths !== null) {
    const lens = seqLengths(op, "querySeqLengths", o.querySeqLengths, B);
    masks.push(np.less(np.reshape(tPos, [1, 1, T, S]), np.reshape(lens, [B, 1, 1, 1])));
  }
  if (o.keyValueSeqLengths !== undefined && o.keyValueSeqLengths !== null) {
    const lens = seqLengths(op, "keyValueSeqLengths", o.keyValueSeqLengths, B);
    masks.push(np.less(np.reshape(sPos, [1, 1, T, S]), np.reshape(lens, [B, 1, 1, 1])));
  }
  if (o.localWindowSize !== undefined && o.localWindowSize !== null) {
    const w = typeof o.localWindowSize === "number" ? [o.localWindowSize, o.localWindowSize] : o.localWindowSize;
    if (w.length !== 2 || !w.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new ValueError(`localWindowSize must be a non-negative integer or a [left, right] pair of them, got ${describeValue(o.localWindowSize)}`, { op });
    }
    const offset = np.subtract(sPos, tPos); // s - t
    masks.push(np.logicalAnd(np.greaterEqual(offset, -w[0]!), np.lessEqual(offset, w[1]!)));
  }
  if (masks.length > 0) {
    const allowed = masks.reduce((a, b) => np.logicalAnd(a, b));
    logits = np.where(allowed, logits, np.full([], largeNegative(logits.dtype), { dtype: logits.dtype }));
  }
  const sm = softmax(logits, -1);
  const probs = np.reshape(weights ? weights(sm) : sm, [B, K, G, T, S]);
  // [B, K, G, T, S] · [B, S, K, H] over S, batched over (B, K): [B, K, G, T, H] -> [B, T, N, H].
  let out = lax.dotGeneral(probs, v, [[[4], [1]], [[0, 1], [0, 2]]]);
  out = np.reshape(np.transpose(out, [0, 3, 1, 2, 4]), [B, T, N, H]);
  return rank === 3 ? np.squeeze(out, 0) : out;
};

// ---------------------------------------------------------------- the layer

export interface MultiHeadAttentionOptions {
  /** Total size of the queries, keys and values over all heads (numHeads · head size). Default: features. */
  qkvFeatures?: number;
  /** Output size. Default: features. */
  outFeatures?: number;
  /** Feature size of the key/value input (`kv` in apply). Default: features. */
  kvFeatures?: number;
  /** Causal self-attention by default (apply's `isCausal` overrides it). Default false. */
  isCausal?: boolean;
  /**
   * Dropout on the attention weights in training (`apply(..., { train: true, key })`), as
   * Flax's `dropout_rate`: each weight is zeroed with this probability and the rest scaled
   * by 1/(1 - rate). Default 0.
   */
  dropoutRate?: number;
  /** Biases on the four projections. Default true. */
  useBias?: boolean;
  /** Initializer of each projection's kernel, drawn as a [fanIn, fanOut] matrix. Default LeCun normal, as Flax. */
  kernelInit?: Initializer;
  biasInit?: Initializer;
  dtype?: DType;
}

/** One projection: kernel `w` and optional bias `b`. */
export interface ProjectionParams {
  w: ArrayBase;
  b?: ArrayBase;
}

/**
 * Params of `multiHeadAttention` (Flax's layout): `query`, `key`, `value` have
 * `w: [inFeatures, numHeads, headSize]`, `b: [numHeads, headSize]`; `out` has
 * `w: [numHeads, headSize, outFeatures]`, `b: [outFeatures]`.
 */
export interface MultiHeadAttentionParams {
  query: ProjectionParams;
  key: ProjectionParams;
  value: ProjectionParams;
  out: ProjectionParams;
}

export interface AttentionApplyOptions extends ApplyOptions {
  /** The key/value input [..., S, kvFeatures] (cross-attention). Default: the query input itself. */
  kv?: ArrayBase;
  /** Boolean, broadcastable to [...batch, numHeads, T, S]: true where a query may attend a key. */
  mask?: np.ArrayLike | null;
  /** Added to the attention logits; broadcastable to [...batch, numHeads, T, S]. */
  bias?: np.ArrayLike | null;
  /** Overrides the layer's `isCausal`. */
  isCausal?: boolean;
}

/** A multi-head attention layer: `apply(params, x, { kv, mask, bias, isCausal })`. */
export interface MultiHeadAttentionLayer extends Layer<MultiHeadAttentionParams> {
  apply(params: MultiHeadAttentionParams, x: ArrayBase, options?: AttentionApplyOptions): ArrayBase;
}

const mhaSig: Signature = signature("nn.multiHeadAttention", [
  "numHeads:count!",
  "features:count!",
  "qkvFeatures:count=",
  "outFeatures:count=",
  "kvFeatures:count=",
  "isCausal:bool=",
  "dropoutRate:finite=",
  "useBias:bool=",
  "kernelInit:function=",
  "biasInit:function=",
  "dtype:dtype=",
]);

const applySig: Signature = signature("nn.multiHeadAttention(...).apply", ["params:any!", "x:arrayValue!", "kv:arrayValue=", "mask:array?=", "bias:array?=", "isCausal:bool=", "train:bool=", "key:any="]);

/**
 * `multiHeadAttention(numHeads, features)`: Flax's `MultiHeadDotProductAttention`. The input
 * `x` [..., T, features] is projected to queries, and `kv` (default `x`: self-attention)
 * [..., S, kvFeatures] to keys and values, each split into `numHeads` heads of size
 * `qkvFeatures / numHeads`; `dotProductAttention` runs per head, and an output projection
 * maps the heads back to [..., T, outFeatures]. Any number of leading batch axes (including
 * none). `mask` (true = attend) and `bias` broadcast to [...batch, numHeads, T, S];
 * `isCausal` masks the future.
 */
export const multiHeadAttention = (numHeads: number, features: number, options: MultiHeadAttentionOptions = {}): MultiHeadAttentionLayer => {
  const op = "nn.multiHeadAttention";
  parseArgs(mhaSig, [numHeads, features, options]);
  checkSize(op, "numHeads", numHeads);
  checkSize(op, "features", features);
  const qkv = checkSize(op, "qkvFeatures", options.qkvFeatures ?? features);
  const outFeatures = checkSize(op, "outFeatures", options.outFeatures ?? features);
  const kvFeatures = checkSize(op, "kvFeatures", options.kvFeatures ?? features);
  if (qkv % numHeads !== 0) {
    throw new ValueError(`qkvFeatures (${qkv}) must be divisible by numHeads (${numHeads})`, { op, hint: "each head gets qkvFeatures / numHeads features" });
  }
  const headSize = qkv / numHeads;
  const dropoutRate = options.dropoutRate ?? 0;
  if (!(dropoutRate >= 0 && dropoutRate < 1)) throw new ValueError(`dropoutRate must be in [0, 1), got ${describeValue(dropoutRate)}`, { op });
  const dtype = checkParamDType(op, options.dtype);
  const useBias = options.useBias ?? true;
  const kernelInit = options.kernelInit ?? lecunNormal();
  const biasInit = options.biasInit ?? zeros;
  // Kernels are drawn as [fanIn, fanOut] matrices (so the fans are right) and then split into heads, as Flax's DenseGeneral.
  const projection = (key: ArrayBase, inShape: number[], outShape: number[]): ProjectionParams => {
    const [kw, kb] = random.split(key);
    const fanIn = inShape.reduce((a, b) => a * b, 1);
    const fanOut = outShape.reduce((a, b) => a * b, 1);
    const w = np.reshape(kernelInit(kw!, [fanIn, fanOut], dtype), [...inShape, ...outShape]);
    return useBias ? { w, b: np.reshape(biasInit(kb!, [fanOut], dtype), outShape) } : { w };
  };
  const checkProjection = (name: string, p: unknown, wShape: number[], bShape: number[]): ProjectionParams => {
    const obj = checkParamsObject(op, `params.${name}`, p);
    checkParam(op, `params.${name}.w`, obj.w, wShape);
    if (obj.b !== undefined) checkParam(op, `params.${name}.b`, obj.b, bShape);
    return obj as unknown as ProjectionParams;
  };
  const heads = [numHeads, headSize];
  return {
    name: "multiHeadAttention",
    init: (key) => {
      const [kq, kk, kv, ko] = random.split(key, 4);
      return {
        query: projection(kq!, [features], heads),
        key: projection(kk!, [kvFeatures], heads),
        value: projection(kv!, [kvFeatures], heads),
        out: projection(ko!, heads, [outFeatures]),
      };
    },
    apply: (params, x, applyOptions: AttentionApplyOptions = {}) => {
      parseArgs(applySig, [params, x, applyOptions]);
      checkParamsObject(op, "params", params);
      const pq = checkProjection("query", params.query, [features, ...heads], heads);
      const pk = checkProjection("key", params.key, [kvFeatures, ...heads], heads);
      const pv = checkProjection("value", params.value, [kvFeatures, ...heads], heads);
      const po = checkProjection("out", params.out, [...heads, outFeatures], [outFeatures]);
      checkFloatInput(op, x);
      const kvIn = applyOptions.kv ?? x;
      checkFloatInput(op, kvIn);
      if (x.ndim < 2 || x.shape[x.ndim - 1] !== features) {
        throw new ShapeError(`the query input must be [..., length, ${features}], got ${shapeStr(x)}`, { op, hint: x.ndim < 2 ? "a sequence needs a length axis: [length, features]" : undefined });
      }
      if (kvIn.ndim !== x.ndim || kvIn.shape[kvIn.ndim - 1] !== kvFeatures || kvIn.shape.slice(0, -2).join() !== x.shape.slice(0, -2).join()) {
        throw new ShapeError(`the key/value input must be [${[...x.shape.slice(0, -2), "S", kvFeatures].join(", ")}] (the query's batch axes), got ${shapeStr(kvIn)}`, { op });
      }
      const batch = x.shape.slice(0, -2);
      const B = batch.reduce((a, b) => a * b, 1);
      const [T, S] = [x.shape[x.ndim - 2]!, kvIn.shape[kvIn.ndim - 2]!];
      // Projections: [..., L, F] · [F, N, Hd] -> [B, L, N, Hd].
      const project = (input: ArrayBase, p: ProjectionParams, len: number, inF: number) => {
        const flat = np.reshape(input, [B * len, inF]);
        let h = np.matmul(flat, np.reshape(p.w, [inF, qkv]));
        if (p.b !== undefined) h = np.add(h, np.reshape(p.b, [qkv]));
        return np.reshape(h, [B, len, numHeads, headSize]);
      };
      const q = project(x, pq, T, features);
      const k = project(kvIn, pk, S, kvFeatures);
      const v = project(kvIn, pv, S, kvFeatures);
      // Masks and biases are given against the caller's batch axes: broadcast, then flatten them to B.
      const flatBatch = (what: string, m: np.ArrayLike | null | undefined): ArrayBase | null => {
        if (m === undefined || m === null) return null;
        const a = np.asArray(m);
        const target = [...batch, numHeads, T, S];
        checkBroadcastable(op, what, a, target);
        return np.reshape(np.broadcastTo(a, target), [B, numHeads, T, S]);
      };
      let dropout: ((p: ArrayBase) => ArrayBase) | undefined;
      if (applyOptions.train && dropoutRate > 0) {
        const key = applyOptions.key;
        if (key === undefined || key === null) {
          throw new ValueError("needs a PRNG key in training mode (dropoutRate > 0)", {
            op,
            hint: "pass apply(params, x, { train: true, key }) with a fresh key each step (random.split), or { train: false } to evaluate",
          });
        }
        dropout = (p) => np.where(random.bernoulli(key, 1 - dropoutRate, p.shape), np.divide(p, 1 - dropoutRate), np.zerosLike(p));
      }
      const attended = attend(
        q,
        k,
        v,
        {
          mask: flatBatch("mask", applyOptions.mask),
          bias: flatBatch("bias", applyOptions.bias),
          isCausal: applyOptions.isCausal ?? options.isCausal ?? false,
        },
        dropout,
      );
      let y = np.matmul(np.reshape(attended, [B * T, qkv]), np.reshape(po.w, [qkv, outFeatures]));
      if (po.b !== undefined) y = np.add(y, po.b);
      return np.reshape(y, [...batch, T, outFeatures]);
    },
  };
};
