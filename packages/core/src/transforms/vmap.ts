/**
 * vmap as a jaxpr rewrite: each equation's batch rule moves the batch axis through it.
 * Equations whose inputs are all unbatched are copied unchanged.
 */
import type { ArrayBase } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { AxisError, ValueError } from "../errors.js";
import type { Atom, Jaxpr, Var } from "../ir/jaxpr.js";
import { requireRule } from "../ir/primitive.js";
import { evalJaxpr } from "../interpreter.js";
import { scalar } from "../primitives/common.js";
import { broadcastInDim, moveAxis } from "../primitives/structural.js";
import { bind, traceToJaxpr, withOrigin } from "../trace.js";
import { type TreeDef, flatten, node, numLeaves, treedefEquals, treedefToString, unflatten } from "../tree.js";
import { flattenArgs, isStaticLeaf, traceFlat } from "./api_util.js";
import { memoOnJaxpr } from "./memo.js";
import { StructureCache, liftConsts, structureKey } from "./structure_key.js";
import { debugFlags } from "../config.js";

/** Where a value's batch axis is, or `null` when it is not batched. */
export type BatchDim = number | null;

/** Evaluates `jaxpr` on batched values; returns outputs and where their batch axes are. */
export const batchEval = (jaxpr: Jaxpr, args: ArrayBase[], dims: BatchDim[], size: number): [ArrayBase[], BatchDim[]] => {
  const env = new Map<Var, [ArrayBase, BatchDim]>();
  const read = (a: Atom): [ArrayBase, BatchDim] => ("value" in a ? [scalar(a.value, a.aval.dtype), null] : env.get(a)!);
  jaxpr.constvars.forEach((v, i) => env.set(v, [jaxpr.consts[i]!, null]));
  jaxpr.invars.forEach((v, i) => env.set(v, [args[i]!, dims[i] ?? null]));
  for (const e of jaxpr.eqns) {
    const ins = e.inputs.map(read);
    const vals = ins.map(([x]) => x);
    const ds = ins.map(([, d]) => d);
    const [outs, odims] = withOrigin(e.source, e.derivedFrom, () =>
      ds.every((d) => d === null)
        ? [bind(e.primitive, vals, e.params), e.outputs.map(() => null)]
        : requireRule(e.primitive, "batch", e.source)(vals, ds, e.params, size),
    );
    e.outputs.forEach((v, i) => env.set(v, [outs[i]!, odims[i] ?? null]));
  }
  return [jaxpr.outvars.map((a) => read(a)[0]), jaxpr.outvars.map((a) => read(a)[1])];
};

/** The aval of `a` with a batch axis of `size` inserted at `d` (unchanged when unbatched). */
export const batchedAval = (a: ShapedArray, d: BatchDim, size: number): ShapedArray => {
  if (d === null) return a;
  const shape = a.shape.slice();
  shape.splice(d, 0, size);
  return new ShapedArray(shape, a.dtype);
};

/** Moves (or creates, by broadcasting) the batch axis of `x` to `to`. */
export const moveBatchAxis = (x: ArrayBase, from: BatchDim, to: number, size: number): ArrayBase => {
  if (from === null) {
    const shape = x.shape;
    shape.splice(to, 0, size);
    return broadcastInDim(
      x,
      shape,
      x.shape.map((_, i) => (i < to ? i : i + 1)),
    );
  }
  return moveAxis(x, from, to);
};

interface BatchRewrite {
  jaxpr: Jaxpr;
  /** Where each output's batch axis landed (null: the output does not depend on the batch). */
  outDims: readonly BatchDim[];
}

const dimsKey = (dims: readonly BatchDim[], size: number): string => `${dims.map((d) => (d === null ? "n" : d)).join(",")}|${size}`;

/** The batched jaxpr with each output's batch axis where the rules left it; once per jaxpr and signature (see memo.ts). */
const batchRewrite = memoOnJaxpr((jaxpr: Jaxpr, inDims: readonly BatchDim[], size: number): BatchRewrite => {
  const inAvals = jaxpr.inAvals.map((a, i) => batchedAval(a, inDims[i] ?? null, size));
  let outDims: BatchDim[] = [];
  const jb = traceToJaxpr((...args) => {
    const [outs, dims] = batchEval(jaxpr, args, inDims.slice(), size);
    outDims = dims;
    return outs;
  }, inAvals, "rewrite");
  return { jaxpr: jb, outDims: Object.freeze(outDims) };
}, dimsKey);

/**
 * `batchJaxpr(j, inDims, size, outDims)`: a jaxpr over batched inputs whose outputs carry
 * their batch axis at `outDims` (null: the output must not depend on the batch).
 */
export const batchJaxpr = memoOnJaxpr(
  (jaxpr: Jaxpr, inDims: readonly BatchDim[], size: number, outDims: readonly BatchDim[]): Jaxpr => {
    const raw = batchRewrite(jaxpr, inDims, size);
    raw.outDims.forEach((d, i) => {
      if ((outDims[i] ?? null) === null && d !== null) {
        throw new ValueError(`output ${i} (${jaxpr.outvars[i]!.aval}) depends on the mapped axis, but outAxes is null for it`, {
          op: "vmap",
          hint: "give that output an axis in outAxes",
        });
      }
    });
    if (raw.outDims.every((d, i) => d === (outDims[i] ?? null))) return raw.jaxpr;
    // Moving the axes re-traces only this level's equations: sub-jaxprs are shared, not rewritten again.
    return traceToJaxpr(
      (...args) =>
        evalJaxpr(raw.jaxpr, args).map((x, i) => {
          const want = outDims[i] ?? null;
          return want === null ? x : moveBatchAxis(x, raw.outDims[i]!, want, size);
        }),
      raw.jaxpr.inAvals,
      "rewrite",
    );
  },
  (inDims, size, outDims) => `${dimsKey(inDims, size)}|${dimsKey(outDims, size)}`,
);

/**
 * Expands a pytree prefix (`inAxes`/`outAxes`) to one value per leaf of `tree`: a number
 * or null applies to the whole subtree it stands for (null counts as a leaf here, as in JAX).
 */
export const broadcastPrefix = (op: string, what: string, prefix: unknown, tree: unknown): BatchDim[] => {
  const out: BatchDim[] = [];
  const go = (p: unknown, t: unknown, path: string) => {
    if (p === null || p === undefined || typeof p === "number") {
      // Static values (JS booleans, strings, functions) are not traced, so no axis applies to them.
      const n = flatten(t)[0].filter((l) => !isStaticLeaf(l)).length;
      for (let i = 0; i < n; i++) out.push((p ?? null) as BatchDim);
      return;
    }
    const pn = node(p);
    if (!pn) throw new ValueError(`${what}${path} must be a number, null, or a list/object of them; got ${typeof p}`, { op });
    const tn = node(t);
    const atArgs = !path && what === "inAxes";
    if (!tn || !treedefEquals(pn.def, tn.def)) {
      const desc = (d: TreeDef) => treedefToString(d).replace(/\*/g, "_");
      throw new ValueError(
        `${what}${path} has the structure ${desc(pn.def)}, which does not match the ${atArgs ? "argument list" : "value"} it describes, ${tn ? desc(tn.def) : t === null || t === undefined ? String(t) : "a leaf"}`,
        {
          op,
          hint: atArgs
            ? "inAxes is a number or null for every argument, or a list with one entry per argument"
            : `${what} must be a prefix of the pytree: a number or null for a whole subtree, or a container of the same kind`,
        },
      );
    }
    const keys = pn.def.kind === "object" ? pn.def.keys : null;
    pn.children.forEach((pc, i) => go(pc, tn.children[i], keys ? `${path}.${keys[i]}` : `${path}[${i}]`));
  };
  go(prefix, tree, "");
  return out;
};

/** Options of {@link vmap}. */
export interface VmapOptions {
  /** Where each argument's mapped axis is: a number, null (unmapped), or a pytree prefix of the arguments. Default 0. */
  inAxes?: unknown;
  /** Where the outputs' mapped axis goes; a pytree prefix of the output. Default 0. */
  outAxes?: unknown;
  /** The mapped size, needed when no argument is mapped. */
  axisSize?: number;
}

const describeLeafArg = (inTree: TreeDef, leaf: number): string => {
  // The argument index of flat leaf `leaf` (inTree is the tuple of arguments).
  if (inTree.kind !== "array") return `leaf ${leaf}`;
  let k = 0;
  for (let a = 0; a < inTree.children.length; a++) {
    const n = numLeaves(inTree.children[a]!);
    if (leaf < k + n) return n === 1 ? `argument ${a}` : `argument ${a} (leaf ${leaf - k})`;
    k += n;
  }
  return `leaf ${leaf}`;
};

/** Vectorises `f` over a mapped axis of its arguments. */
export const vmap =
  <F extends (...args: any[]) => any>(f: F, options: VmapOptions = {}) =>
  (...args: Parameters<F>): ReturnType<F> => {
    const op = "vmap";
    const [flatIn, inTree] = flattenArgs(op, args);
    const inAxes = options.inAxes === undefined ? 0 : options.inAxes;
    const dims = broadcastPrefix(op, "inAxes", inAxes, args);
    let size: number | undefined = options.axisSize;
    let sizeFrom = "axisSize";
    const norm = dims.map((d, i) => {
      if (d === null) return null;
      const x = flatIn[i]!;
      if (!Number.isInteger(d) || d < -x.ndim || d >= x.ndim) {
        throw new AxisError(`inAxes ${d} is out of range for ${describeLeafArg(inTree, i)} of shape [${x.shape.join(", ")}]`, { op });
      }
      const nd = d < 0 ? d + x.ndim : d;
      const n = x.shape[nd]!;
      const who = `${describeLeafArg(inTree, i)} of shape [${x.shape.join(", ")}] has size ${n} along axis ${nd}`;
      if (size === undefined) {
        size = n;
        sizeFrom = who;
      } else if (size !== n) {
        throw new ValueError(`inconsistent sizes for the mapped axis: ${who}, but ${sizeFrom === "axisSize" ? `axisSize is ${size}` : sizeFrom}`, {
          op,
          hint: "every mapped argument must have the same size along its mapped axis",
        });
      }
      return nd;
    });
    if (size === undefined) {
      throw new ValueError("no argument is mapped (all inAxes are null), so the mapped size is unknown", { op, hint: "pass axisSize" });
    }
    const unbatched = flatIn.map((x, i) => {
      const d = norm[i];
      if (d === null || d === undefined) return x;
      const shape = x.shape;
      shape.splice(d, 1);
      return { aval: new ShapedArray(shape, x.dtype) } as unknown as ArrayBase;
    });
    const { jaxpr, outTree } = traceFlat(op, f, inTree, unbatched);
    const outAxes = options.outAxes === undefined ? 0 : options.outAxes;
    const outStructure = unflatten(outTree, jaxpr.outvars.map(() => 0));
    const od = broadcastPrefix(op, "outAxes", outAxes, outStructure).map((d, i) => {
      if (d === null) return null;
      const r = jaxpr.outvars[i]!.aval.ndim + 1;
      if (d < -r || d >= r) throw new AxisError(`outAxes ${d} is out of range for output ${i} of rank ${r} (with the mapped axis)`, { op });
      return d < 0 ? d + r : d;
    });
    const batched = batchLifted(jaxpr, norm, size, od);
    return unflatten(outTree, evalJaxpr(batched, [...jaxpr.consts, ...flatIn]));
  };

/**
 * Batched programs by structure, as eager `grad` keeps linearizations (see vjp.ts): `vmap`
 * traces its function at every call, and a loop calling it traces the same program each
 * time; its batching is rewritten once. Constants are lifted to unbatched leading inputs.
 * Bypassed under debugNans/debugInfs (reports name each equation's source line).
 */
const batchedByStructure = new StructureCache<Jaxpr>(64);

/** Forgets the cached batchings (tests). */
export const clearBatchCache = (): void => batchedByStructure.clear();

const dimKey = (d: BatchDim | undefined): string => (d === null || d === undefined ? "n" : String(d));

const batchLifted = (jaxpr: Jaxpr, inDims: readonly BatchDim[], size: number, outDims: readonly BatchDim[]): Jaxpr => {
  const structure = debugFlags.check ? null : structureKey(jaxpr);
  const key = structure === null ? null : `${structure}|${inDims.map(dimKey).join(",")}|${size}|${outDims.map(dimKey).join(",")}`;
  const hit = batchedByStructure.get(key);
  if (hit) return hit;
  const batched = batchJaxpr(liftConsts(jaxpr), [...jaxpr.constvars.map(() => null), ...inDims], size, outDims);
  batchedByStructure.set(key, batched);
  return batched;
};


/**
 * Where the outputs' batch axes land when `jaxpr` is batched with `inDims` (nothing is
 * moved). It comes with the batched jaxpr, which a rule asks for next (one rewrite serves both).
 */
export const batchOutDims = (jaxpr: Jaxpr, inDims: readonly BatchDim[], size: number): BatchDim[] => batchRewrite(jaxpr, inDims, size).outDims.slice();
