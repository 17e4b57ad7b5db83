/** Lookup tables: `embedding` maps integer ids to learned vectors. */
import { type ArrayBase, type DType, DTypeError, np, parseArgs, signature, type Signature } from "@cotangent/core";
import { type Initializer, varianceScaling } from "../initializers.js";
import { type Layer, checkParamDType, checkSize } from "./layer.js";

export interface EmbeddingOptions {
  /** Default: normal with stddev 1/sqrt(features), Flax's `variance_scaling(1, "fan_in", "normal", out_axis=0)`. */
  embeddingInit?: Initializer;
  dtype?: DType;
}

export interface EmbeddingParams {
  /** The table, one row per id: [numEmbeddings, features]. */
  table: ArrayBase;
}

/**
 * `embedding(numEmbeddings, features)`: `apply(params, ids)` gathers rows of the table,
 * so int32 ids of shape S give vectors of shape [...S, features]. The gradient reaches
 * only the rows that were used (a scatter-add). Concrete ids outside the table raise an
 * IndexError (traced ones are clamped, as JAX does).
 */
const embeddingSig: Signature = signature("nn.embedding", ["numEmbeddings:any!", "features:any!", "embeddingInit:any=", "dtype:any="]);
export const embedding = (numEmbeddings: number, features: number, options: EmbeddingOptions = {}, ...rest: []): Layer<EmbeddingParams> => {
  const op = "nn.embedding";
  parseArgs(embeddingSig, [numEmbeddings, features, options, ...rest]);
  checkSize(op, "numEmbeddings", numEmbeddings);
  checkSize(op, "features", features);
  const dtype = checkParamDType(op, options.dtype);
  const init = options.embeddingInit ?? varianceScaling(1, "fan_in", "normal", { outAxis: 0 });
  return {
    name: "embedding",
    init: (key) => ({ table: init(key, [numEmbeddings, features], dtype) }),
    apply: (params, ids) => {
      if (ids.dtype !== "int32") {
        throw new DTypeError(`ids must be int32, got ${ids.aval}`, { op, hint: 'make them with np.array(ids, { dtype: "int32" })' });
      }
      return np.take(params.table, ids, { axis: 0 });
    },
  };
};
