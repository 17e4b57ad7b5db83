/**
 * `fromOnnx`: an ONNX model -> a Cotangent function. Nodes are evaluated in graph order
 * with Cotangent ops (see ops.ts), so the function traces, differentiates and vmaps like
 * any other; float initializers are exposed as `params` for fine-tuning.
 */
import { type ArrayBase, NDArray } from "@cotangent/core";
import { OnnxImportError } from "../errors.js";
import { DataType, type GraphProto, decodeModel } from "../proto/schema.js";
import { Attrs, importOps, type OpContext } from "./ops.js";
import { tensorToArray } from "./tensor.js";
import { validateModel } from "./validate.js";

/** A function imported from ONNX: positional inputs in graph order; one output, or a list of them. */
export interface OnnxFunction {
  (...inputs: ArrayBase[]): ArrayBase | ArrayBase[];
  /** The graph's input names, in the order the function takes them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The floating-point initializers (the weights), by name. */
  readonly params: Readonly<Record<string, NDArray>>;
  /** The function with other values for (some of) the weights: differentiate through this to fine-tune. */
  withParams(params: Readonly<Record<string, ArrayBase>>, ...inputs: ArrayBase[]): ArrayBase | ArrayBase[];
}

/** Operators whose int64 results Cotangent would compute in int32: refused on run-time values. */
const INT_ARITHMETIC = new Set(["Add", "Sub", "Mul", "Div", "Mod", "Pow", "Neg", "Abs", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "CumSum", "ReduceSum", "ReduceProd", "Sum"]);
const INT64_SOURCES = new Set(["Shape", "Size", "ArgMax", "ArgMin", "NonZero"]);

/** Reads an ONNX model; a malformed one is an OnnxImportError, never a crash. */
export const fromOnnx = (bytes: Uint8Array): OnnxFunction => {
  if (!(bytes instanceof Uint8Array)) throw new OnnxImportError(`expects the model's bytes as a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`, { op: "fromOnnx" });
  let decoded: unknown;
  try {
    decoded = decodeModel(bytes);
  } catch (e) {
    throw new OnnxImportError(`the bytes are not a protobuf ONNX model: ${(e as Error).message}`, { op: "fromOnnx", source: null, hint: "pass the contents of a .onnx file" });
  }
  const model = validateModel(decoded);
  const foreign = (model.opsetImport ?? []).filter((o) => o.domain && o.domain !== "ai.onnx");
  if (foreign.length) throw new OnnxImportError(`the model imports operator domains ${foreign.map((o) => o.domain).join(", ")}, which fromOnnx does not read`, { op: "fromOnnx", source: null });
  const graph = model.graph;
  const inits = new Map<string, NDArray>();
  const int64Names = new Set<string>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) throw new OnnxImportError("an initializer has no name", { op: "fromOnnx", source: null });
    inits.set(t.name, tensorToArray(t, `initializer '${t.name}'`));
    if (t.dataType === DataType.INT64) int64Names.add(t.name);
  }
  const inputs = (graph.input ?? []).filter((v) => !inits.has(v.name));
  (graph.input ?? []).forEach((v) => v.type?.tensorType?.elemType === DataType.INT64 && int64Names.add(v.name));
  const outputNames = (graph.output ?? []).map((v) => v.name);
  const params: Record<string, NDArray> = {};
  for (const [k, v] of inits) if (v.dtype === "float32" || v.dtype === "float64") params[k] = v;

  const run = (g: GraphProto, scope: Map<string, ArrayBase>): Map<string, ArrayBase> => {
    const env = new Map(scope);
    for (const node of g.node ?? []) {
      const impl = importOps[node.opType];
      if (node.domain && node.domain !== "ai.onnx") throw new OnnxImportError(`node '${node.name ?? node.output[0]}' is ${node.domain}.${node.opType}, outside the ONNX domain`, { op: "fromOnnx", source: null });
      if (!impl) {
        throw new OnnxImportError(`ONNX operator ${node.opType} (node '${node.name ?? node.output[0]}') is not supported by fromOnnx`, {
          op: "fromOnnx",
          source: null,
          hint: `supported: ${Object.keys(importOps).sort().join(", ")}`,
        });
      }
      const args = (node.input ?? []).map((n) => {
        if (n === "") return undefined;
        const v = env.get(n);
        if (v === undefined) throw new OnnxImportError(`node '${node.name ?? node.output[0]}' reads '${n}', which nothing before it defines`, { op: "fromOnnx", source: null, hint: "ONNX graphs list nodes in topological order" });
        return v;
      });
      if (INT_ARITHMETIC.has(node.opType) && (node.input ?? []).some((n, i) => int64Names.has(n) && args[i] !== undefined && !(args[i] instanceof NDArray))) {
        throw new OnnxImportError(`node '${node.name ?? node.output[0]}' does int64 arithmetic on run-time values; Cotangent has int32 only`, { op: "fromOnnx", source: null });
      }
      const ctx: OpContext = {
        node,
        inputs: args,
        attr: new Attrs(node, node.attribute ?? []),
        runGraph: (sub, subInputs) => {
          const inner = new Map(env);
          (sub.input ?? []).forEach((v, i) => subInputs[i] && inner.set(v.name, subInputs[i]!));
          const done = run(sub, inner);
          return (sub.output ?? []).map((o) => done.get(o.name) ?? subgraphMissing(o.name));
        },
      };
      let outs: (ArrayBase | undefined)[];
      try {
        outs = impl(ctx);
      } catch (e) {
        if (e instanceof OnnxImportError) throw e;
        throw new OnnxImportError(`${node.opType} node '${node.name ?? node.output[0]}' failed: ${(e as Error).message}`, { op: "fromOnnx", source: null });
      }
      node.output.forEach((n, i) => {
        if (n && outs[i]) env.set(n, outs[i]!);
      });
      const castsTo64 = node.opType === "Cast" && node.attribute?.some((a) => a.name === "to" && a.i === DataType.INT64);
      if (INT64_SOURCES.has(node.opType) || castsTo64 || (node.opType !== "Cast" && (node.input ?? []).some((n) => int64Names.has(n)) && !["Gather", "Reshape", "Expand", "Slice", "Shape", "Size", "ConstantOfShape", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"].includes(node.opType) && node.opType !== "GatherElements")) {
        node.output.forEach((n) => int64Names.add(n));
      }
    }
    return env;
  };

  const call = (weights: Readonly<Record<string, ArrayBase>>, args: ArrayBase[]): ArrayBase | ArrayBase[] => {
    if (args.length !== inputs.length) {
      throw new OnnxImportError(`the model takes ${inputs.length} input${inputs.length === 1 ? "" : "s"} (${inputs.map((v) => v.name).join(", ")}), got ${args.length}`, { op: "fromOnnx" });
    }
    const scope = new Map<string, ArrayBase>(inits);
    for (const [k, v] of Object.entries(weights)) {
      if (!inits.has(k)) throw new OnnxImportError(`withParams: '${k}' is not an initializer of the model`, { op: "fromOnnx" });
      scope.set(k, v);
    }
    inputs.forEach((v, i) => scope.set(v.name, args[i]!));
    const env = run(graph, scope);
    const outs = outputNames.map((n) => env.get(n) ?? subgraphMissing(n));
    return outs.length === 1 ? outs[0]! : outs;
  };
  const fn = ((...args: ArrayBase[]) => call({}, args)) as OnnxFunction;
  Object.defineProperties(fn, {
    inputNames: { value: inputs.map((v) => v.name) },
    outputNames: { value: outputNames },
    params: { value: params },
    withParams: { value: (weights: Readonly<Record<string, ArrayBase>>, ...args: ArrayBase[]) => call(weights, args) },
  });
  return fn;
};

const subgraphMissing = (name: string): never => {
  throw new OnnxImportError(`graph output '${name}' is never computed`, { op: "fromOnnx", source: null });
};
