/** NumPy-style printing of arrays, summarising large ones with `...`. */
import type { DType, TypedArray } from "./dtype.js";
import type { Shape } from "./shape.js";

const THRESHOLD = 1000;
const EDGE = 3;

/**
 * The shortest decimal (at most `digits` significant digits) that reads back as `v` in its
 * own dtype, as NumPy prints: float32 0.3 is "0.3", not its float64 expansion 0.30000001.
 */
const shortest = (v: number, dtype: DType, digits: number): number => {
  if (dtype === "float32") {
    for (let p = 1; p < digits; p++) {
      const s = Number(v.toPrecision(p));
      if (Math.fround(s) === v) return s;
    }
  }
  return Number(v.toPrecision(digits));
};

const formatFloat = (v: number, dtype: DType, precision: number): string => {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Object.is(v, -0)) return "-0.";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const a = Math.abs(v);
  if (a < 1e-4 || a >= 1e16) return shortest(v, dtype, precision + 1).toExponential();
  // Integer digits are never rounded away: 123456789.5 prints whole, not as 123456790.
  const r = shortest(v, dtype, Math.max(precision + 1, Math.floor(Math.log10(a)) + 2));
  return Number.isInteger(r) ? `${r}.` : String(r); // 2.9999999999 rounds to "3.", still a float
};

/**
 * Significant digits after the first that floats print with (NumPy's default is 8 decimals);
 * float32 values print their shortest round-tripping form within it, as JAX does.
 */
export const PRINT_PRECISION = 7;

/** Formats `buf` of `shape` as NumPy would: `[[1., 2.],\n [3., 4.]]`. */
export const formatArray = (buf: TypedArray, shape: Shape, dtype: DType, precision = PRINT_PRECISION): string => {
  const size = buf.length;
  const summarise = size > THRESHOLD;
  const fmt =
    dtype === "bool"
      ? (v: number) => (v ? "true" : "false")
      : dtype === "int32"
        ? (v: number) => String(v)
        : (v: number) => formatFloat(v, dtype, precision);
  if (shape.length === 0) return fmt(buf[0]!);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  // Pad every element to the widest, so columns line up.
  let width = 0;
  const cells = new Map<number, string>();
  const cell = (i: number) => {
    let c = cells.get(i);
    if (c === undefined) {
      c = fmt(buf[i]!);
      cells.set(i, c);
      width = Math.max(width, c.length);
    }
    return c;
  };
  const indices = (n: number): (number | null)[] =>
    summarise && n > 2 * EDGE
      ? [...Array.from({ length: EDGE }, (_, i) => i), null, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
      : Array.from({ length: n }, (_, i) => i);
  // First pass computes widths.
  const visit = (axis: number, off: number): void => {
    for (const i of indices(shape[axis]!)) {
      if (i === null) continue;
      if (axis === shape.length - 1) cell(off + i);
      else visit(axis + 1, off + i * strides[axis]!);
    }
  };
  visit(0, 0);
  // Floats align on the decimal point, as NumPy prints them ("1. ", "2.5").
  let intW = 0;
  let fracW = 0;
  const aligned = dtype !== "bool" && dtype !== "int32" && [...cells.values()].every((c) => /^-?\d+\.\d*$/.test(c));
  if (aligned) {
    for (const c of cells.values()) {
      const [a, b] = c.split(".");
      intW = Math.max(intW, a!.length);
      fracW = Math.max(fracW, b!.length);
    }
    for (const [k, c] of cells) {
      const [a, b] = c.split(".");
      cells.set(k, `${a!.padStart(intW)}.${b!.padEnd(fracW)}`);
    }
    width = intW + 1 + fracW;
  }
  const render = (axis: number, off: number, indent: string): string => {
    const n = shape[axis]!;
    if (axis === shape.length - 1) {
      const items = indices(n).map((i) => (i === null ? "..." : cell(off + i).padStart(width)));
      return `[${items.join(", ")}]`;
    }
    const sep = "," + "\n".repeat(shape.length - axis - 1) + indent + " ";
    const items = indices(n).map((i) => (i === null ? "..." : render(axis + 1, off + i * strides[axis]!, indent + " ")));
    return `[${items.join(sep)}]`;
  };
  return render(0, 0, "");
};

/**
 * JAX's repr around an array's `toString()` text: `Array([[1., 2.],\n       [3., 4.]], dtype=float32)`.
 * Continuation rows line up under the first. The numbers are `toString()`'s, so the two never
 * disagree on precision.
 */
export const inspectArray = (text: string, dtype: DType): string => `Array(${text.replace(/\n(?=.)/g, "\n      ")}, dtype=${dtype})`;
