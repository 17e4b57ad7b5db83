/**
 * Direct convolutions (no im2col, no GEMM) for stride-1 1-D and 2-D convolutions without
 * input dilation, on the Wasm path: the kernels of `wasm/conv_direct.ts` over a zero-padded
 * copy of the input, reading and writing the operands in their own layouts.
 *
 * Operands come as planes: every (batch, feature) pair of lhs, (out, in) pair of rhs and
 * (batch, feature) pair of the result is one contiguous spatial plane, found through the
 * element strides of the two leading canonical axes. So a convolution whose operands are
 * NCHW, CNHW (the kernel gradient's view of the input), OIHW or IOHW needs no transpose:
 * the padded copy keeps the input's plane order and a table of work units (one per image,
 * group and output-channel block) carries every base address.
 *
 * Two loops (see `wasm/conv_direct.ts`): `rows`, vectorised across output positions, for
 * windows of at most {@link MAX_ROWS_WINDOW} elements (forward passes, input
 * gradients); `window`, vectorised across window positions, for windows at least a vector
 * wide with few outputs (kernel gradients). Anything else returns null and the caller
 * takes the im2col + GEMM path.
 */
import type { DType, TypedArray } from "../dtype.js";
import { typedArrayFor, uninitializedFloatArray } from "../dtype.js";
import type { ConvGeometry } from "./conv.js";
import { type RowsSpec, UNIT_BYTES, type WindowSpec, buildRowsModule, buildWindowModule } from "./wasm/conv_direct.js";
import { convMoves } from "./wasm/conv_moves.js";
import { activeThreads, parallelFor, shareModule } from "./wasm/threads.js";
import { arena, demote, kernelMemory, kernelPath, views, warnFallback } from "./wasm/runtime.js";

/** Element strides of the two leading canonical axes; the spatial axes follow, contiguous and in order. */
export type PlaneStrides = readonly [number, number];

/** The largest window the rows loop takes: larger ones are kernel gradients (the window loop or im2col + GEMM). */
export const MAX_ROWS_WINDOW = 49;

const OP = "conv_general_dilated";

/** Parallel calls per window convolution, so staging the window planes overlaps the computation (see {@link convDirect}). */
const CHUNKS = 4;

/** The rows loop's limit on (input features x window x output features per group): beyond it, im2col + GEMM. */
const MAX_ROWS_WORK = 1 << 16;

/** Below this many multiply-adds a direct convolution runs on one thread. */
const PARALLEL_MIN_FLOPS = 1 << 21;

type RunFn = (table: number, u0: number, u1: number, ...shared: number[]) => void;
interface DirectFns {
  run: RunFn;
  /** (table, counter, u1, ...shared): units claimed from an atomic counter. */
  claim: RunFn;
  /** The same for one unit at most: 1 if it ran one. */
  claim_one: (table: number, counter: number, u1: number, ...shared: number[]) => number;
}
const instances = new Map<string, DirectFns>();

/** The `run` export of a module for `spec` on the current path (stepping down when refused), or null on the JS path. */
const runFor = (kind: "rows" | "window", spec: Omit<RowsSpec, "fused"> | Omit<WindowSpec, "fused">): { fns: DirectFns; id: string } | null => {
  const reasons: string[] = [];
  for (;;) {
    const path = kernelPath();
    if (path === "js") {
      if (reasons.length) warnFallback("direct convolution", reasons);
      return null;
    }
    const fused = path === "relaxed-simd";
    const id = `conv-${kind}/${Object.values(spec).join(",")}/${path}`;
    const cached = instances.get(id);
    if (cached) return { fns: cached, id };
    const { memory, shared } = kernelMemory();
    try {
      const mod = (kind === "rows" ? buildRowsModule({ ...(spec as RowsSpec), fused }, shared) : buildWindowModule({ ...(spec as WindowSpec), fused }, shared)).compile();
      const fns = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as DirectFns;
      instances.set(id, fns);
      if (shared) shareModule(id, mod);
      if (reasons.length) warnFallback("direct convolution", reasons);
      return { fns, id };
    } catch (err) {
      reasons.push(demote(err));
    }
  }
};

let enabled = true;

/** Turns the direct kernels off or on (tests and benchmarks compare them with im2col + GEMM). */
export const setConvDirect = (on: boolean): void => {
  enabled = on;
};

/** Forgets compiled modules (tests). */
export const clearConvDirectCache = (): void => instances.clear();

/** The geometry as 2-D (a 1-D convolution is one row high). */
const as2d = (g: ConvGeometry) => {
  const two = <T,>(xs: readonly T[], one: T): [T, T] => (xs.length === 2 ? [xs[0]!, xs[1]!] : [one, xs[0]!]);
  const [inH, inW] = two(g.inSpatial, 1);
  const [outH, outW] = two(g.outSpatial, 1);
  const [winH, winW] = two(g.window, 1);
  const [dilH, dilW] = two(g.rhsDilation, 1);
  const [padH, padW] = two(g.padLow, 0);
  return { inH, inW, outH, outW, winH, winW, dilH, dilW, padH, padW };
};

/** Which direct loop fits `g`, if any (float32/float64 on a Wasm path). */
export const directKind = (g: ConvGeometry, outDType: DType): "rows" | "window" | null => {
  if (!enabled || ((outDType !== "float32" && outDType !== "float64") || kernelPath() === "js")) return null;
  const D = g.inSpatial.length;
  if (D < 1 || D > 2 || g.batchGroups !== 1) return null;
  if (!g.strides.every((s) => s === 1) || !g.lhsDilation.every((s) => s === 1)) return null;
  const L = outDType === "float32" ? 4 : 2;
  const s = as2d(g);
  if (s.inH * s.inW === 0 || s.outH * s.outW === 0 || g.batch === 0 || g.outFeatures === 0 || g.kernelInFeatures === 0 || s.winH * s.winW === 0) return null;
  // Many channels on both sides: the GEMM's packed, cache-blocked operands win there (measured
  // on 256 -> 256 channels, 3x3, 8x8: 30 ms against 39 ms for the rows loop).
  const Og = g.outFeatures / g.featureGroups;
  if (s.winH * s.winW <= MAX_ROWS_WINDOW && s.outW >= L && g.kernelInFeatures * s.winH * s.winW * Og <= MAX_ROWS_WORK) return "rows";
  if (g.featureGroups === 1 && g.rhsDilation.every((d) => d === 1) && s.winW >= L) return "window";
  return null;
};

/**
 * Register blocks: OB·XV accumulators + XV inputs + 1 splat + 1 product (rows), OB·PX + PX + 1
 * (window), at most 15. Rows take 4 channels × 2 vectors where there are 4 channels (W7 on one
 * thread, plain SIMD: 1.38 ms, against 1.44 ms for 2 × 4 and 1.55 ms for 5 × 2): each step
 * loads 2 input vectors and 4 weights for 8 multiply-adds, and a block of 2 vectors wastes
 * less of a row whose width is not a multiple of the block.
 */
const rowsBlock = (outChannels: number, outW: number, L: number): { ob: number; xv: number } => {
  const fit = (ob: number, xv: number) => ({ ob, xv: Math.max(1, Math.min(xv, Math.floor(outW / L))) });
  // Three channels take 2 vectors, not 3 (9 accumulators spilled): W7's input gradient
  // (32 -> 3 channels) on one thread, plain SIMD, 2.7 -> 2.2-2.5 ms (loaded machine, minima).
  if (outChannels <= 3) return fit(outChannels, [6, 4, 2][outChannels - 1]!);
  return fit(4, 2);
};
const windowBlock = (outChannels: number, outW: number): { ob: number; px: number } => {
  const px = Math.min(3, outW);
  return { ob: Math.min(px === 3 ? 3 : px === 2 ? 4 : 7, outChannels), px };
};

/**
 * The convolution of `lhs` (planes (batch, feature) at `lhsStrides`) with `rhs` (planes
 * (out, in) at `rhsStrides`), written in a fresh array (or in `into`, of the result's length)
 * whose planes (batch, feature) sit at `outStrides`. Null, having written nothing, when no
 * direct loop fits (see {@link directKind}) or memory runs out.
 */
export const convDirect = (
  lhs: TypedArray,
  lhsStrides: PlaneStrides,
  rhs: TypedArray,
  rhsStrides: PlaneStrides,
  outStrides: PlaneStrides,
  g: ConvGeometry,
  outDType: "float32" | "float64",
  into?: TypedArray,
): TypedArray | null => {
  const kind = directKind(g, outDType);
  if (!kind) return null;
  const moves = convMoves(outDType === "float32" ? 4 : 8);
  if (!moves) return null;
  const es = outDType === "float32" ? 4 : 8;
  const L = 16 / es;
  const s = as2d(g);
  const groups = g.featureGroups;
  const Og = g.outFeatures / groups;
  const I = g.kernelInFeatures;
  const win = s.winH * s.winW;
  const P0 = s.outH + (s.winH - 1) * s.dilH;
  const P1 = s.outW + (s.winW - 1) * s.dilW;
  const pPlane = P0 * P1;
  const inPlane = s.inH * s.inW;
  const planes = inPlane === 0 ? 0 : lhs.length / inPlane;
  const outLen = g.batch * g.outFeatures * s.outH * s.outW;
  const blk = kind === "rows" ? rowsBlock(Og, s.outW, L) : windowBlock(Og, s.outW);
  const obRem = Og % blk.ob;
  const blocks = Math.ceil(Og / blk.ob);
  const units = g.batch * groups * blocks;
  const spec =
    kind === "rows"
      ? { es, rowLen: P1, ob: blk.ob, obRem, xv: (blk as { xv: number }).xv }
      : { es, winW: s.winW, rowLen: P1, ob: blk.ob, obRem, px: (blk as { px: number }).px };
  const mod = runFor(kind, spec as Omit<RowsSpec, "fused">);
  if (!mod) return null;

  arena.reset();
  const lhsAt = arena.alloc(lhs.length * es);
  const padAt = arena.alloc(planes * pPlane * es + 16);
  const rhsLen = kind === "rows" ? g.outFeatures * I * win : rhs.length;
  const rhsAt = arena.alloc(rhsLen * es + 16);
  const tableAt = arena.alloc(units * UNIT_BYTES);
  const tapsAt = kind === "rows" ? arena.alloc(I * win * 4) : 0;
  const outAt = arena.alloc(outLen * es);
  const counterAt = arena.alloc(64 * CHUNKS);
  // Sync words: [0] inputs staged (images), [1] a sink for units nobody waits on, [2 + b] units done of image b.
  const syncAt = arena.alloc(4 * (2 + g.batch));
  if (lhsAt < 0 || padAt < 0 || rhsAt < 0 || tableAt < 0 || tapsAt < 0 || outAt < 0 || counterAt < 0 || syncAt < 0) return null;
  const v = views();
  const mem = es === 4 ? v.f32 : v.f64;
  v.i32.fill(0, syncAt / 4, syncAt / 4 + 2 + g.batch);
  // Padded plane of canonical (b, c), in bytes from padAt (the padded copy keeps the input's plane order).
  const padPlane = (b: number, c: number) => ((b * lhsStrides[0] + c * lhsStrides[1]) / Math.max(1, inPlane)) * pPlane * es;
  const inChan = (lhsStrides[1] / Math.max(1, inPlane)) * pPlane * es;
  /** Copies input planes [p0, p1) into the kernel memory and pads them (negative padding crops). */
  const stagePlanes = (p0: number, p1: number) => {
    const m = es === 4 ? views().f32 : views().f64;
    m.set((lhs as Float32Array).subarray(p0 * inPlane, p1 * inPlane), lhsAt / es + p0 * inPlane);
    moves.pad_planes(lhsAt + p0 * inPlane * es, padAt + p0 * pPlane * es, p1 - p0, inPlane * es, pPlane * es, s.inH, s.inW * es, P0, P1 * es, s.padH, s.padW * es);
  };

  const table = v.i32.subarray(tableAt / 4, tableAt / 4 + (units * UNIT_BYTES) / 4);
  /** Unit u: its operands, whether it is a remainder block, and its sync words (see `wasm/conv_direct.ts`). */
  const setUnit = (u: number, inAt: number, wAt: number, outAt: number, rem: boolean, need: number, done: number) => {
    const e = (u * UNIT_BYTES) / 4;
    table[e] = inAt;
    table[e + 1] = wAt;
    table[e + 2] = outAt;
    table[e + 3] = rem ? 1 : 0;
    table[e + 4] = syncAt;
    table[e + 5] = need;
    table[e + 6] = done;
  };
  // The result is allocated once the workers are busy, unzeroed: every element is copied out.
  let out: TypedArray | undefined = into;
  const copyOut = (from: number, to: number) => {
    const m = es === 4 ? views().f32 : views().f64;
    out ??= uninitializedFloatArray(outDType, outLen);
    out.set(m.subarray(outAt / es + from, outAt / es + to), from);
  };
  const parallel = 2 * outLen * I * win >= PARALLEL_MIN_FLOPS && units >= 2;
  if (kind === "rows") {
    // Weights per (group, block) as [i][kh][kw][o in block], blocks one after another.
    const w = mem.subarray(rhsAt / es, rhsAt / es + rhsLen);
    let at = 0;
    const blockAt: number[] = [];
    for (let grp = 0; grp < groups; grp++) {
      for (let ob = 0; ob < blocks; ob++) {
        blockAt.push(at);
        const o0 = grp * Og + ob * blk.ob;
        const n = Math.min(blk.ob, Og - ob * blk.ob);
        for (let i = 0; i < I; i++) for (let q = 0; q < win; q++) for (let o = 0; o < n; o++) w[at++] = rhs[(o0 + o) * rhsStrides[0] + i * rhsStrides[1] + q]!;
      }
    }
    // The taps (i, kh, kw) as byte offsets from a unit's input base, in the weights' order.
    const taps = v.i32.subarray(tapsAt / 4, tapsAt / 4 + I * win);
    let t = 0;
    for (let i = 0; i < I; i++) for (let kh = 0; kh < s.winH; kh++) for (let kw = 0; kw < s.winW; kw++) taps[t++] = i * inChan + (kh * s.dilH * P1 + kw * s.dilW) * es;
    const shared = [tapsAt, tapsAt + I * win * 4, outStrides[1] * es, s.outW * es, s.outH, s.outW];
    // With threads, one parallel call: units image by image, each waiting for its image to be
    // staged. The calling thread stages image after image while the workers start, then
    // copies out every image whose units are done and computes one unit whenever none is,
    // so its copies overlap the workers' arithmetic and the split follows the copies' cost.
    const imagesIn = parallel && lhsStrides[0] === g.inFeatures * inPlane;
    const imagesOut = parallel && outStrides[0] === g.outFeatures * s.outH * s.outW;
    let u = 0;
    for (let b = 0; b < g.batch; b++) {
      for (let grp = 0; grp < groups; grp++) {
        for (let ob = 0; ob < blocks; ob++, u++) {
          const o0 = grp * Og + ob * blk.ob;
          setUnit(u, padAt + padPlane(b, grp * I), rhsAt + blockAt[grp * blocks + ob]! * es, outAt + (b * outStrides[0] + o0 * outStrides[1]) * es, obRem > 0 && ob === blocks - 1, imagesIn ? b + 1 : 0, syncAt + 4 * (2 + b));
        }
      }
    }
    const perImage = g.outFeatures * s.outH * s.outW;
    const unitsPerImage = groups * blocks;
    const sync = v.i32;
    let copied = 0;
    const copyDone = () => {
      while (copied < g.batch && Atomics.load(sync, syncAt / 4 + 2 + copied) === unitsPerImage) {
        copyOut(copied * perImage, (copied + 1) * perImage);
        copied++;
      }
    };
    const args = [tableAt, counterAt, units, ...shared] as [number, number, number];
    if (imagesIn) stagePlanes(0, g.inFeatures);
    else stagePlanes(0, planes);
    Atomics.store(sync, syncAt / 4, 1);
    const here = () => {
      if (imagesIn) {
        for (let b = 1; b < g.batch; b++) {
          stagePlanes(b * g.inFeatures, (b + 1) * g.inFeatures);
          Atomics.store(sync, syncAt / 4, b + 1);
          Atomics.notify(sync, syncAt / 4);
        }
      }
      if (!imagesOut) {
        mod.fns.claim(...args);
        return;
      }
      // Copying out is this thread's alone, so it computes a unit only when the workers could
      // not finish the units left before its copies are done (by the costs measured so far);
      // otherwise it waits for the next image, as long as the workers keep claiming units (a
      // descheduled worker would hold it up). With fresh pages faulting in, a copy costs more
      // than the workers' units of that image (W7: 60 against 44 us): computing would only
      // delay the copies.
      const helpers = Math.max(1, activeThreads() - 1);
      let copyMs = 0;
      let unitMs = 0;
      let unitsHere = 0;
      let waitFrom = -1;
      let seen = 0;
      for (;;) {
        const t0 = performance.now();
        const before = copied;
        copyDone();
        const t1 = performance.now();
        if (copied > before) {
          copyMs += t1 - t0;
          waitFrom = -1;
        }
        const claimed = Math.min(units, Atomics.load(sync, counterAt / 4));
        if (claimed === units) break;
        if (copied > 0 && unitsHere > 0 && claimed > unitsHere && (g.batch - copied) * (copyMs / copied) > ((units - claimed) * unitMs) / unitsHere / helpers) {
          if (waitFrom < 0 || claimed !== seen) {
            waitFrom = t1;
            seen = claimed;
          }
          if (t1 - waitFrom < (2 * unitMs) / unitsHere) continue;
        }
        waitFrom = -1;
        if (!mod.fns.claim_one(...args)) break;
        unitMs += performance.now() - t1;
        unitsHere++;
      }
    };
    sync[counterAt / 4] = 0;
    if (parallel) parallelFor(OP, mod.id, "claim", () => args, here);
    else here();
    if (imagesOut) copyDone();
    if (copied < g.batch) copyOut(copied * perImage, outLen);
    return out ?? typedArrayFor(outDType, outLen);
  }
  // Window: units block by block, in chunks of output-channel ranges (one parallel call
  // each), whose window planes are staged per chunk when they are contiguous for each input
  // feature (or for all of them). In call k the calling thread first stages chunk k + 1's
  // planes, then claims units of chunk k with the workers.
  const sink = syncAt + 4;
  let u = 0;
  for (let ob = 0; ob < blocks; ob++) {
    for (let b = 0; b < g.batch; b++, u++) {
      setUnit(u, padAt + padPlane(b, 0), rhsAt + ob * blk.ob * rhsStrides[0] * es, outAt + (b * outStrides[0] + ob * blk.ob * outStrides[1]) * es, obRem > 0 && ob === blocks - 1, 0, sink);
    }
  }
  const shared = [I, inChan, rhsStrides[1] * es, rhsStrides[0] * es, outStrides[1] * es, s.outW * es, s.outH, s.outW, s.winH];
  const [rsO, rsI] = rhsStrides;
  const stageRhs = (o0: number, o1: number) => {
    const m = es === 4 ? views().f32 : views().f64;
    const r = rhs as Float32Array;
    if (rsO === win) for (let i = 0; i < I; i++) m.set(r.subarray(i * rsI + o0 * win, i * rsI + o1 * win), rhsAt / es + i * rsI + o0 * win);
    else if (rsI === win && rsO === I * win) m.set(r.subarray(o0 * rsO, o1 * rsO), rhsAt / es + o0 * rsO);
    else if (o0 === 0) m.set(r, rhsAt / es);
  };
  const o = (ob: number) => Math.min(g.outFeatures, ob * blk.ob);
  let chunks = 1;
  let unitBound = (k: number) => (k === 0 ? 0 : units);
  let stageIn = (k: number) => {
    if (k !== 0) return;
    stagePlanes(0, planes);
    stageRhs(0, g.outFeatures);
  };
  if (parallel && (rsO === win || (rsI === win && rsO === I * win))) {
    chunks = Math.min(CHUNKS, blocks);
    const block = (k: number) => Math.floor((k * blocks) / chunks);
    unitBound = (k) => block(k) * g.batch;
    stageIn = (k) => {
      if (k === 0) stagePlanes(0, planes);
      stageRhs(o(block(k)), o(block(k + 1)));
    };
  }
  stageIn(0);
  for (let k = 0; k < chunks; k++) {
    const counter = counterAt + 64 * k;
    views().i32[counter / 4] = unitBound(k);
    const args = [tableAt, counter, unitBound(k + 1), ...shared];
    const here = () => {
      if (k + 1 < chunks) stageIn(k + 1);
      mod.fns.claim(...(args as [number, number, number]));
    };
    if (parallel) parallelFor(OP, mod.id, "claim", () => args, here);
    else here();
  }
  copyOut(0, outLen);
  return out!;
};
