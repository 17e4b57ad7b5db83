/**
 * Turning user inputs (arrays, tracers, JS numbers, nested JS arrays, typed arrays) into
 * arrays, and JAX's dtype promotion with weakly typed JS scalars.
 */
import { describeValue } from "../api/args.js";
import { type ArrayJSON, ArrayBase, adoptForeignArray, fromBuffer, isForeignArray } from "../array.js";
import { type DType, type TypedArray, castTo, isDType, joinWeak, promoteDTypes, typedArrayFor, weakDTypeOf } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { convertElementType, reshape } from "../primitives/structural.js";
import { broadcastAll, scalar } from "../primitives/common.js";
import { concatenate, expandDims } from "../primitives/shape.js";
import { sizeOf } from "../shape.js";

export type { ArrayJSON, ArrayLike, NestedArray } from "../array.js";
import type { ArrayLike, NestedArray } from "../array.js";

export interface DTypeOption {
  dtype?: DType;
}

const TYPED_DTYPE = (x: ArrayBufferView): DType | null =>
  x instanceof Float32Array ? "float32" : x instanceof Float64Array ? "float64" : x instanceof Int32Array ? "int32" : null;

export const checkDType = (op: string, d: unknown): DType => {
  if (!isDType(d)) {
    throw new DTypeError(`unknown dtype ${describeValue(d)}`, { op: typeof op === "string" ? op : "checkDType", hint: "use 'float32', 'float64', 'int32' or 'bool'" });
  }
  return d;
};

/** The strings `toJSON` writes for the numbers JSON cannot hold. */
const JSON_SPECIALS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 };

/** Shape and flat values of a nested JS array; a ragged or non-numeric one is a ValueError. */
const parseNested = (op: string, x: NestedArray): { shape: number[]; flat: (number | boolean)[] } => {
  const shape: number[] = [];
  for (let cur: NestedArray = x; Array.isArray(cur); cur = (cur as readonly NestedArray[])[0]!) {
    shape.push((cur as readonly NestedArray[]).length);
    if ((cur as readonly NestedArray[]).length === 0) break;
  }
  const flat: (number | boolean)[] = [];
  const walk = (v: NestedArray, depth: number, path: number[]) => {
    if (depth === shape.length) {
      if (typeof v === "string" && Object.hasOwn(JSON_SPECIALS, v)) {
        flat.push(JSON_SPECIALS[v]!);
        return;
      }
      if (typeof v !== "number" && typeof v !== "boolean") {
        throw new ValueError(
          Array.isArray(v)
            ? `ragged nested array: element at [${path.join(", ")}] has more nesting than the shape [${shape.join(", ")}] read from the first elements`
            : `element at [${path.join(", ")}] is ${v === null ? "null" : typeof v}, not a number or boolean${typeof v === "string" ? ` (the strings accepted, as toJSON writes them, are "NaN", "Infinity", "-Infinity" and "-0"; got ${describeValue(v)})` : ""}`,
          { op },
        );
      }
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ValueError(
        `ragged nested array: element at [${path.join(", ")}] has ${Array.isArray(v) ? `length ${v.length}` : "no nesting"} but the shape read from the first elements is [${shape.join(", ")}]`,
        { op, hint: "every row must have the same length" },
      );
    }
    (v as readonly NestedArray[]).forEach((c, i) => walk(c, depth + 1, [...path, i]));
  };
  walk(x, 0, []);
  return { shape, flat };
};

const containsArray = (v: unknown): boolean => v instanceof ArrayBase || (Array.isArray(v) && v.some(containsArray));

/**
 * A nested JS list holding arrays (or tracers), stacked as NumPy and JAX do for
 * `np.array([x, y])`: the arrays' dtypes promote, JS numbers among them are weak, and
 * every element of a list must have the same shape. Differentiable (it is a concatenate).
 */
const stackNested = (op: string, x: readonly unknown[], dtype: DType | undefined): ArrayBase => {
  let strong: DType | null = null;
  let weak: DType | null = null;
  const scan = (v: unknown, path: number[]): void => {
    if (v instanceof ArrayBase) strong = strong ? promoteDTypes(strong, v.dtype) : v.dtype;
    else if (typeof v === "number" || typeof v === "boolean") weak = weak ? promoteDTypes(weak, weakDTypeOf(v)) : weakDTypeOf(v);
    else if (Array.isArray(v)) v.forEach((c, i) => scan(c, [...path, i]));
    else throw new ValueError(`element at [${path.join(", ")}] is ${v === null ? "null" : typeof v}, not a number, boolean or array`, { op });
  };
  scan(x, []);
  const d = dtype ?? (weak === null ? strong! : joinWeak(strong!, weak));
  const build = (v: unknown, path: number[]): ArrayBase => {
    if (v instanceof ArrayBase) return convertElementType(v, d);
    if (!Array.isArray(v)) return scalar(Number(v), d);
    if (v.length === 0) return fromBuffer(typedArrayFor(d, 0), [0], d);
    const parts = v.map((c, i) => build(c, [...path, i]));
    const first = parts[0]!;
    parts.forEach((p, i) => {
      if (p.ndim !== first.ndim || p.shape.some((n, k) => n !== first.shape[k])) {
        throw new ValueError(
          `ragged nested array: element at [${[...path, i].join(", ")}] has shape [${p.shape.join(", ")}] but element at [${[...path, 0].join(", ")}] has [${first.shape.join(", ")}]`,
          { op, hint: "every element of a list must have the same shape" },
        );
      }
    });
    return concatenate(parts.map((p) => expandDims(p, [0])), 0);
  };
  return build(x, []);
};

/**
 * `np.array`: an NDArray from nested JS arrays, a typed array, a number or an array.
 * The dtype defaults to float32 for numbers (as in DESIGN.md), bool for booleans, and a
 * typed array's own dtype for Float32/Float64/Int32 arrays.
 */
export const array = (x: ArrayLike, options: DTypeOption & { shape?: readonly number[] } = {}): ArrayBase => {
  const op = "np.array";
  const dtype = options.dtype === undefined ? undefined : checkDType(op, options.dtype);
  if (x instanceof ArrayBase) return dtype ? convertElementType(x, dtype) : x;
  if (ArrayBuffer.isView(x)) {
    const src = x as TypedArray;
    const d = dtype ?? TYPED_DTYPE(src) ?? "float32";
    const buf = typedArrayFor(d, src.length);
    // A plain copy only where it cannot change a value; bools are cast so every element is 0 or 1.
    if (d === "float32" || d === "float64" || (d === "int32" && (src instanceof Int32Array || src instanceof Uint8Array))) buf.set(src);
    else {
      const cast = castTo(d);
      for (let i = 0; i < src.length; i++) buf[i] = cast(src[i]!);
    }
    const shape = options.shape ?? [src.length];
    if (shape.reduce((a, b) => a * b, 1) !== src.length) {
      throw new ValueError(`shape [${shape.join(", ")}] does not match the ${src.length} values given`, { op });
    }
    return fromBuffer(buf, shape, d);
  }
  if (typeof x === "number" || typeof x === "boolean") {
    const d = dtype ?? (typeof x === "boolean" ? "bool" : "float32");
    return scalar(Number(x), d);
  }
  if (isForeignArray(x)) {
    const own = adoptForeignArray(x, op);
    return dtype ? convertElementType(own, dtype) : own;
  }
  if (!Array.isArray(x)) {
    throw new ValueError(`cannot make an array from ${x === null ? "null" : typeof x}`, { op, hint: "pass numbers, booleans, nested arrays or a typed array" });
  }
  if (containsArray(x)) {
    const out = stackNested(op, x as readonly unknown[], dtype);
    if (options.shape === undefined) return out;
    if (sizeOf(options.shape) !== out.size) {
      throw new ValueError(`shape [${options.shape.join(", ")}] does not match the ${out.size} values given`, { op });
    }
    return reshape(out, options.shape);
  }
  const { shape, flat } = parseNested(op, x as NestedArray);
  if (options.shape !== undefined && sizeOf(options.shape) !== flat.length) {
    throw new ValueError(`shape [${options.shape.join(", ")}] does not match the ${flat.length} values given`, { op });
  }
  const d = dtype ?? (flat.length > 0 && flat.every((v) => typeof v === "boolean") ? "bool" : "float32");
  const buf = typedArrayFor(d, flat.length);
  const cast = castTo(d);
  for (let i = 0; i < flat.length; i++) buf[i] = cast(Number(flat[i]));
  const out = fromBuffer(buf, options.shape ?? shape, d);
  return out;
};

/** An array argument: arrays pass through, JS values become arrays (weak scalars stay scalars). */
export const asArray = (x: ArrayLike, dtype?: DType): ArrayBase => {
  if (dtype !== undefined) checkDType("np.asArray", dtype);
  if (x instanceof ArrayBase) return dtype ? convertElementType(x, dtype) : x;
  if (typeof x === "number" || typeof x === "boolean") {
    const d = dtype ?? weakDTypeOf(x);
    if (d === "int32" && typeof x === "number" && Number.isInteger(x) && (x < -2147483648 || x > 2147483647)) {
      // As JAX raises OverflowError for a Python int that does not fit: wrapping would be a wrong answer.
      throw new ValueError(`the JS number ${x} is outside the int32 range (a JS integer is weakly typed and takes the int32 dtype here)`, {
        hint: "compute in floating point: convert the int32 operand with np.astype(x, 'float32'), or pass np.array(value) (float32)",
      });
    }
    return scalar(Number(x), d);
  }
  return array(x, { dtype });
};

/** JAX's result dtype: strong dtypes promote on the lattice, JS scalars are weak. */
export const resultDType = (...xs: ArrayLike[]): DType => {
  let strong: DType | null = null;
  let weak: DType | null = null;
  for (const x of xs) {
    if (typeof x === "number" || typeof x === "boolean") {
      const w = weakDTypeOf(x);
      weak = weak ? promoteDTypes(weak, w) : w;
    } else {
      const d = x instanceof ArrayBase ? x.dtype : asArray(x).dtype;
      strong = strong ? promoteDTypes(strong, d) : d;
    }
  }
  if (strong === null) return weak!;
  return weak === null ? strong : joinWeak(strong, weak);
};

/** Coerces all arguments to their common dtype (see {@link resultDType}). */
export const promoteArgs = (...xs: ArrayLike[]): ArrayBase[] => {
  const d = resultDType(...xs);
  return xs.map((x) => asArray(x, d));
};

/**
 * Checks that the (already converted) arguments of the np function `op` broadcast
 * together, so that a mismatch names `op` (e.g. `np.add`) rather than the primitive it binds.
 */
export const checkBroadcast = <T extends ArrayBase[]>(op: string, xs: T): T => {
  if (!Array.isArray(xs) || !xs.every((x) => x instanceof ArrayBase)) throw new ValueError(`expects a list of arrays, got ${describeValue(xs)}`, { op: "np.checkBroadcast" });
  broadcastAll(op, xs.map((x) => x.aval));
  return xs;
};

/** Like {@link promoteArgs}, then integers and bools become float32 (for sin, log, divide, ...). */
export const promoteToFloat = (...xs: ArrayLike[]): ArrayBase[] => {
  let d = resultDType(...xs);
  if (d === "int32" || d === "bool") d = "float32";
  return xs.map((x) => asArray(x, d));
};

/** Options of `np.fromJSON`. */
export interface FromJSONOptions {
  /** The dtype to read the values as (default as `np.array`: float32, or bool for booleans). */
  dtype?: DType;
}

/**
 * An array from what `x.toJSON()` (or `JSON.stringify(x)`) wrote: nested lists of numbers or
 * booleans, with `"NaN"`, `"Infinity"`, `"-Infinity"` and `"-0"` for the values JSON cannot
 * hold; or the JSON text itself. Pass the array's `dtype` to get it back exactly: a float64
 * array round-trips bit for bit. (`np.array` accepts the same nested lists.)
 */
export const fromJSON = (json: string | ArrayJSON, options: FromJSONOptions = {}): ArrayBase => {
  const op = "np.fromJSON";
  let value: unknown = json;
  if (typeof json === "string" && !Object.hasOwn(JSON_SPECIALS, json)) {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new ValueError(`the text is not JSON: ${(e as Error).message}`, { op });
    }
  }
  if (typeof options !== "object" || options === null) throw new ValueError(`options must be an object, got ${describeValue(options)}`, { op });
  const dtype = options.dtype === undefined ? undefined : checkDType(op, options.dtype);
  if (typeof value === "string") {
    if (!Object.hasOwn(JSON_SPECIALS, value)) throw new ValueError(`a JSON string must be "NaN", "Infinity", "-Infinity" or "-0", got ${describeValue(value)}`, { op });
    return scalar(JSON_SPECIALS[value]!, dtype ?? "float32");
  }
  if (typeof value !== "number" && typeof value !== "boolean" && !Array.isArray(value)) {
    throw new ValueError(`expects nested lists of numbers or booleans (as toJSON writes them), got ${describeValue(value)}`, { op });
  }
  if (Array.isArray(value) && containsArray(value)) throw new ValueError("expects plain JSON values, not arrays", { op });
  return array(value as ArrayLike, dtype ? { dtype } : {});
};
