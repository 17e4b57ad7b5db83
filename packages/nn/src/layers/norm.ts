/** Per-example normalization layers: `layerNorm` and `rmsNorm` over the trailing (feature) axes, `groupNorm` over groups of channels. */
import { type ArrayBase, type DType, ShapeError, type Signature, ValueError, np, parseArgs, random, describeValue, signature } from "@cotangent/core";
import { type Initializer, type Key, ones, zeros } from "../initializers.js";
import { type Layer, checkFloatInput, checkParam, checkParamDType, checkParamsObject, checkSize } from "./layer.js";

export interface NormOptions {
  /** Added to the variance (mean square) before the square root. Default 1e-6, as Flax. */
  epsilon?: number;
  /** Learn a per-feature scale (initialized to ones). Default true. */
  useScale?: boolean;
  /** Learn a per-feature bias (initialized to zeros; layerNorm only). Default true. */
  useBias?: boolean;
  scaleInit?: Initializer;
  biasInit?: Initializer;
  dtype?: DType;
}

export interface NormParams {
  scale?: ArrayBase;
  bias?: ArrayBase;
}

/** The `init` of a norm layer: `scale` (ones by default) and `bias` (zeros) of `shape`, each when used. */
export const scaleBiasInit =
  (options: { scaleInit?: Initializer; biasInit?: Initializer }, useScale: boolean, useBias: boolean, shape: readonly number[], dtype: DType | undefined) =>
  (key: Key): NormParams => {
    const [ks, kb] = random.split(key);
    const p: NormParams = {};
    if (useScale) p.scale = (options.scaleInit ?? ones)(ks!, [...shape], dtype);
    if (useBias) p.bias = (options.biasInit ?? zeros)(kb!, [...shape], dtype);
    return p;
  };


const featureShape = (op: string, features: number | readonly number[]): number[] => {
  const s = typeof features === "number" ? [features] : Array.isArray(features) ? features.slice() : null;
  if (!s || s.length === 0) throw new ValueError(`features must be a size or a non-empty list of sizes, got ${describeValue(features)}`, { op });
  s.forEach((n, i) => checkSize(op, `features[${i}]`, n));
  return s;
};

const checkTrailing = (op: string, x: ArrayBase, shape: readonly number[]): number[] => {
  const k = shape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (x.ndim < k || tail.join() !== shape.join()) {
    throw new ShapeError(`input of shape [${x.shape.join(", ")}] must end with the normalized shape [${shape.join(", ")}]`, { op });
  }
  return shape.map((_, i) => x.ndim - k + i);
};

const normLayer = (name: string, features: number | readonly number[], options: NormOptions, center: boolean): Layer<NormParams> => {
  const op = `nn.${name}`;
  const shape = featureShape(op, features);
  const dtype = checkParamDType(op, options.dtype);
  const epsilon = options.epsilon ?? 1e-6;
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new ValueError(`epsilon must be a non-negative number, got ${describeValue(epsilon)}`, { op });
  const useScale = options.useScale ?? true;
  const useBias = center && (options.useBias ?? true);
  return {
    name,
    init: scaleBiasInit(options, useScale, useBias, shape, dtype),
    apply: (params, x) => {
      checkFloatInput(op, x);
      const axis = checkTrailing(op, x, shape);
      let y: ArrayBase;
      if (center) {
        const mean = np.mean(x, { axis, keepdims: true });
        const centered = np.subtract(x, mean);
        const variance = np.mean(np.square(centered), { axis, keepdims: true });
        y = np.multiply(centered, np.rsqrt(np.add(variance, epsilon)));
      } else {
        y = np.multiply(x, np.rsqrt(np.add(np.mean(np.square(x), { axis, keepdims: true }), epsilon)));
      }
      if (params.scale !== undefined) y = np.multiply(y, params.scale);
      if (params.bias !== undefined) y = np.add(y, params.bias);
      return y;
    },
  };
};

/**
 * Layer normalization (Ba, Kiros & Hinton 2016) over the trailing `features` axes:
 * `(x - mean) / sqrt(var + epsilon) · scale + bias`, with statistics per example.
 */
const normKeywords = ["epsilon:finite=", "useScale:bool=", "scaleInit:function=", "dtype:dtype="];
const layerNormSig: Signature = signature("nn.layerNorm", ["features:any!", ...normKeywords, "useBias:bool=", "biasInit:function="]);
export const layerNorm = (features: number | readonly number[], options: NormOptions = {}, ...rest: []): Layer<NormParams> => {
  parseArgs(layerNormSig, [features, options, ...rest]);
  return normLayer("layerNorm", features, options, true);
};

/**
 * RMS normalization (Zhang & Sennrich 2019): `x / sqrt(mean(x²) + epsilon) · scale`
 * over the trailing `features` axes; no centering and no bias.
 */
const rmsNormSig: Signature = signature("nn.rmsNorm", ["features:any!", ...normKeywords]);
export const rmsNorm = (features: number | readonly number[], options: Omit<NormOptions, "useBias" | "biasInit"> = {}, ...rest: []): Layer<NormParams> => {
  parseArgs(rmsNormSig, [features, options, ...rest]);
  return normLayer("rmsNorm", features, options, false);
};

const groupNormSig: Signature = signature("nn.groupNorm", [
  "numGroups:count!",
  "features:count!",
  "epsilon:finite=",
  "useScale:bool=",
  "useBias:bool=",
  "scaleInit:function=",
  "biasInit:function=",
  "dtype:dtype=",
]);

/**
 * Group normalization (Wu & He 2018): `groupNorm(numGroups, features)` splits the
 * `features` channels of a channels-last input `[N, ..., features]` into `numGroups`
 * groups of consecutive channels, and normalizes each group of each example by its mean
 * and (biased) variance over the group's channels and every axis between the first and the
 * last, as Flax's `GroupNorm`. Then a per-channel scale and bias (`{ scale, bias }` of
 * shape [features]). `numGroups = 1` is layer norm over all non-batch axes;
 * `numGroups = features` is instance norm. Default epsilon 1e-6, as Flax.
 */
export const groupNorm = (numGroups: number, features: number, options: NormOptions = {}): Layer<NormParams> => {
  const op = "nn.groupNorm";
  parseArgs(groupNormSig, [numGroups, features, options]);
  checkSize(op, "numGroups", numGroups);
  checkSize(op, "features", features);
  if (features % numGroups !== 0) {
    throw new ValueError(`numGroups (${numGroups}) must divide features (${features})`, { op, hint: "choose a divisor of features (numGroups 1 is layer norm, numGroups = features instance norm)" });
  }
  const dtype = checkParamDType(op, options.dtype);
  const epsilon = options.epsilon ?? 1e-6;
  if (!(epsilon >= 0)) throw new ValueError(`epsilon must be a non-negative number, got ${describeValue(epsilon)}`, { op });
  const useScale = options.useScale ?? true;
  const useBias = options.useBias ?? true;
  return {
    name: "groupNorm",
    init: scaleBiasInit(options, useScale, useBias, [features], dtype),
    apply: (params, x) => {
      checkParamsObject(op, "params", params);
      checkFloatInput(op, x);
      if (x.ndim < 2 || x.shape[x.ndim - 1] !== features) {
        throw new ShapeError(`expects a channels-last input [batch, ..., ${features}], got shape [${x.shape.join(", ")}]`, {
          op,
          hint: x.ndim < 2 ? "add a batch axis: np.expandDims(x, 0)" : undefined,
        });
      }
      const grouped = np.reshape(x, [...x.shape.slice(0, -1), numGroups, features / numGroups]);
      // Every axis but the batch axis and the group axis.
      const axis = grouped.shape.map((_, d) => d).filter((d) => d !== 0 && d !== grouped.ndim - 2);
      const mean = np.mean(grouped, { axis, keepdims: true });
      const centered = np.subtract(grouped, mean);
      const variance = np.mean(np.square(centered), { axis, keepdims: true });
      let y = np.reshape(np.multiply(centered, np.rsqrt(np.add(variance, epsilon))), x.shape);
      if (params.scale !== undefined) y = np.multiply(y, checkParam(op, "params.scale", params.scale, [features]));
      if (params.bias !== undefined) y = np.add(y, checkParam(op, "params.bias", params.bias, [features]));
      return y;
    },
  };
};
