/**
 * Building ONNX graphs: fresh names, nodes with typed attributes, constants as
 * initializers, and the opset each node needs. One builder per (sub)graph; they share a
 * model-wide context so names stay unique across nested scopes, as ONNX requires.
 */
import type { DType, NDArray } from "@cotangent/core";
import { OnnxExportError } from "./errors.js";
import { AttributeType, DataType, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from "./proto/schema.js";

/** The ONNX element type of a Cotangent dtype. */
export const onnxDType: Record<DType, number> = { float32: DataType.FLOAT, float64: DataType.DOUBLE, int32: DataType.INT32, bool: DataType.BOOL };

/** An attribute value: tagged, because ONNX types attributes and JS numbers cannot tell 2 from 2.0. */
export type Attr =
  | { int: number }
  | { ints: readonly number[] }
  | { float: number }
  | { floats: readonly number[] }
  | { string: string }
  | { graph: GraphProto }
  | { tensor: TensorProto };

const utf8 = new TextEncoder();

const toAttribute = (name: string, a: Attr): AttributeProto => {
  if ("int" in a) return { name, type: AttributeType.INT, i: a.int };
  if ("ints" in a) return { name, type: AttributeType.INTS, ints: [...a.ints] };
  if ("float" in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ("floats" in a) return { name, type: AttributeType.FLOATS, floats: [...a.floats] };
  if ("string" in a) return { name, type: AttributeType.STRING, s: utf8.encode(a.string) };
  if ("graph" in a) return { name, type: AttributeType.GRAPH, g: a.graph };
  return { name, type: AttributeType.TENSOR, t: a.tensor };
};

/** Element types a constant can be written in: Cotangent's dtypes and int64 for shapes and axes. */
/** The element type of a constant tensor: a dtype, or int64 (ONNX shapes and indices). */
export type ConstDType = DType | "int64";

const bytesOf = (data: ArrayLike<number>, dtype: ConstDType): Uint8Array => {
  const typed =
    dtype === "float32" ? Float32Array.from(data)
    : dtype === "float64" ? Float64Array.from(data)
    : dtype === "int32" ? Int32Array.from(data)
    : dtype === "bool" ? Uint8Array.from(data, (v) => (v ? 1 : 0))
    : BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
};

/** A TensorProto with little-endian raw data (the layout ONNX specifies for raw_data). */
export const tensorProto = (name: string, dims: readonly number[], data: ArrayLike<number>, dtype: ConstDType): TensorProto => ({
  name,
  dims: [...dims],
  dataType: dtype === "int64" ? DataType.INT64 : onnxDType[dtype],
  rawData: bytesOf(data, dtype),
});

/** A value's type for graph inputs and outputs; `dims` entries that are strings are symbolic (dynamic axes). */
export const valueInfo = (name: string, dtype: DType, dims: readonly (number | string)[], docString?: string): ValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnxDType[dtype], shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  ...(docString ? { docString } : {}),
});

/** Model-wide state shared by the builders of a graph and its subgraphs. */
export class ModelContext {
  private counter = 0;
  /** The opset the model imports: the requested one, raised by nodes that need more. */
  opset: number;
  readonly initializers: TensorProto[] = [];
  private readonly constCache = new Map<string, string>();
  constructor(
    readonly requestedOpset: number,
    readonly opsetFixed: boolean,
  ) {
    this.opset = requestedOpset;
  }
  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }
  /** Raises the model's opset to `version` for `opType`, or refuses when the user fixed a lower one. */
  require(version: number, opType: string, source?: string | null): void {
    if (version <= this.opset) return;
    if (this.opsetFixed) {
      throw new OnnxExportError(`ONNX operator ${opType} needs opset ${version}, but the export asked for opset ${this.requestedOpset}`, {
        op: "toOnnx",
        source: source ?? null,
        hint: `pass { opset: ${version} } (or leave opset out to let the export pick it)`,
      });
    }
    this.opset = version;
  }
  /** A constant as an initializer of the main graph (visible in every subgraph); equal small constants are shared. */
  constant(data: ArrayLike<number>, dims: readonly number[], dtype: ConstDType, hint = "const"): string {
    const small = data.length <= 16;
    const key = small ? `${dtype}|${dims.join(",")}|${Array.from(data).map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",")}` : "";
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, dims, data, dtype));
    if (small) this.constCache.set(key, name);
    return name;
  }
}

/** Builds one graph's node list. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  /** The doc_string given to nodes emitted now (the user's source line of the equation being lowered). */
  docString: string | null = null;
  constructor(readonly model: ModelContext) {}

  /** Emits `opType(inputs) -> outputs` and returns the output names. `since` is the opset the operator (in this form) needs. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, opts: { outputs?: number; since?: number; hint?: string } = {}): string[] {
    if (opts.since) this.model.require(opts.since, opType, this.docString);
    const outputs = Array.from({ length: opts.outputs ?? 1 }, () => this.model.fresh(opts.hint ?? opType.toLowerCase()));
    const node: NodeProto = {
      input: [...inputs],
      output: outputs,
      name: this.model.fresh(`n_${opType}`),
      opType,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    };
    if (this.docString) node.docString = this.docString;
    this.nodes.push(node);
    return outputs;
  }
  /** One-output form of {@link node}. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, since?: number): string {
    return this.node(opType, inputs, attrs, since ? { since } : {})[0]!;
  }
  constant(data: ArrayLike<number>, dims: readonly number[], dtype: ConstDType, hint?: string): string {
    return this.model.constant(data, dims, dtype, hint);
  }
  scalar(value: number, dtype: ConstDType): string {
    return this.model.constant([value], [], dtype, "scalar");
  }
  /** A 1-d int64 tensor, the form ONNX takes shapes, axes, starts and pads in. */
  int64s(values: readonly number[]): string {
    return this.model.constant(values, [values.length], "int64", "ints");
  }
  array(x: NDArray, hint = "const"): string {
    return this.model.constant(x.toTypedArray(), x.shape, x.dtype, hint);
  }
}
