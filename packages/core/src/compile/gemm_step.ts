/**
 * A program step for a float matrix product (`dot_general` without batch axes), with an
 * optional *epilogue*: the fused group that reads the product next (a bias add and ReLU, an
 * optimizer update of the weight it is the gradient of). The Wasm GEMM leaves C in the kernel
 * memory; the epilogue's Wasm kernel reads it there, so C is neither copied out into a fresh
 * array nor copied back in (for W3's MLP step, about 2 MB a step of the ~14 MB its kernels moved
 * between the JS heap and the kernel memory). C becomes an array only when something else
 * reads it or the program returns it.
 *
 * The product is the one `dot_general`'s kernel computes (the same code path, so the same
 * bits); where the Wasm kernel cannot run it, the primitive's kernel does and the epilogue
 * runs as an ordinary fused step.
 */
import { bufferOf, fromBuffer } from "../array.js";
import { uninitializedFloatArray } from "../dtype.js";
import type { Atom, Eqn } from "../ir/jaxpr.js";
import { type MatmulOperand, matmulToStore } from "../kernels/matmul.js";
import { storeRows } from "../kernels/wasm/gemm.js";
import { arena, views } from "../kernels/wasm/runtime.js";
import { dotGeneralP } from "../primitives/dot.js";
import type { FusedStep } from "./fused_step.js";
import { type Env, type SlotMap, type Step, poolOpen } from "./program.js";

type Axes = readonly number[];
type DotParams = { dimension_numbers: [[Axes, Axes], [Axes, Axes]]; preferred_element_type: string | null };

/** Whether `e` is a product this step computes: float, no batch axes, output dtype = inputs'. */
export const isPlainGemm = (e: Eqn): boolean => {
  if (e.primitive !== dotGeneralP) return false;
  const { dimension_numbers: dn } = e.params as DotParams;
  const dt = e.outputs[0]!.aval.dtype;
  return dn[1][0].length === 0 && (dt === "float32" || dt === "float64") && e.inputs.every((a) => a.aval.dtype === dt);
};

const freeAxes = (ndim: number, contracting: Axes): number[] => [...Array(ndim).keys()].filter((a) => !contracting.includes(a));
const sizeOf = (shape: readonly number[], axes: Axes) => axes.reduce((p, a) => p * shape[a]!, 1);

export class GemmStep implements Step {
  eqns: readonly Eqn[];
  /** Slots read: the two operands, then the epilogue's inputs. */
  readonly ins: number[];
  readonly out: number;
  private readonly perms: [number[], number[]];
  private readonly m: number;
  private readonly n: number;
  private readonly k: number;
  private readonly dtype: "float32" | "float64";
  /** The fused group run on C in place, and the position of C among its inputs. */
  epilogue: FusedStep | null = null;
  private epilogueInput = -1;
  /** Whether C must also become an array (read by another step, or returned). */
  materialize = true;
  /** Memory plan: C never leaves the program, so its array is kept for the next call. */
  pooled = false;
  private pool: Float32Array | Float64Array | null = null;
  constructor(
    readonly eqn: Eqn,
    slots: SlotMap,
  ) {
    this.eqns = [eqn];
    this.ins = eqn.inputs.map((a) => slots.slot(a));
    this.out = slots.slot(eqn.outputs[0]!);
    const [[lc, rc]] = (eqn.params as DotParams).dimension_numbers;
    const [l, r] = eqn.inputs.map((a) => a.aval.shape) as [readonly number[], readonly number[]];
    this.perms = [
      [...freeAxes(l.length, lc), ...lc],
      [...freeAxes(r.length, rc), ...rc],
    ];
    this.m = sizeOf(l, freeAxes(l.length, lc));
    this.n = sizeOf(r, freeAxes(r.length, rc));
    this.k = sizeOf(l, lc);
    this.dtype = eqn.outputs[0]!.aval.dtype as "float32" | "float64";
  }

  /** Makes `step` (whose input `k` is this product) run on C where the GEMM leaves it. */
  attach(step: FusedStep, k: number, materialize: boolean): void {
    this.epilogue = step;
    this.epilogueInput = k;
    this.materialize = materialize;
    this.eqns = [this.eqn, ...step.eqns];
    for (const s of step.ins) if (!this.ins.includes(s)) this.ins.push(s);
  }

  run(env: Env): void {
    const { m, n, k, dtype, epilogue } = this;
    const [x, y] = [env[this.ins[0]!]!, env[this.ins[1]!]!];
    const lhs: MatmulOperand = { buf: bufferOf(x), shape: x.shape, perm: this.perms[0] };
    const rhs: MatmulOperand = { buf: bufferOf(y), shape: y.shape, perm: this.perms[1] };
    let pending = epilogue !== null;
    // The epilogue's other whole operands are copied in while the workers compute the product.
    let placed: number[] | null = null;
    const stage = epilogue && dtype === "float32" && n % 8 === 0 ? () => void (placed = epilogue.stage(env, this.epilogueInput)) : undefined;
    const ok = matmulToStore(lhs, rhs, m, n, k, dtype, (_, c0, ldc) => {
      const copyOut = () => {
        // Every element of C is stored: no zero fill.
        const out = this.pooled && poolOpen() ? (this.pool ??= uninitializedFloatArray(dtype, m * n)) : uninitializedFloatArray(dtype, m * n);
        storeRows(out, 0, n, m, n)(dtype === "float32" ? views().f32 : views().f64, c0, ldc);
        env[this.out] = fromBuffer(out, this.eqn.outputs[0]!.aval.shape as number[], dtype);
      };
      if (this.materialize || !epilogue || ldc !== n || dtype !== "float32") copyOut();
      if (epilogue && ldc === n && dtype === "float32") {
        const at = placed ?? epilogue.ins.map(() => -1);
        at[this.epilogueInput] = c0 * 4;
        if (epilogue.runPlaced(env, this.epilogueInput, at, arena.mark())) pending = false;
        else if (!env[this.out]) copyOut(); // C is still where the GEMM left it (the kernel took room above it)
      }
    }, stage);
    if (!ok) env[this.out] = dotGeneralP.impl([x, y], this.eqn.params as never)[0];
    if (pending) epilogue!.run(env);
  }

  describe(name: (a: Atom) => string): string {
    const e = this.eqn;
    const dot = `${name(e.outputs[0]!)} = dot_general ${e.inputs.map(name).join(" ")}${this.pooled && (this.materialize || !this.epilogue) ? `  (kept: ${name(e.outputs[0]!)})` : ""}`;
    return this.epilogue ? `${dot}; then on C: ${this.epilogue.describe(name)}` : dot;
  }
}
