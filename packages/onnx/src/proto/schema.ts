/**
 * The subset of ONNX's protobuf schema that Cotangent writes and reads, as protobufjs
 * reflection. The message layout, field numbers and enum values are facts taken from
 * `onnx/onnx.proto` of the ONNX project (Apache-2.0; https://github.com/onnx/onnx); this
 * file restates only the fields used here, in our own words. Unknown fields of a model
 * read from elsewhere are skipped by protobuf's wire format, as protobuf intends.
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
    SPARSE_TENSOR = 11; SPARSE_TENSORS = 12; TYPE_PROTO = 13; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6;
    INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
    COMPLEX64 = 14; COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  optional int32 data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
export const ModelProtoType = root.lookupType("onnx.ModelProto");

/** ONNX's TensorProto.DataType values (onnx.proto). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11, UINT32: 12, UINT64: 13 } as const;

/** ONNX's AttributeProto.AttributeType values (onnx.proto). */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// The plain-object shapes of the messages, as protobufjs reads and writes them (camelCase).
/** ONNX's TensorProto (onnx.proto) as a plain object. */
export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  dataLocation?: number;
}
/** ONNX's AttributeProto (onnx.proto) as a plain object. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}
/** ONNX's NodeProto (onnx.proto) as a plain object. */
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
/** ONNX's DimensionProto (onnx.proto) as a plain object. */
export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}
/** ONNX's TypeProto (onnx.proto) as a plain object. */
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } };
}
/** ONNX's ValueInfoProto (onnx.proto) as a plain object. */
export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  docString?: string;
}
/** ONNX's GraphProto (onnx.proto) as a plain object. */
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}
/** ONNX's ModelProto (onnx.proto) as a plain object. */
export interface ModelProto {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: { key?: string; value?: string }[];
}

export const encodeModel = (m: ModelProto): Uint8Array => ModelProtoType.encode(ModelProtoType.fromObject(m)).finish();

/** Decodes bytes to plain objects; int64s become JS numbers, bytes stay Uint8Arrays. Throws on malformed wire data. */
export const decodeModel = (bytes: Uint8Array): unknown =>
  ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof String, defaults: false, arrays: true, oneofs: false });
