/** Shape arithmetic shared by kernels, abstract evaluation and the user API. */

/** An array shape: the size of each axis. */
export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
};

/** Row-major strides (in elements). */
export const stridesOf = (shape: Shape): number[] => {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
};

/** NumPy broadcasting of two shapes, or null when they do not broadcast. */
export const broadcastShapes = (a: Shape, b: Shape): number[] | null => {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  // Explicit bounds, not a[-1] ?? 1: a negative index is a slow dictionary lookup in V8,
  // and this runs several times per eager op.
  const oa = n - a.length;
  const ob = n - b.length;
  for (let i = 0; i < n; i++) {
    const da = i >= oa ? a[i - oa]! : 1;
    const db = i >= ob ? b[i - ob]! : 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return null;
  }
  return out;
};

export const shapeStr = (s: Shape): string => `[${s.join(", ")}]`;

export const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => i + start);
