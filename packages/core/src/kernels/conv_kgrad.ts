/**
 * The kernel gradient of a stride-1 1-D or 2-D convolution (a convolution whose "window" is
 * the output cotangent and whose output is the kernel's window) on the Wasm path, with the
 * loop of `wasm/conv_kgrad.ts`: operands read in their own layouts through plane strides (as
 * `conv_direct.ts` does: NCHW input seen as CNHW, an NCHW cotangent seen as IOHW), the
 * contraction over the forward batch outermost so each cotangent plane is read from memory
 * once, and the work split into (channel block, range of the contraction) units whose
 * partial outputs are summed at the end.
 *
 * It takes the geometries `directKind` sends to the `window` loop; anything else returns
 * null and the caller goes on to the other paths.
 */
import type { TypedArray } from "../dtype.js";
import { typedArrayFor } from "../dtype.js";
import type { ConvGeometry } from "./conv.js";
import { type PlaneStrides, directKind } from "./conv_direct.js";
import { KGRAD_SHARED, KGRAD_UNIT_BYTES, type KernelGradSpec, buildKernelGradModule } from "./wasm/conv_kgrad.js";
import { convMoves } from "./wasm/conv_moves.js";
import { parallelFor, shareModule } from "./wasm/threads.js";
import { arena, demote, kernelMemory, kernelPath, views, warnFallback } from "./wasm/runtime.js";

const OP = "conv_general_dilated";

/** Below this many multiply-adds the kernel runs on one thread. */
const PARALLEL_MIN_FLOPS = 1 << 21;

/** Chunks of channel blocks whose window planes are staged while the workers compute the earlier ones. */
const CHUNKS = 4;

/** Ranges of the contraction per channel block when threads share the work (units for balance; partials to sum). */
const RANGES = 4;

type RunFn = (table: number, u0: number, u1: number, ...shared: number[]) => void;
interface KernelGradFns {
  run: RunFn;
  claim: RunFn;
}
const instances = new Map<string, KernelGradFns>();

const moduleFor = (spec: Omit<KernelGradSpec, "fused">): { fns: KernelGradFns; id: string } | null => {
  const reasons: string[] = [];
  for (;;) {
    const path = kernelPath();
    if (path === "js") {
      if (reasons.length) warnFallback("convolution kernel gradient", reasons);
      return null;
    }
    const id = `conv-kgrad/${Object.values(spec).join(",")}/${path}`;
    const cached = instances.get(id);
    if (cached) return { fns: cached, id };
    const { memory, shared } = kernelMemory();
    try {
      const mod = buildKernelGradModule({ ...spec, fused: path === "relaxed-simd" }, shared).compile();
      const fns = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as KernelGradFns;
      instances.set(id, fns);
      if (shared) shareModule(id, mod);
      if (reasons.length) warnFallback("convolution kernel gradient", reasons);
      return { fns, id };
    } catch (err) {
      reasons.push(demote(err));
    }
  }
};

let enabled = true;

/** Turns this kernel off or on (tests compare it with the other paths). */
export const setConvKernelGrad = (on: boolean): void => {
  enabled = on;
};

/** Forgets compiled modules (tests). */
export const clearConvKernelGradCache = (): void => instances.clear();

/**
 * Channels per block and adjacent outputs per block. The accumulators (ob·px), the px input
 * vectors, a window vector and a product must fit x64's 16 vector registers with V8's scratch
 * spare, with room left: measured on W7's kernel gradient (window 32x32, 3x3 outputs, one
 * thread, plain SIMD), 2x3 runs in 1.69 ms, 4x2 in 1.84, 3x2 in 2.03, 5x1 in 2.14, and 3x3
 * (14 registers) in 2.82: it spills.
 */
const blockOf = (outChannels: number, outW: number): { ob: number; px: number } => {
  const px = Math.min(3, outW);
  return { ob: Math.min(px === 3 ? 2 : px === 2 ? 4 : 6, outChannels), px };
};

/**
 * The convolution of `lhs` (planes (batch, feature) at `lhsStrides`) with `rhs` (planes
 * (out, in) at `rhsStrides`) into a fresh array whose planes (batch, feature) sit at
 * `outStrides`, when it is a kernel gradient this loop takes; else null.
 */
export const convKernelGrad = (
  lhs: TypedArray,
  lhsStrides: PlaneStrides,
  rhs: TypedArray,
  rhsStrides: PlaneStrides,
  outStrides: PlaneStrides,
  g: ConvGeometry,
  outDType: "float32" | "float64",
): TypedArray | null => {
  if (!enabled || directKind(g, outDType) !== "window") return null;
  const moves = convMoves(outDType === "float32" ? 4 : 8);
  if (!moves) return null;
  const es = outDType === "float32" ? 4 : 8;
  const two = <T,>(xs: readonly T[], one: T): [T, T] => (xs.length === 2 ? [xs[0]!, xs[1]!] : [one, xs[0]!]);
  const [inH, inW] = two(g.inSpatial, 1);
  const [outH, outW] = two(g.outSpatial, 1);
  const [winH, winW] = two(g.window, 1);
  const [padH, padW] = two(g.padLow, 0);
  const B = g.batch;
  const C = g.inFeatures;
  const O = g.outFeatures;
  const win = winH * winW;
  const P0 = outH + winH - 1;
  const P1 = outW + winW - 1;
  const pPlane = P0 * P1;
  const inPlane = inH * inW;
  const outPlane = outH * outW;
  const planes = lhs.length / inPlane;
  const outLen = B * O * outPlane;
  const { ob, px } = blockOf(O, outW);
  const obRem = O % ob;
  const blocks = Math.ceil(O / ob);
  const mod = moduleFor({ es, winW, rowLen: P1, outW, ob, obRem, px });
  if (!mod) return null;
  const parallel = 2 * outLen * C * win >= PARALLEL_MIN_FLOPS && blocks * C >= 2;
  const ranges = parallel ? Math.min(RANGES, C) : 1;
  const units = blocks * ranges;

  arena.reset();
  const lhsAt = arena.alloc(lhs.length * es);
  const padAt = arena.alloc(planes * pPlane * es + 16);
  const rhsAt = arena.alloc(rhs.length * es + 16);
  const partAt = arena.alloc(ranges * outLen * es);
  const tableAt = arena.alloc(units * KGRAD_UNIT_BYTES);
  const syncAt = arena.alloc(64);
  if (lhsAt < 0 || padAt < 0 || rhsAt < 0 || partAt < 0 || tableAt < 0 || syncAt < 0) return null;
  const v = views();
  (es === 4 ? v.f32 : v.f64).fill(0, partAt / es, partAt / es + ranges * outLen);
  // Input plane (b, c) of the padded copy (which keeps the input's plane order), in bytes.
  const [ls0, ls1] = lhsStrides;
  const inB = (ls0 / inPlane) * pPlane * es;
  const inC = (ls1 / inPlane) * pPlane * es;
  const [rsO, rsI] = rhsStrides;
  // With threads, one parallel call whose units wait for their channel block's window planes:
  // the caller stages the input and the first chunk of blocks, starts the workers, stages the
  // other chunks (bumping the gate at syncAt + 4) while they compute, then computes too.
  const chunked = parallel && (rsO === win || (rsI === win && rsO === C * win));
  const chunks = chunked ? Math.min(CHUNKS, blocks) : 1;
  const blockOfChunk = (k: number) => Math.floor((k * blocks) / chunks);
  const channel = (k: number) => Math.min(O, blockOfChunk(k) * ob);
  const gate = syncAt + 4;
  const table = v.i32.subarray(tableAt / 4, tableAt / 4 + (units * KGRAD_UNIT_BYTES) / 4);
  const per = KGRAD_UNIT_BYTES / 4;
  // Units block by block, the ranges of c of one block together.
  for (let chunk = 0; chunk < chunks; chunk++) {
    for (let k = blockOfChunk(chunk); k < blockOfChunk(chunk + 1); k++) {
      const o0 = k * ob;
      for (let r = 0; r < ranges; r++) {
        const c0 = Math.floor((r * C) / ranges);
        const c1 = Math.floor(((r + 1) * C) / ranges);
        const e = (k * ranges + r) * per;
        table[e] = padAt + c0 * inC;
        table[e + 1] = rhsAt + (o0 * rsO + c0 * rsI) * es;
        table[e + 2] = partAt + (r * outLen + o0 * outPlane) * es;
        table[e + 3] = obRem > 0 && k === blocks - 1 ? 1 : 0;
        table[e + 4] = c1 - c0;
        table[e + 5] = gate;
        table[e + 6] = chunk + 1;
      }
    }
  }
  const shared = [inC, rsI * es, rsO * es, B, inB, O * outPlane * es, outPlane * es, outW * es, outH, winH];
  if (shared.length !== KGRAD_SHARED) throw new Error("conv kernel gradient: argument count");

  /** Copies the window planes of channels [o0, o1) (all of rhs when they are not contiguous per c). */
  const stageRhs = (o0: number, o1: number) => {
    const m = es === 4 ? views().f32 : views().f64;
    const r = rhs as Float32Array;
    if (rsO === win) for (let c = 0; c < C; c++) m.set(r.subarray(c * rsI + o0 * win, c * rsI + o1 * win), rhsAt / es + c * rsI + o0 * win);
    else if (rsI === win && rsO === C * win) m.set(r.subarray(o0 * rsO, o1 * rsO), rhsAt / es + o0 * rsO);
    else m.set(r, rhsAt / es);
  };
  (es === 4 ? v.f32 : v.f64).set(lhs as Float32Array, lhsAt / es);
  moves.pad_planes(lhsAt, padAt, planes, inPlane * es, pPlane * es, inH, inW * es, P0, P1 * es, padH, padW * es);
  stageRhs(0, channel(1));
  const sync = views().i32;
  sync[syncAt / 4] = 0;
  Atomics.store(sync, gate / 4, 1);
  const args = [tableAt, syncAt, units, ...shared] as [number, number, number];
  const here = () => {
    for (let k = 1; k < chunks; k++) {
      stageRhs(channel(k), channel(k + 1));
      Atomics.store(views().i32, gate / 4, k + 1);
      Atomics.notify(views().i32, gate / 4);
    }
    mod.fns.claim(...args);
  };
  if (parallel) parallelFor(OP, mod.id, "claim", () => args, here);
  else here();
  // Sum the partials of the ranges into the output's layout.
  const m = es === 4 ? views().f32 : views().f64;
  const out = typedArrayFor(outDType, outLen);
  const [os0, os1] = outStrides;
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      const src = partAt / es + (b * O + o) * outPlane;
      const dst = b * os0 + o * os1;
      for (let t = 0; t < outPlane; t++) {
        let sum = m[src + t]!;
        for (let r = 1; r < ranges; r++) sum += m[src + r * outLen + t]!;
        out[dst + t] = sum;
      }
    }
  }
  return out;
};
