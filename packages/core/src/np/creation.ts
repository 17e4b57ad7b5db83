/** Array constructors: zeros, ones, full, arange, linspace, eye and the *Like variants. */
import { type ArrayBase, fromBuffer } from "../array.js";
import { type DType, castTo, typedArrayFor } from "../dtype.js";
import { ValueError } from "../errors.js";
import { sizeOf } from "../shape.js";
import { type ArrayLike, type DTypeOption, asArray, checkDType } from "./coerce.js";
import { broadcastArrayTo } from "./shape.js";

export type ShapeLike = number | readonly number[];

const toShape = (op: string, s: ShapeLike): number[] => {
  const shape = typeof s === "number" ? [s] : s.slice();
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ValueError(`shape [${shape.join(", ")}] must hold non-negative integers`, { op });
  }
  return shape;
};

const dtypeOf = (op: string, o: DTypeOption | undefined, dflt: DType = "float32"): DType =>
  o?.dtype === undefined ? dflt : checkDType(op, o.dtype);

/**
 * An array of `value` everywhere. As in JAX, `value` may also be an array (or a traced
 * value) that broadcasts to `shape`; the result then has its dtype unless `dtype` is given.
 */
export const full = (shape: ShapeLike, value: ArrayLike, options?: DTypeOption): ArrayBase => {
  const sh = toShape("np.full", shape);
  if (typeof value !== "number" && typeof value !== "boolean") {
    const a = asArray(value, options?.dtype === undefined ? undefined : checkDType("np.full", options.dtype));
    return broadcastArrayTo("np.full", a, sh);
  }
  const d = dtypeOf("np.full", options, typeof value === "boolean" ? "bool" : "float32");
  const buf = typedArrayFor(d, sizeOf(sh));
  if (value !== 0 && value !== false) buf.fill(castTo(d)(Number(value)));
  return fromBuffer(buf, sh, d);
};

export const zeros = (shape: ShapeLike, options?: DTypeOption): ArrayBase => full(shape, 0, options);
export const ones = (shape: ShapeLike, options?: DTypeOption): ArrayBase => full(shape, 1, options);

type Like = { shape: readonly number[]; dtype: DType };
export const fullLike = (x: Like, value: ArrayLike, options?: DTypeOption): ArrayBase =>
  full(x.shape, value, { dtype: options?.dtype ?? x.dtype });
export const zerosLike = (x: Like, options?: DTypeOption): ArrayBase => fullLike(x, 0, options);
export const onesLike = (x: Like, options?: DTypeOption): ArrayBase => fullLike(x, 1, options);

/**
 * Evenly spaced values in [start, stop) with `step`. `arange(n)` counts from 0. The dtype
 * is int32 when all bounds are integers, else float32 (JAX's rule).
 */
export const arange = (start: number, ...rest: (number | DTypeOption | undefined)[]): ArrayBase => {
  const op = "np.arange";
  // The options object may follow any number of bounds: arange(9, {dtype}), arange(1, 9, 2, {dtype}).
  const last = rest[rest.length - 1];
  const options = typeof last === "object" ? (rest.pop() as DTypeOption) : undefined;
  rest.forEach((v, i) => {
    if (v !== undefined && typeof v !== "number") throw new ValueError(`${i === 0 ? "stop" : "step"} must be a number, got ${typeof v}`, { op, hint: "np.arange(start, stop?, step?, {dtype}?)" });
  });
  let stop = rest[0] as number | undefined;
  const step = (rest[1] as number | undefined) ?? 1;
  if (typeof start !== "number") throw new ValueError(`start must be a number, got ${typeof start}`, { op });
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`step must be a finite non-zero number, got ${step}`, { op });
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`bounds must be finite numbers, got start ${start} and stop ${stop}`, { op });
  const ints = [start, stop, step].every(Number.isInteger);
  const d = dtypeOf(op, options, ints ? "int32" : "float32");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (d === "int32" && n > 0 && Math.max(Math.abs(start), Math.abs(start + (n - 1) * step)) > 2147483647) {
    throw new ValueError(`values from ${start} to ${start + (n - 1) * step} do not fit in int32`, { op, hint: "pass {dtype: 'float64'}" });
  }
  const buf = typedArrayFor(d, n);
  for (let i = 0; i < n; i++) buf[i] = start + i * step;
  return fromBuffer(buf, [n], d);
};

/** `num` evenly spaced values from start to stop (inclusive unless `endpoint: false`). */
export const linspace = (start: number, stop: number, num = 50, options: DTypeOption & { endpoint?: boolean } = {}): ArrayBase => {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`num must be a non-negative integer, got ${num}`, { op: "np.linspace" });
  const d = dtypeOf("np.linspace", options);
  const endpoint = options.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const stepv = div > 0 ? (stop - start) / div : 0;
  const buf = typedArrayFor(d, num);
  for (let i = 0; i < num; i++) buf[i] = start + i * stepv;
  if (endpoint && num > 1) buf[num - 1] = stop;
  return fromBuffer(buf, [num], d);
};

/** The identity matrix (or `n`×`m` with ones on diagonal `k`). */
export const eye = (n: number, m?: number, options: DTypeOption & { k?: number } = {}): ArrayBase => {
  const cols = m ?? n;
  const sh = toShape("np.eye", [n, cols]);
  const d = dtypeOf("np.eye", options);
  const k = options.k ?? 0;
  const buf = typedArrayFor(d, n * cols);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) buf[i * cols + j] = 1;
  }
  return fromBuffer(buf, sh, d);
};
