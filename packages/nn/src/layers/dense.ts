/** Fully connected layers: `dense` and the multi-layer perceptron `mlp` built from it. */
import { type ArrayBase, type DType, ValueError, np, random, describeValue, parseArgs, signature, type Signature } from "@cotangent/core";
import { relu } from "../activations.js";
import { type Initializer, lecunNormal, zeros } from "../initializers.js";
import { type Layer, checkFloatInput, checkLastAxis, checkParamDType, checkSize } from "./layer.js";

export interface DenseOptions {
  /** Add a bias. Default true. */
  useBias?: boolean;
  /** Initializer of the [in, out] weight. Default LeCun normal, as Flax. */
  kernelInit?: Initializer;
  /** Initializer of the bias. Default zeros. */
  biasInit?: Initializer;
  /** Parameter dtype. Default float32. */
  dtype?: DType;
}

/** Dense params: the weight `w` of shape [in, out] and, with a bias, `b` of shape [out]. */
export interface DenseParams {
  w: ArrayBase;
  b?: ArrayBase;
}

/**
 * `y = x·w + b` over the last axis of `x` (any leading batch axes). Params `{w: [in, out],
 * b: [out]}`; the weight is LeCun normal and the bias zero unless chosen otherwise.
 */
const denseSig: Signature = signature("nn.dense", ["inFeatures:any!", "outFeatures:any!", "useBias:any=", "kernelInit:any=", "biasInit:any=", "dtype:any="]);
export const dense = (inFeatures: number, outFeatures: number, options: DenseOptions = {}, ...rest: []): Layer<DenseParams> => {
  const op = "nn.dense";
  parseArgs(denseSig, [inFeatures, outFeatures, options, ...rest]);
  checkSize(op, "inFeatures", inFeatures);
  checkSize(op, "outFeatures", outFeatures);
  const dtype = checkParamDType(op, options.dtype);
  const useBias = options.useBias ?? true;
  const kernelInit = options.kernelInit ?? lecunNormal();
  const biasInit = options.biasInit ?? zeros;
  return {
    name: "dense",
    init: (key) => {
      const [kw, kb] = random.split(key);
      const w = kernelInit(kw!, [inFeatures, outFeatures], dtype);
      return useBias ? { w, b: biasInit(kb!, [outFeatures], dtype) } : { w };
    },
    apply: (params, x) => {
      checkFloatInput(op, x);
      checkLastAxis(op, x, inFeatures);
      const y = np.matmul(x, params.w);
      return params.b === undefined ? y : np.add(y, params.b);
    },
  };
};

export interface MlpOptions extends DenseOptions {
  /** Applied after every layer but the last (and after the last with `activateFinal`). Default relu. */
  activation?: (x: ArrayBase) => ArrayBase;
  /** Apply the activation after the last layer too. Default false. */
  activateFinal?: boolean;
}

/**
 * A multi-layer perceptron with layer sizes `sizes = [in, hidden..., out]`: dense layers
 * with an activation between them. Params are the list of the dense layers' params.
 */
const mlpSig: Signature = signature("nn.mlp", ["sizes:any!", "useBias:any=", "kernelInit:any=", "biasInit:any=", "dtype:any=", "activation:any=", "activateFinal:any="]);
export const mlp = (sizes: readonly number[], options: MlpOptions = {}, ...rest: []): Layer<DenseParams[]> => {
  const op = "nn.mlp";
  parseArgs(mlpSig, [sizes, options, ...rest]);
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new ValueError(`sizes must list at least the input and output sizes, got ${describeValue(sizes)}`, { op, hint: "e.g. mlp([784, 256, 10])" });
  }
  sizes.forEach((n, i) => checkSize(op, `sizes[${i}]`, n));
  const { activation = relu, activateFinal = false, ...denseOptions } = options;
  const layers = sizes.slice(1).map((n, i) => dense(sizes[i]!, n, denseOptions));
  return {
    name: "mlp",
    init: (key) => {
      const keys = [...random.split(key, layers.length)];
      return layers.map((l, i) => l.init(keys[i]!));
    },
    apply: (params, x) => {
      if (!Array.isArray(params) || params.length !== layers.length) {
        throw new ValueError(`params must be a list of ${layers.length} dense layers' params, got ${Array.isArray(params) ? `a list of ${params.length}` : typeof params}`, { op });
      }
      let h = x;
      layers.forEach((l, i) => {
        h = l.apply(params[i]!, h);
        if (i < layers.length - 1 || activateFinal) h = activation(h);
      });
      return h;
    },
  };
};
