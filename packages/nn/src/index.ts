/**
 * @packageDocumentation
 * Cotangent nn: initializers, layers as pure `{init, apply}` pairs over pytrees,
 * numerically stable activations, and gradient-flow diagnostics.
 *
 * ```ts
 * import { grad, random } from "@cotangent/core";
 * import * as nn from "@cotangent/nn";
 * const model = nn.sequential(nn.dense(784, 256), nn.relu, nn.dense(256, 10));
 * const params = model.init(random.key(0));
 * const logits = model.apply(params, x);
 * ```
 */
export * as initializers from "./initializers.js";
export {
  type Initializer,
  type Key,
  type FanAxes,
  type FanMode,
  type Distribution,
  computeFans,
  varianceScaling,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunNormal,
  lecunUniform,
  orthogonal,
  zeros,
  ones,
  normal,
  uniform,
} from "./initializers.js";
export * from "./activations.js";
export { type Layer, type StatefulLayer, type ApplyOptions, type ParamsOf, fromFunction } from "./layers/layer.js";
export { type DenseOptions, type DenseParams, type MlpOptions, dense, mlp } from "./layers/dense.js";
export { type NormOptions, type NormParams, layerNorm, rmsNorm, groupNorm } from "./layers/norm.js";
export { type BatchNormOptions, type BatchNormState, batchNorm } from "./layers/batch_norm.js";
export { type EmbeddingOptions, type EmbeddingParams, embedding } from "./layers/embedding.js";
export { dropout } from "./layers/dropout.js";
export {
  type RecurrentCell,
  type RecurrentCellOptions,
  type LstmParams,
  type LstmCarry,
  type GruParams,
  type RnnOptions,
  lstmCell,
  gruCell,
  rnn,
  rnnLayer,
} from "./layers/recurrent.js";
export {
  type DotProductAttentionOptions,
  type DotProductAttentionArgs,
  type MultiHeadAttentionOptions,
  type MultiHeadAttentionParams,
  type MultiHeadAttentionLayer,
  type AttentionApplyOptions,
  type ProjectionParams,
  dotProductAttention,
  multiHeadAttention,
} from "./layers/attention.js";
export { type Conv2dOptions, type Conv2dParams, type Padding2d, conv2d } from "./layers/conv.js";
export { type ConvTransposeOptions, type ConvTransposeParams, type ConvTransposePadding, convTranspose } from "./layers/conv_transpose.js";
export { type PoolOptions, type AvgPoolOptions, maxPool, avgPool } from "./layers/pool.js";
export { type LayerLike, activation, sequential, residual, flatten } from "./layers/combinators.js";
export {
  type Flag,
  type Thresholds,
  type LayerFlow,
  type GradientFlow,
  type GradientFlowOptions,
  DEFAULT_THRESHOLDS,
  gradientFlow,
} from "./diagnostics/data.js";
export { formatGradientFlow } from "./diagnostics/table.js";
export { type SvgOptions, gradientFlowSvg } from "./diagnostics/svg.js";
