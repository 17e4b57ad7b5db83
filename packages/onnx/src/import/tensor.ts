/** TensorProto -> NDArray, for initializers and constant attributes. */
import { type DType, NDArray, np } from "@cotangent/core";
import { OnnxImportError } from "../errors.js";
import { DataType, type TensorProto } from "../proto/schema.js";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The Cotangent dtype an ONNX element type is read as: int64 and the small ints become int32 (Cotangent has no int64). */
export const dtypeOfElem = (elem: number, where: string): DType => {
  switch (elem) {
    case DataType.FLOAT:
      return "float32";
    case DataType.DOUBLE:
      return "float64";
    case DataType.BOOL:
      return "bool";
    case DataType.INT32:
    case DataType.INT64:
    case DataType.INT8:
    case DataType.UINT8:
    case 4: // UINT16
    case 5: // INT16
      return "int32";
    default:
      throw new OnnxImportError(`${where} has ONNX element type ${elem}, which Cotangent cannot represent`, { op: "fromOnnx", source: null, hint: "Cotangent has float32, float64, int32 and bool" });
  }
};

const clampInt = (v: number) => (v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);

const fromRaw = (raw: Uint8Array, elem: number, n: number, where: string): ArrayLike<number> => {
  const size: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.INT8]: 1, [DataType.UINT8]: 1, 4: 2, 5: 2 };
  const b = size[elem]!;
  if (raw.byteLength !== n * b) throw new OnnxImportError(`${where}: raw_data has ${raw.byteLength} bytes for ${n} elements of ${b} bytes`, { op: "fromOnnx", source: null });
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = i * b;
    out[i] =
      elem === DataType.FLOAT ? view.getFloat32(o, true)
      : elem === DataType.DOUBLE ? view.getFloat64(o, true)
      : elem === DataType.INT32 ? view.getInt32(o, true)
      : elem === DataType.INT64 ? clampInt(Number(view.getBigInt64(o, true)))
      : elem === DataType.INT8 ? view.getInt8(o)
      : elem === 4 ? view.getUint16(o, true)
      : elem === 5 ? view.getInt16(o, true)
      : view.getUint8(o);
  }
  return out;
};

export const tensorToArray = (tp: TensorProto, where: string): NDArray => {
  const dims = tp.dims ?? [];
  if (!dims.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 31)) throw new OnnxImportError(`${where} has bad dims [${dims.join(", ")}]`, { op: "fromOnnx", source: null });
  if (tp.dataLocation === 1) throw new OnnxImportError(`${where} keeps its data in an external file, which fromOnnx does not read`, { op: "fromOnnx", source: null, hint: "save the model with its data inside (onnx.save_model(..., save_as_external_data=False))" });
  const elem = tp.dataType ?? 0;
  const dtype = dtypeOfElem(elem, where);
  const n = dims.reduce((p, d) => p * d, 1);
  if (n > 2 ** 28) throw new OnnxImportError(`${where} has ${n} elements, more than fromOnnx reads`, { op: "fromOnnx", source: null });
  let data: ArrayLike<number>;
  if (tp.rawData instanceof Uint8Array && tp.rawData.byteLength > 0) data = fromRaw(tp.rawData, elem, n, where);
  else {
    const field = elem === DataType.FLOAT ? tp.floatData : elem === DataType.DOUBLE ? tp.doubleData : elem === DataType.INT64 ? tp.int64Data : tp.int32Data;
    data = (field ?? []).map((v) => (dtype === "int32" ? clampInt(v) : v));
    if (data.length !== n) throw new OnnxImportError(`${where} holds ${data.length} values for dims [${dims.join(", ")}]`, { op: "fromOnnx", source: null });
  }
  return np.reshape(np.array(Array.from(data), { dtype }), dims.slice()) as NDArray;
};
