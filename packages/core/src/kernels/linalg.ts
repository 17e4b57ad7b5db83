/**
 * Dense matrix factorizations on one row-major float64 matrix at a time: Cholesky, LU with
 * partial pivoting, triangular solves, Householder QR, the symmetric eigendecomposition
 * (cyclic Jacobi) and the SVD (one-sided Jacobi). The primitives in
 * `primitives/linalg*.ts` loop these over leading batch axes and round to the array's dtype.
 *
 * Hand-written (no LAPACK in the browser, and no npm package of these is both small and kept):
 * the algorithms are the textbook ones (Golub & Van Loan, "Matrix Computations", 4th ed.:
 * 4.2 Cholesky, 3.4 partial pivoting, 3.1 substitution, 5.1-5.2 Householder QR, 8.5 Jacobi
 * methods for the symmetric eigenproblem and the SVD). Jacobi methods are chosen over
 * tridiagonal QR because they are short, and accurate to a few ulps relative to the norm (the
 * one-sided SVD also for small singular values); they cost a few O(n^3) sweeps, fine for the
 * small and medium matrices this library targets. Work is in float64 whatever the dtype.
 */

const EPS = 2 ** -52;

/**
 * Lower Cholesky factor of the symmetric matrix whose lower triangle is `a` (n x n). Not
 * positive definite (a non-positive or NaN pivot): every entry is NaN, as JAX returns.
 */
export const choleskyKernel = (a: Float64Array, n: number): Float64Array => {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! * l[j * n + k]!;
    if (!(d > 0)) return l.fill(NaN);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
};

/**
 * LU factorization with partial pivoting of the n x n matrix `a`, as LAPACK's getrf: the unit
 * lower L (below the diagonal) and U (on and above) packed in one matrix, the row swapped with
 * each row in turn (`pivots`) and the resulting row permutation (`perm`: row i of P A is row
 * perm[i] of A). A zero pivot column is skipped (U gets a zero on its diagonal), so a
 * singular matrix still factors.
 */
export const luKernel = (a: Float64Array, n: number): { lu: Float64Array; pivots: Int32Array; perm: Int32Array } => {
  const lu = Float64Array.from(a);
  const pivots = new Int32Array(n);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      // NaN is taken as the largest, so it propagates instead of hiding (LAPACK's idamax does too).
      if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) [p, best] = [i, v];
    }
    pivots[k] = p;
    if (p !== k) {
      for (let j = 0; j < n; j++) [lu[k * n + j], lu[p * n + j]] = [lu[p * n + j]!, lu[k * n + j]!];
      [perm[k], perm[p]] = [perm[p]!, perm[k]!];
    }
    const d = lu[k * n + k]!;
    if (d === 0) continue;
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k]! /= d);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
    }
  }
  return { lu, pivots, perm };
};

/** Flags of a triangular solve, as `lax.linalg.triangular_solve`'s parameters. */
export interface TriangularSolveFlags {
  leftSide: boolean;
  lower: boolean;
  transposeA: boolean;
  unitDiagonal: boolean;
}

/**
 * Solves op(A) X = B (leftSide; A m x m, B m x n) or X op(A) = B (B n x m), op(A) = A or
 * A^T, reading only the `lower` (or upper) triangle of A. A zero on the diagonal gives
 * inf/NaN, as substitution does in LAPACK's trsm.
 */
export const triangularSolveKernel = (a: Float64Array, b: Float64Array, m: number, rows: number, cols: number, f: TriangularSolveFlags): Float64Array => {
  // X op(A) = B is op(A)^T X^T = B^T: one left-side substitution S X = R serves both, with the
  // system matrix S (A or A^T) and the right-hand sides R (m x nrhs) laid out row-major, so the
  // inner loop runs along contiguous rows.
  const transposed = f.transposeA !== !f.leftSide;
  const lowerSystem = f.lower !== transposed;
  const sys = transposed ? transposeOf(a, m, m) : a;
  const nrhs = f.leftSide ? cols : rows;
  const x = f.leftSide ? Float64Array.from(b) : transposeOf(b, rows, cols);
  for (let step = 0; step < m; step++) {
    const i = lowerSystem ? step : m - 1 - step;
    const xi = i * nrhs;
    const [from, to] = lowerSystem ? [0, i] : [i + 1, m];
    for (let k = from; k < to; k++) {
      const sik = sys[i * m + k]!;
      const xk = k * nrhs;
      for (let c = 0; c < nrhs; c++) x[xi + c]! -= sik * x[xk + c]!;
    }
    if (!f.unitDiagonal) {
      const d = sys[i * m + i]!;
      for (let c = 0; c < nrhs; c++) x[xi + c]! /= d;
    }
  }
  return f.leftSide ? x : transposeOf(x, m, nrhs);
};

/** The transpose of a rows x cols row-major matrix. */
const transposeOf = (a: Float64Array, rows: number, cols: number): Float64Array => {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
};

/**
 * Householder QR of the m x n matrix `a` (Golub & Van Loan 5.2.1), with LAPACK's sign choice
 * (geqrf/larfg: R's diagonal entry is -sign(alpha) * norm; a column already zero below the
 * diagonal is left as it is), so Q and R agree with LAPACK's up to rounding. `full`: Q is
 * m x m and R m x n; otherwise Q is m x k and R k x n with k = min(m, n).
 */
export const qrKernel = (a: Float64Array, m: number, n: number, full: boolean): { q: Float64Array; r: Float64Array } => {
  const r = Float64Array.from(a);
  const k = Math.min(m, n);
  const vs: Float64Array[] = [];
  const taus: number[] = [];
  for (let j = 0; j < k; j++) {
    const alpha = r[j * n + j]!;
    let xnorm2 = 0;
    for (let i = j + 1; i < m; i++) xnorm2 += r[i * n + j]! ** 2;
    const v = new Float64Array(m - j);
    if (xnorm2 === 0) {
      vs.push(v);
      taus.push(0);
      continue;
    }
    const norm = Math.hypot(alpha, Math.sqrt(xnorm2));
    const beta = alpha >= 0 ? -norm : norm;
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    v[0] = 1;
    for (let i = j + 1; i < m; i++) v[i - j] = r[i * n + j]! * scale;
    // Apply H = I - tau v v^T to the trailing columns.
    r[j * n + j] = beta;
    for (let i = j + 1; i < m; i++) r[i * n + j] = 0;
    for (let c = j + 1; c < n; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i - j]! * r[i * n + c]!;
      s *= tau;
      for (let i = j; i < m; i++) r[i * n + c]! -= s * v[i - j]!;
    }
    vs.push(v);
    taus.push(tau);
  }
  const qc = full ? m : k;
  // Q = H_0 H_1 ... H_{k-1} applied to the first qc columns of the identity, back to front.
  const q = new Float64Array(m * qc);
  for (let i = 0; i < Math.min(m, qc); i++) q[i * qc + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = vs[j]!;
    const tau = taus[j]!;
    if (tau === 0) continue;
    for (let c = 0; c < qc; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i - j]! * q[i * qc + c]!;
      s *= tau;
      for (let i = j; i < m; i++) q[i * qc + c]! -= s * v[i - j]!;
    }
  }
  const rr = full ? m : k;
  return { q, r: rr === m ? r : r.slice(0, rr * n) };
};

/**
 * Eigenvalues (ascending) and eigenvectors (the columns of v) of the symmetric n x n matrix
 * whose lower triangle is `a`, by the cyclic Jacobi method (Golub & Van Loan 8.5.2-8.5.3:
 * each rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal part is
 * below eps times the norm). Any NaN in the input makes every output NaN.
 */
export const eighKernel = (a: Float64Array, n: number): { w: Float64Array; v: Float64Array } => {
  const s = new Float64Array(n * n);
  let bad = false;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = a[i * n + j]!;
      if (!Number.isFinite(x)) bad = true;
      s[i * n + j] = x;
      s[j * n + i] = x;
    }
  }
  if (bad) return { w: new Float64Array(n).fill(NaN), v: new Float64Array(n * n).fill(NaN) };
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += s[i]! ** 2;
  const tol = (EPS * Math.sqrt(total)) ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * s[p * n + q]! ** 2;
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = s[p * n + q]!;
        if (apq === 0) continue;
        // The symmetric Schur rotation (c, sn) that zeroes s[p][q] (G&VL Algorithm 8.5.1).
        const tau = (s[q * n + q]! - s[p * n + p]!) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const skp = s[k * n + p]!;
          const skq = s[k * n + q]!;
          s[k * n + p] = c * skp - sn * skq;
          s[k * n + q] = sn * skp + c * skq;
        }
        for (let k = 0; k < n; k++) {
          const spk = s[p * n + k]!;
          const sqk = s[q * n + k]!;
          s[p * n + k] = c * spk - sn * sqk;
          s[q * n + k] = sn * spk + c * sqk;
        }
        s[p * n + q] = 0;
        s[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - sn * vkq;
          v[k * n + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => s[i * n + i]! - s[j * n + j]!);
  const w = Float64Array.from(order, (i) => s[i * n + i]!);
  const vs = new Float64Array(n * n);
  for (let r = 0; r < n; r++) order.forEach((i, c) => (vs[r * n + c] = v[r * n + i]!));
  return { w, v: vs };
};

/**
 * Completes the first `k` orthonormal columns of the m x c matrix `u` (row-major, c >= k) to
 * `c` orthonormal columns by Gram-Schmidt (twice, for orthogonality to working precision)
 * against the unit vectors in turn. For the SVD's null-space columns, which LAPACK also
 * chooses arbitrarily.
 */
const completeBasis = (u: Float64Array, m: number, c: number, k: number): void => {
  let col = k;
  for (let e = 0; e < m && col < c; e++) {
    const x = new Float64Array(m);
    x[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < col; j++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += u[i * c + j]! * x[i]!;
        for (let i = 0; i < m; i++) x[i]! -= d * u[i * c + j]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += x[i]! ** 2;
    nrm = Math.sqrt(nrm);
    if (nrm < 0.5) continue; // e lies (nearly) in the span so far: try the next unit vector
    for (let i = 0; i < m; i++) u[i * c + col] = x[i]! / nrm;
    col++;
  }
};

/**
 * Singular values (descending) and, with `computeUv`, the singular vectors of the m x n
 * matrix `a` by one-sided Jacobi (Hestenes; Golub & Van Loan 8.6.3): rotations of column
 * pairs until all columns are orthogonal; the singular values are the column norms. For
 * m < n it factors A^T. `full`: U is m x m and V^T n x n (completed with an orthonormal basis
 * of the null spaces); otherwise U is m x k, V^T k x n, k = min(m, n).
 */
export const svdKernel = (a: Float64Array, m: number, n: number, full: boolean): { s: Float64Array; u: Float64Array; vt: Float64Array } => {
  if (m < n) {
    const at = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a[i * n + j]!;
    const r = svdKernel(at, n, m, full);
    // A^T = U' S V'^T  =>  A = V' S U'^T: U = V' (rows of V'^T as columns), V^T = U'^T.
    const uc = full ? m : m; // k = m here
    const vr = full ? n : m;
    const u = new Float64Array(m * uc);
    for (let i = 0; i < m; i++) for (let j = 0; j < uc; j++) u[i * uc + j] = r.vt[j * m + i]!;
    const vt = new Float64Array(vr * n);
    const rc = full ? n : m; // columns of r.u
    for (let i = 0; i < vr; i++) for (let j = 0; j < n; j++) vt[i * n + j] = r.u[j * rc + i]!;
    return { s: r.s, u, vt };
  }
  const k = n;
  const nan = !a.every(Number.isFinite);
  if (nan) {
    const uc = full ? m : k;
    const vr = full ? n : k;
    return { s: new Float64Array(k).fill(NaN), u: new Float64Array(m * uc).fill(NaN), vt: new Float64Array(vr * n).fill(NaN) };
  }
  // Columns of the working copy as contiguous vectors for speed.
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]!));
  const vcols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const x = cols[p]!;
        const y = cols[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += x[i]! * x[i]!;
          beta += y[i]! * y[i]!;
          gamma += x[i]! * y[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = c * t;
        for (let i = 0; i < m; i++) {
          const xi = x[i]!;
          const yi = y[i]!;
          x[i] = c * xi - sn * yi;
          y[i] = sn * xi + c * yi;
        }
        const vx = vcols[p]!;
        const vy = vcols[q]!;
        for (let i = 0; i < n; i++) {
          const xi = vx[i]!;
          const yi = vy[i]!;
          vx[i] = c * xi - sn * yi;
          vy[i] = sn * xi + c * yi;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.sqrt(c.reduce((acc, v) => acc + v * v, 0)));
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j]! - norms[i]!);
  const s = Float64Array.from(order, (i) => norms[i]!);
  const uc = full ? m : k;
  const u = new Float64Array(m * uc);
  // Columns with a singular value at round-off level are not reliable directions: they are
  // completed as a basis of the rest, as for the full U.
  const tiny = (s[0] ?? 0) * EPS * Math.max(m, n);
  let rank = 0;
  order.forEach((j, c) => {
    if (!(s[c]! > tiny) || s[c] === 0) return;
    for (let i = 0; i < m; i++) u[i * uc + c] = cols[j]![i]! / s[c]!;
    rank = c + 1;
  });
  completeBasis(u, m, uc, rank);
  const vr = full ? n : k;
  const vt = new Float64Array(vr * n);
  order.forEach((j, r) => {
    for (let i = 0; i < n; i++) vt[r * n + i] = vcols[j]![i]!;
  });
  return { s, u, vt };
};
