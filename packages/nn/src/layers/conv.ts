/** 2-D convolution over NHWC images, on `lax.convGeneralDilated`. */
import { type ArrayBase, type DType, ShapeError, ValueError, lax, np, random, describeValue, parseArgs, signature, type Signature } from "@cotangent/core";
import { type Initializer, lecunNormal, zeros } from "../initializers.js";
import { type Layer, checkFloatInput, checkParamDType, checkSize } from "./layer.js";

/** "SAME" (output size ceil(in / stride)), "VALID" (no padding), or explicit [[top, bottom], [left, right]]. */
export type Padding2d = "SAME" | "VALID" | readonly [readonly [number, number], readonly [number, number]];

export interface Conv2dOptions {
  /** Step between windows: one number or [sh, sw]. Default 1. */
  stride?: number | readonly [number, number];
  /** Default "SAME", as Flax. */
  padding?: Padding2d;
  /** Kernel dilation ("atrous"): one number or [dh, dw]. Default 1. */
  dilation?: number | readonly [number, number];
  /** Feature groups: inChannels and outChannels must both be multiples. Default 1 (groups = inChannels is a depthwise conv). */
  groups?: number;
  useBias?: boolean;
  /** Initializer of the HWIO kernel [kh, kw, in / groups, out]. Default LeCun normal (fanIn = kh·kw·in/groups). */
  kernelInit?: Initializer;
  biasInit?: Initializer;
  dtype?: DType;
}

export interface Conv2dParams {
  /** The kernel, HWIO: [kh, kw, inChannels / groups, outChannels]. */
  w: ArrayBase;
  b?: ArrayBase;
}

/** A pair of positive integers from a number or a pair. */
export const pair = (op: string, what: string, v: number | readonly number[]): [number, number] => {
  const p = typeof v === "number" ? [v, v] : Array.isArray(v) ? v.slice() : [];
  if (p.length !== 2 || p.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new ValueError(`${what} must be a positive integer or a pair of them, got ${describeValue(v)}`, { op });
  }
  return [p[0]!, p[1]!];
};

/** Checks a padding argument (strings, or a pair of non-negative [lo, hi] pairs). */
export const checkPadding = (op: string, padding: unknown): Padding2d => {
  if (padding === "SAME" || padding === "VALID") return padding;
  const ok =
    Array.isArray(padding) &&
    padding.length === 2 &&
    padding.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => Number.isInteger(n) && n >= 0));
  if (!ok) throw new ValueError(`padding must be "SAME", "VALID" or [[top, bottom], [left, right]], got ${describeValue(padding)}`, { op });
  return padding as unknown as Padding2d;
};

/** An NHWC input with `channels` channels. */
export const checkImages = (op: string, x: ArrayBase, channels?: number): void => {
  checkFloatInput(op, x);
  if (x.ndim !== 4) {
    throw new ShapeError(`expects NHWC images of rank 4, got shape [${x.shape.join(", ")}]`, {
      op,
      hint: x.ndim === 3 ? "add a batch axis: np.expandDims(x, 0)" : "layout is [batch, height, width, channels]",
    });
  }
  if (channels !== undefined && x.shape[3] !== channels) {
    throw new ShapeError(`input of shape [${x.shape.join(", ")}] has ${x.shape[3]} channels (last axis, NHWC), but the layer expects ${channels}`, { op });
  }
};

/**
 * `conv2d(inChannels, outChannels, kernelSize)`: a 2-D convolution of NHWC images
 * `[N, H, W, inChannels]` with an HWIO kernel, giving `[N, H', W', outChannels]`
 * (Flax's layout). Strides, padding, dilation and groups as in `lax.convGeneralDilated`.
 */
const conv2dSig: Signature = signature("nn.conv2d", ["inChannels:any!", "outChannels:any!", "kernelSize:any!", "stride:any=", "padding:any=", "dilation:any=", "groups:any=", "useBias:any=", "kernelInit:any=", "biasInit:any=", "dtype:any="]);
export const conv2d = (inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: Conv2dOptions = {}, ...rest: []): Layer<Conv2dParams> => {
  const op = "nn.conv2d";
  parseArgs(conv2dSig, [inChannels, outChannels, kernelSize, options, ...rest]);
  checkSize(op, "inChannels", inChannels);
  checkSize(op, "outChannels", outChannels);
  const [kh, kw] = pair(op, "kernelSize", kernelSize);
  const stride = pair(op, "stride", options.stride ?? 1);
  const dilation = pair(op, "dilation", options.dilation ?? 1);
  const padding = checkPadding(op, options.padding ?? "SAME");
  const groups = checkSize(op, "groups", options.groups ?? 1);
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ValueError(`groups (${groups}) must divide both inChannels (${inChannels}) and outChannels (${outChannels})`, { op });
  }
  const dtype = checkParamDType(op, options.dtype);
  const useBias = options.useBias ?? true;
  const kernelInit = options.kernelInit ?? lecunNormal();
  const biasInit = options.biasInit ?? zeros;
  return {
    name: "conv2d",
    init: (key) => {
      const [kk, kb] = random.split(key);
      const w = kernelInit(kk!, [kh, kw, inChannels / groups, outChannels], dtype);
      return useBias ? { w, b: biasInit(kb!, [outChannels], dtype) } : { w };
    },
    apply: (params, x) => {
      checkImages(op, x, inChannels);
      const [xx, ww] = np.promoteArgs(x, params.w) as [ArrayBase, ArrayBase];
      const y = lax.convGeneralDilated(xx, ww, stride, padding as lax.PaddingLike, {
        rhsDilation: dilation,
        dimensionNumbers: ["NHWC", "HWIO", "NHWC"],
        featureGroupCount: groups,
      });
      return params.b === undefined ? y : np.add(y, params.b);
    },
  };
};
