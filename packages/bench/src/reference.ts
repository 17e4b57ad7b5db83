/**
 * Plain float64 references, written as loops, that every system's result is checked against
 * before it is timed. Slow and obvious on purpose: they share no code with any system.
 */

/** One entry of A·B, A [m, k], B [k, n], row-major. */
export const matmulEntry = (a: ArrayLike<number>, b: ArrayLike<number>, k: number, n: number, i: number, j: number): number => {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
  return s;
};

/** The layers of a ReLU MLP: weights [in, out] row-major and biases [out]. */
export interface MlpRef {
  sizes: number[];
  w: ArrayLike<number>[];
  b: ArrayLike<number>[];
}

/** Mean softmax cross-entropy of a ReLU MLP on a batch, and its gradient (dw, db per layer). */
export const mlpLossAndGrad = (p: MlpRef, x: ArrayLike<number>, y: ArrayLike<number>, batch: number): { loss: number; dw: Float64Array[]; db: Float64Array[] } => {
  const L = p.sizes.length - 1;
  const acts: Float64Array[] = [Float64Array.from(x)];
  const pre: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const [nin, nout] = [p.sizes[l]!, p.sizes[l + 1]!];
    const h = acts[l]!;
    const z = new Float64Array(batch * nout);
    for (let r = 0; r < batch; r++) {
      for (let o = 0; o < nout; o++) z[r * nout + o] = p.b[l]![o]!;
      for (let i = 0; i < nin; i++) {
        const hv = h[r * nin + i]!;
        if (hv === 0) continue;
        for (let o = 0; o < nout; o++) z[r * nout + o] += hv * p.w[l]![i * nout + o]!;
      }
    }
    pre.push(z);
    acts.push(l === L - 1 ? z : z.map((v) => (v > 0 ? v : 0)));
  }
  const C = p.sizes[L]!;
  const logits = pre[L - 1]!;
  let loss = 0;
  let dz = new Float64Array(batch * C);
  for (let r = 0; r < batch; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[r * C + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[r * C + c]! - m);
    const lse = m + Math.log(s);
    loss += lse - logits[r * C + y[r]!]!;
    for (let c = 0; c < C; c++) dz[r * C + c] = (Math.exp(logits[r * C + c]! - lse) - (c === y[r] ? 1 : 0)) / batch;
  }
  const dw: Float64Array[] = [];
  const db: Float64Array[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const [nin, nout] = [p.sizes[l]!, p.sizes[l + 1]!];
    const h = acts[l]!;
    const gw = new Float64Array(nin * nout);
    const gb = new Float64Array(nout);
    const dh = new Float64Array(batch * nin);
    for (let r = 0; r < batch; r++) {
      for (let o = 0; o < nout; o++) gb[o] += dz[r * nout + o]!;
      for (let i = 0; i < nin; i++) {
        const hv = h[r * nin + i]!;
        let acc = 0;
        for (let o = 0; o < nout; o++) {
          const d = dz[r * nout + o]!;
          gw[i * nout + o] += hv * d;
          acc += d * p.w[l]![i * nout + o]!;
        }
        dh[r * nin + i] = acc;
      }
    }
    dw[l] = gw;
    db[l] = gb;
    if (l > 0) {
      const z = pre[l - 1]!;
      dz = dh.map((v, i) => (z[i]! > 0 ? v : 0));
    }
  }
  return { loss: loss / batch, dw, db };
};

/** Optax's Adam, first step from zero moments: p - lr·ĝ/(|ĝ| + eps) with bias correction. */
export const adamFirstStep = (p: ArrayLike<number>, g: ArrayLike<number>, lr: number, eps: number): Float64Array => {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    // m̂ = g and v̂ = g² after one step (the bias corrections cancel the (1 - β) factors).
    out[i] = p[i]! - (lr * gi) / (Math.abs(gi) + eps);
  }
  return out;
};

/** Shape of an NCHW convolution with an OIHW kernel, stride 1, SAME padding (odd kernels). */
export interface ConvDims {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
}

/** y = conv(x, w), NCHW / OIHW / NCHW, stride 1, SAME. */
export const conv2d = (d: ConvDims, x: ArrayLike<number>, w: ArrayLike<number>): Float64Array => {
  const { n, c, h, w: W, o, k } = d;
  const pad = (k - 1) / 2;
  const y = new Float64Array(n * o * h * W);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let ki = 0; ki < k; ki++)
          for (let kj = 0; kj < k; kj++) {
            const wv = w[((oc * c + ic) * k + ki) * k + kj]!;
            for (let i = 0; i < h; i++) {
              const si = i + ki - pad;
              if (si < 0 || si >= h) continue;
              for (let j = 0; j < W; j++) {
                const sj = j + kj - pad;
                if (sj < 0 || sj >= W) continue;
                y[((b * o + oc) * h + i) * W + j] += wv * x[((b * c + ic) * h + si) * W + sj]!;
              }
            }
          }
  return y;
};

/** Gradients of sum(conv(x, w) ⊙ g) with respect to x and w. */
export const conv2dGrads = (d: ConvDims, x: ArrayLike<number>, w: ArrayLike<number>, g: ArrayLike<number>): { gx: Float64Array; gw: Float64Array } => {
  const { n, c, h, w: W, o, k } = d;
  const pad = (k - 1) / 2;
  const gx = new Float64Array(n * c * h * W);
  const gw = new Float64Array(o * c * k * k);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let ki = 0; ki < k; ki++)
          for (let kj = 0; kj < k; kj++) {
            const wi = ((oc * c + ic) * k + ki) * k + kj;
            const wv = w[wi]!;
            let acc = 0;
            for (let i = 0; i < h; i++) {
              const si = i + ki - pad;
              if (si < 0 || si >= h) continue;
              for (let j = 0; j < W; j++) {
                const sj = j + kj - pad;
                if (sj < 0 || sj >= W) continue;
                const gv = g[((b * o + oc) * h + i) * W + j]!;
                const xi = ((b * c + ic) * h + si) * W + sj;
                acc += gv * x[xi]!;
                gx[xi] += gv * wv;
              }
            }
            gw[wi] += acc;
          }
  return { gx, gw };
};

/** Thrown when a system's result disagrees with the reference. */
export class CheckError extends Error {}

/** Elementwise |got - want| <= atol + rtol·|want|, naming the first failing index. */
export const expectClose = (what: string, got: ArrayLike<number> | number, want: ArrayLike<number> | number, tol: { rtol?: number; atol?: number } = {}): void => {
  const g = typeof got === "number" ? [got] : got;
  const w = typeof want === "number" ? [want] : want;
  const rtol = tol.rtol ?? 1e-4;
  const atol = tol.atol ?? 1e-5;
  if (g.length !== w.length) throw new CheckError(`${what}: ${g.length} values, the reference has ${w.length}`);
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      throw new CheckError(`${what}: element ${i} is ${a}, the reference is ${b} (rtol ${rtol}, atol ${atol})`);
    }
  }
};
