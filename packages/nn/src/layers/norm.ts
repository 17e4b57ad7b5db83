/** Normalization layers over the trailing (feature) axes: `layerNorm` and `rmsNorm`. */
import { type ArrayBase, type DType, ShapeError, ValueError, np, random, describeValue } from "@cotangent/core";
import { type Initializer, ones, zeros } from "../initializers.js";
import { type Layer, checkFloatInput, checkParamDType, checkSize } from "./layer.js";

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
  const scaleInit = options.scaleInit ?? ones;
  const biasInit = options.biasInit ?? zeros;
  return {
    name,
    init: (key) => {
      const [ks, kb] = random.split(key);
      const p: NormParams = {};
      if (useScale) p.scale = scaleInit(ks!, shape, dtype);
      if (useBias) p.bias = biasInit(kb!, shape, dtype);
      return p;
    },
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
export const layerNorm = (features: number | readonly number[], options: NormOptions = {}): Layer<NormParams> => normLayer("layerNorm", features, options, true);

/**
 * RMS normalization (Zhang & Sennrich 2019): `x / sqrt(mean(x²) + epsilon) · scale`
 * over the trailing `features` axes; no centering and no bias.
 */
export const rmsNorm = (features: number | readonly number[], options: Omit<NormOptions, "useBias" | "biasInit"> = {}): Layer<NormParams> => normLayer("rmsNorm", features, options, false);
