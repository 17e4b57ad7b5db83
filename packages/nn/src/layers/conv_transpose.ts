/**
 * Transposed ("fractionally strided") convolution over channels-last inputs, as Flax's
 * `ConvTranspose`: `lax.convTranspose`, which is `lax.convGeneralDilated` of the input
 * dilated by the strides.
 */
import { type ArrayBase, type DType, ShapeError, type Signature, ValueError, describeValue, lax, np, parseArgs, random, signature } from "@cotangent/core";
import { type Initializer, lecunNormal, zeros } from "../initializers.js";
import { type Layer, checkFloatInput, checkParam, checkParamDType, checkParamsObject, checkSize } from "./layer.js";

/** "SAME" (output = input · stride), "VALID", or explicit [lo, hi] pads per spatial axis (applied to the dilated input). */
export type ConvTransposePadding = "SAME" | "VALID" | readonly (readonly [number, number])[];

export interface ConvTransposeOptions {
  /** Upsampling factor per spatial axis: a number or one per axis. Default 1. */
  strides?: number | readonly number[];
  /** Default "SAME", as Flax. */
  padding?: ConvTransposePadding;
  /** Kernel dilation: a number or one per axis. Default 1. */
  kernelDilation?: number | readonly number[];
  useBias?: boolean;
  /**
   * Flip the kernel spatially and swap its in/out axes, so the layer is exactly the gradient
   * (transpose) of a `conv2d` with the same kernel: the kernel is then [...kernelSize,
   * outChannels, inChannels]. Default false, as Flax.
   */
  transposeKernel?: boolean;
  /** Initializer of the kernel [...kernelSize, in, out]. Default LeCun normal (fanIn = prod(kernelSize) · in). */
  kernelInit?: Initializer;
  biasInit?: Initializer;
  dtype?: DType;
}

export interface ConvTransposeParams {
  /** The kernel: [...kernelSize, inChannels, outChannels] ([..., out, in] with transposeKernel). */
  w: ArrayBase;
  b?: ArrayBase;
}

const convTransposeSig: Signature = signature("nn.convTranspose", [
  "inChannels:count!",
  "outChannels:count!",
  "kernelSize:ints!",
  "strides:ints=",
  { name: "padding", kind: "any", pass: "keyword" },
  "kernelDilation:ints=",
  "useBias:bool=",
  "transposeKernel:bool=",
  "kernelInit:function=",
  "biasInit:function=",
  "dtype:dtype=",
]);

/** A positive integer per spatial axis, from one number or a list of `n`. */
const perAxis = (op: string, what: string, v: number | readonly number[], n: number): number[] => {
  const out = typeof v === "number" ? new Array<number>(n).fill(v) : Array.isArray(v) ? v.slice() : [];
  if (out.length !== n || out.some((k) => !Number.isInteger(k) || k <= 0)) {
    throw new ValueError(`${what} must be a positive integer or a list of ${n} (one per spatial axis), got ${describeValue(v)}`, { op });
  }
  return out;
};

/**
 * `convTranspose(inChannels, outChannels, kernelSize, { strides, padding })`: the transposed
 * convolution of channels-last inputs `[N, ...spatial, inChannels]`, giving
 * `[N, ...spatial', outChannels]`. `kernelSize` is a number (2-D, as `conv2d`) or one size
 * per spatial axis (1-D to 3-D). With "SAME" padding each spatial size is multiplied by the
 * stride; with "VALID" it becomes `in · stride + max(k - stride, 0)`, JAX's
 * `lax.conv_transpose` rules. It upsamples, as the decoder of an autoencoder or a U-Net does.
 */
export const convTranspose = (inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeOptions = {}): Layer<ConvTransposeParams> => {
  const op = "nn.convTranspose";
  parseArgs(convTransposeSig, [inChannels, outChannels, kernelSize, options]);
  checkSize(op, "inChannels", inChannels);
  checkSize(op, "outChannels", outChannels);
  const nsp = typeof kernelSize === "number" ? 2 : kernelSize.length;
  if (nsp < 1 || nsp > 3) throw new ValueError(`kernelSize must have 1 to 3 entries (one per spatial axis), got ${describeValue(kernelSize)}`, { op });
  const kernel = perAxis(op, "kernelSize", kernelSize, nsp);
  const strides = perAxis(op, "strides", options.strides ?? 1, nsp);
  const dilation = perAxis(op, "kernelDilation", options.kernelDilation ?? 1, nsp);
  const padding = options.padding ?? "SAME";
  const explicitOk = Array.isArray(padding) && padding.length === nsp && padding.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isInteger));
  if (padding !== "SAME" && padding !== "VALID" && !explicitOk) {
    throw new ValueError(`padding must be "SAME", "VALID" or ${nsp} [lo, hi] pairs of integers, got ${describeValue(padding)}`, { op });
  }
  const dtype = checkParamDType(op, options.dtype);
  const useBias = options.useBias ?? true;
  const transposeKernel = options.transposeKernel ?? false;
  const kernelInit = options.kernelInit ?? lecunNormal();
  const biasInit = options.biasInit ?? zeros;
  const wShape = [...kernel, ...(transposeKernel ? [outChannels, inChannels] : [inChannels, outChannels])];
  const layouts: Record<number, [string, string, string]> = { 1: ["NHC", "HIO", "NHC"], 2: ["NHWC", "HWIO", "NHWC"], 3: ["NHWDC", "HWDIO", "NHWDC"] };
  return {
    name: "convTranspose",
    init: (key) => {
      const [kk, kb] = random.split(key);
      const w = kernelInit(kk!, wShape, dtype);
      return useBias ? { w, b: biasInit(kb!, [outChannels], dtype) } : { w };
    },
    apply: (params, x) => {
      checkParamsObject(op, "params", params);
      checkFloatInput(op, x);
      if (x.ndim !== nsp + 2 || x.shape[x.ndim - 1] !== inChannels) {
        throw new ShapeError(`expects channels-last input [batch, ${new Array(nsp).fill("size").join(", ")}, ${inChannels}] (rank ${nsp + 2}), got shape [${x.shape.join(", ")}]`, {
          op,
          hint: x.ndim === nsp + 1 ? "add a batch axis: np.expandDims(x, 0)" : undefined,
        });
      }
      const w = checkParam(op, "params.w", params.w, wShape);
      const [xx, ww] = np.promoteArgs(x, w) as [ArrayBase, ArrayBase];
      const y = lax.convTranspose(xx, ww, strides, padding as lax.PaddingLike, {
        rhsDilation: dilation,
        dimensionNumbers: layouts[nsp]!,
        transposeKernel,
      });
      if (y.shape.slice(1, -1).some((n) => n <= 0)) {
        throw new ShapeError(`padding ${describeValue(padding)} leaves no output for input of shape [${x.shape.join(", ")}]`, { op });
      }
      return params.b === undefined ? y : np.add(y, checkParam(op, "params.b", params.b, [outChannels]));
    },
  };
};
