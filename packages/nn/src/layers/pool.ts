/**
 * Max and average pooling over NHWC images. Core has no reduce_window primitive, and none
 * is needed: a pooling window is the stack of `kh·kw` strided slices of the (padded)
 * input, one per window offset, reduced elementwise. Each slice is a `lax.slice` with
 * strides, so the gradient (slice's transpose is a pad), vmap and jit come for free, at a
 * cost of kh·kw passes over the output.
 */
import { type ArrayBase, ShapeError, ValueError, lax, np, describeValue, parseArgs, signature, type Signature } from "@cotangent/core";
import { checkImages, checkPadding, pair, type Padding2d } from "./conv.js";
import type { Layer } from "./layer.js";

export interface PoolOptions {
  /** Step between windows: a number or [sh, sw]. Default: the window size (non-overlapping windows). */
  strides?: number | readonly [number, number];
  /** "VALID" (default, as Flax), "SAME", or explicit [[top, bottom], [left, right]]. */
  padding?: Padding2d;
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the full window size even where it overlaps the padding. Default true, as Flax. */
  countIncludePad?: boolean;
}

/** [lo, hi] padding of one axis for "SAME" (JAX's padtype_to_pads: output size ceil(n / stride)). */
const samePads = (n: number, window: number, stride: number): [number, number] => {
  const out = Math.ceil(n / stride);
  const total = Math.max(0, (out - 1) * stride + window - n);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
};

/** The kh·kw strided slices of `x` (already padded), one per offset in the window. */
const windowSlices = (op: string, x: ArrayBase, window: [number, number], strides: [number, number]): ArrayBase[] => {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  if (h < window[0] || w < window[1]) {
    throw new ShapeError(`window [${window.join(", ")}] is larger than the (padded) input's spatial size [${h}, ${w}]`, {
      op,
      hint: 'use a smaller window or padding "SAME"',
    });
  }
  const oh = Math.floor((h - window[0]) / strides[0]) + 1;
  const ow = Math.floor((w - window[1]) / strides[1]) + 1;
  const out: ArrayBase[] = [];
  for (let i = 0; i < window[0]; i++) {
    for (let j = 0; j < window[1]; j++) {
      out.push(lax.slice(x, [0, i, j, 0], [n, i + (oh - 1) * strides[0] + 1, j + (ow - 1) * strides[1] + 1, c], [1, strides[0], strides[1], 1]));
    }
  }
  return out;
};

interface PoolConfig {
  window: [number, number];
  strides: [number, number];
  padding: Padding2d;
}

const config = (op: string, windowShape: number | readonly [number, number], options: PoolOptions): PoolConfig => {
  const window = pair(op, "windowShape", windowShape);
  return { window, strides: pair(op, "strides", options.strides ?? window), padding: checkPadding(op, options.padding ?? "VALID") };
};

const padded = (x: ArrayBase, cfg: PoolConfig, value: number): ArrayBase => {
  const [ph, pw] =
    cfg.padding === "VALID"
      ? [[0, 0] as const, [0, 0] as const]
      : cfg.padding === "SAME"
        ? [samePads(x.shape[1]!, cfg.window[0], cfg.strides[0]), samePads(x.shape[2]!, cfg.window[1], cfg.strides[1])]
        : cfg.padding;
  if (ph[0] + ph[1] + pw[0] + pw[1] === 0) return x;
  return lax.pad(x, np.array(value, { dtype: x.dtype }), [
    [0, 0, 0],
    [ph[0], ph[1], 0],
    [pw[0], pw[1], 0],
    [0, 0, 0],
  ]);
};

/**
 * `maxPool(windowShape, {strides, padding})`: the maximum over each window of NHWC images
 * (padding counts as -inf). No parameters. Ties share the gradient equally (XLA's
 * reduce_window gives it all to one of them; the sum is the same).
 */
const maxPoolSig: Signature = signature("nn.maxPool", ["windowShape:any!", "strides:any=", "padding:any="]);
export const maxPool = (windowShape: number | readonly [number, number], options: PoolOptions = {}, ...rest: []): Layer<null> => {
  const op = "nn.maxPool";
  parseArgs(maxPoolSig, [windowShape, options, ...rest]);
  const cfg = config(op, windowShape, options);
  return {
    name: "maxPool",
    init: () => null,
    apply: (_params, x) => {
      checkImages(op, x);
      return np.max(np.stack(windowSlices(op, padded(x, cfg, -Infinity), cfg.window, cfg.strides)), { axis: 0 });
    },
  };
};

/**
 * `avgPool(windowShape, {strides, padding, countIncludePad})`: the mean over each window
 * of NHWC images. With padding and `countIncludePad: false`, each window is divided by
 * the number of real (unpadded) elements in it. No parameters.
 */
const avgPoolSig: Signature = signature("nn.avgPool", ["windowShape:any!", "strides:any=", "padding:any=", "countIncludePad:any="]);
export const avgPool = (windowShape: number | readonly [number, number], options: AvgPoolOptions = {}, ...rest: []): Layer<null> => {
  const op = "nn.avgPool";
  parseArgs(avgPoolSig, [windowShape, options, ...rest]);
  const cfg = config(op, windowShape, options);
  const includePad = options.countIncludePad ?? true;
  if (typeof includePad !== "boolean") throw new ValueError(`countIncludePad must be a boolean, got ${describeValue(includePad)}`, { op });
  const windowSum = (x: ArrayBase): ArrayBase => windowSlices(op, padded(x, cfg, 0), cfg.window, cfg.strides).reduce((a, b) => np.add(a, b));
  return {
    name: "avgPool",
    init: () => null,
    apply: (_params, x) => {
      checkImages(op, x);
      const total = windowSum(x);
      if (includePad) return np.divide(total, cfg.window[0] * cfg.window[1]);
      // Counting the real elements per window is the same pooling over a [1, H, W, 1] of ones.
      const counts = windowSum(np.ones([1, x.shape[1]!, x.shape[2]!, 1], { dtype: x.dtype }));
      return np.divide(total, counts);
    },
  };
};
