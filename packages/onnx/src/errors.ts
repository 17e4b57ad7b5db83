/** The typed errors of ONNX export and import. */
import { CotangentError } from "@cotangent/core";

/** A jaxpr that cannot be written as ONNX: a primitive with no lowering, a param ONNX cannot express, a bad option. */
export class OnnxExportError extends CotangentError {}

/** Bytes that are not an ONNX model Cotangent can read, or a node it cannot import. */
export class OnnxImportError extends CotangentError {}

/** ONNX Runtime is missing, refused the model, or failed while running it. */
export class OnnxRuntimeError extends CotangentError {}
