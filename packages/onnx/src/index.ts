/**
 * @packageDocumentation
 * `@cotangent/onnx`: export jaxprs (functions, gradients, training steps) to ONNX, run them
 * on ONNX Runtime, and import ONNX graphs as Cotangent functions.
 */
export { toOnnx, DEFAULT_OPSET, type ToOnnxOptions } from "./export.js";
export { runOnnx, OnnxSession, type RunOnnxOptions, type OnnxEngine } from "./run.js";
export { loweringRules, type LowerArgs, type LoweringRule, type LoweringTable } from "./lower/index.js";
export { OnnxExportError, OnnxImportError, OnnxRuntimeError } from "./errors.js";
export { fromOnnx, type OnnxFunction } from "./import/index.js";
export { GraphBuilder, ModelContext, type Attr, type ConstDType } from "./builder.js";
export type { AttributeProto, DimensionProto, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from "./proto/schema.js";
