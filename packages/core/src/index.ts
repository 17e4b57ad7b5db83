/**
 * @packageDocumentation
 * Cotangent core: arrays, pytrees, the IR, tracing and the transforms.
 */
export * as np from "./np/index.js";
export * as tree from "./tree.js";
export * as lax from "./lax/index.js";
export * as random from "./random/index.js";
export * as debug from "./debug.js";
export { ArrayBase, NDArray, ARRAY_BRAND, isCotangentArray, type ArrayLike, type NestedArray } from "./array.js";
export type { DType, TypedArray } from "./dtype.js";
export { ShapedArray } from "./dtype.js";
export * from "./errors.js";
export { signature, signatures, signatureOf, parseArgs, withSignature, checkParam, describeValue, kinds } from "./api/args.js";
export type { Signature, Param, ParamKind, PositionalOr, Prefixes, Axis, Axes } from "./api/args.js";
export { setThreads, threadsReady } from "./kernels/wasm/threads.js";
export { config, withConfig, withDebugNans, withDebugInfs, type ConfigKey, type ConfigValues } from "./config.js";
export { Jaxpr, Eqn, Var, Literal, type DerivedFrom } from "./ir/jaxpr.js";
export type { Primitive, Params } from "./ir/primitive.js";
export { memoryProfile } from "./interpreter.js";
export { evalJaxpr, typecheck, toDot, jvpJaxpr, linearizeJaxpr, transposeJaxpr, partialEvalJaxpr, batchJaxpr } from "./jaxpr_api.js";
export { DOT_COLORS, type DotOptions } from "./ir/dot.js";
export { Tracer } from "./trace.js";
export { stopGradient } from "./primitives/special.js";
export { jvp } from "./transforms/jvp.js";
export { vjp, grad, valueAndGrad, linearize, linearTranspose } from "./transforms/vjp.js";
export { vmap } from "./transforms/vmap.js";
export { makeJaxpr } from "./transforms/make_jaxpr.js";
export type { MakeJaxprOptions } from "./transforms/make_jaxpr.js";
export { checkpoint, checkpointName, checkpointPolicies, savedResiduals } from "./higher/checkpoint.js";
export type { CheckpointOptions, CheckpointPolicy, SavedResidual } from "./higher/checkpoint.js";
export { customJvp, customVjp } from "./higher/custom.js";
export type { CustomJvpFunction, CustomVjpFunction } from "./higher/custom.js";
export { jacfwd, jacrev, hessian } from "./transforms/jacobian.js";
export type { JacobianOptions } from "./transforms/jacobian.js";
export { serialize, deserialize, type DeserializeOptions } from "./io/serialize.js";
export { save, load, FileNotFoundError, type LoadOptions } from "./io/save.js";
export * as codecs from "./io/codecs_namespace.js";
export { DecodeError, type DecodeFailure, type ArraySpec, type ArrayEncoding, type ArrayJson, type NestedJson, type TreeSpec, type TreeOf } from "./io/codecs.js";
export { attempt, attemptTask, arrayE, deserializeE, loadE, saveE } from "./either.js";
export { jit, DEFAULT_CACHE_SIZE } from "./compile/jit.js";
export type { JitOptions, Jitted, Lowered, CacheInfo, Retrace } from "./compile/jit.js";
