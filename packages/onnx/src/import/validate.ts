/**
 * The untrusted boundary of `fromOnnx`: decoded protobuf objects are checked against io-ts
 * codecs of the fields the importer reads, so a malformed model is a typed error here
 * and not a crash somewhere inside.
 */
import { isLeft } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { OnnxImportError } from "../errors.js";
import type { GraphProto, ModelProto } from "../proto/schema.js";

const ints = t.array(t.number);
const bytes = t.unknown; // Uint8Array, checked where read

const Tensor = t.partial({
  dims: ints,
  dataType: t.number,
  floatData: ints,
  int32Data: ints,
  int64Data: ints,
  doubleData: ints,
  name: t.string,
  rawData: bytes,
  dataLocation: t.number,
});

interface GraphLike {
  node?: { input?: string[]; output?: string[]; opType: string; name?: string; domain?: string; docString?: string; attribute?: AttrLike[] }[];
  name?: string;
  initializer?: t.TypeOf<typeof Tensor>[];
  input?: ValueInfoLike[];
  output?: ValueInfoLike[];
}
interface AttrLike {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: unknown;
  t?: t.TypeOf<typeof Tensor>;
  g?: GraphLike;
  floats?: number[];
  ints?: number[];
  graphs?: GraphLike[];
}
interface ValueInfoLike {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}

const ValueInfo: t.Type<ValueInfoLike> = t.intersection([
  t.type({ name: t.string }),
  t.partial({ type: t.partial({ tensorType: t.partial({ elemType: t.number, shape: t.partial({ dim: t.array(t.partial({ dimValue: t.number, dimParam: t.string })) }) }) }) }),
]);

const Graph: t.Type<GraphLike> = t.recursion("GraphProto", () =>
  t.partial({
    node: t.array(t.intersection([t.type({ opType: t.string }), t.partial({ input: t.array(t.string), output: t.array(t.string), name: t.string, domain: t.string, docString: t.string, attribute: t.array(Attribute) })])),
    name: t.string,
    initializer: t.array(Tensor),
    input: t.array(ValueInfo),
    output: t.array(ValueInfo),
  }),
);

const Attribute: t.Type<AttrLike> = t.recursion("AttributeProto", () =>
  t.intersection([t.type({ name: t.string }), t.partial({ type: t.number, f: t.number, i: t.number, s: bytes, t: Tensor, g: Graph, floats: ints, ints, graphs: t.array(Graph) })]),
);

const Model = t.intersection([t.type({ graph: Graph }), t.partial({ irVersion: t.number, opsetImport: t.array(t.partial({ domain: t.string, version: t.number })), producerName: t.string })]);

/** The decoded model, or an OnnxImportError naming the first field that does not fit. */
export const validateModel = (decoded: unknown): ModelProto & { graph: GraphProto } => {
  const r = Model.decode(decoded);
  if (isLeft(r)) {
    const first = r.left[0];
    const path = first ? first.context.map((c) => c.key).filter(Boolean).join(".") : "";
    throw new OnnxImportError(`the model does not have ONNX's structure${path ? ` (at ${path})` : ""}`, { op: "fromOnnx", source: null, hint: "is this an ONNX ModelProto file?" });
  }
  return r.right as ModelProto & { graph: GraphProto };
};
