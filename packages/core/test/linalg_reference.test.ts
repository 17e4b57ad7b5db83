/**
 * np.linalg and lax.linalg against Debian's numpy 1.24 / scipy 1.10 (LAPACK), on the random
 * well- and ill-conditioned matrices of reference/linalg.json (made once by
 * reference/gen_linalg.py). Each function's error is measured as max |got - ref| / max |ref|
 * (normwise), or as a residual where LAPACK's own answer is only as good as the condition
 * number allows; the bounds asserted here are the ones the linear-algebra page of the docs states.
 * `LINALG_REPORT=1` prints the measured errors.
 */
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ArrayBase, lax, np } from "@cotangent/core";

type M = number[][];
const ref = JSON.parse(readFileSync(fileURLToPath(new URL("./reference/linalg.json", import.meta.url)), "utf8"));

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
const arr = (x: unknown, dtype: "float32" | "float64" = "float64") => np.array(x as number[], { dtype });
const val = (x: ArrayBase | number): unknown => (typeof x === "number" ? x : x.toArray());

/** max |got - want| / max |want| (max |want| floored at the smallest normal, for zeros). */
const normErr = (got: unknown, want: unknown): number => {
  const g = flat(got);
  const w = flat(want);
  expect(g.length).toBe(w.length);
  const scale = Math.max(...w.map(Math.abs), 2 ** -1022);
  return Math.max(0, ...g.map((v, i) => Math.abs(v - w[i]!))) / scale;
};

/** Flips each column so that its largest-magnitude entry is positive; returns the flipped matrix and the signs. */
const normalizeColumns = (m: M): [M, number[]] => {
  const cols = m[0]?.length ?? 0;
  const signs = Array.from({ length: cols }, (_, c) => {
    let best = 0;
    for (const row of m) if (Math.abs(row[c]!) > Math.abs(best)) best = row[c]!;
    return best < 0 ? -1 : 1;
  });
  return [m.map((row) => row.map((v, c) => v * signs[c]!)), signs];
};
const scaleRows = (m: M, signs: number[]): M => m.map((row, r) => row.map((v) => v * signs[r]!));
const matmulPlain = (a: M, b: M): M => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transposePlain = (a: M): M => a[0]!.map((_, j) => a.map((row) => row[j]!));

/** Measured errors, per function and kind (printed with LINALG_REPORT=1). */
const measured = new Map<string, number>();
const record = (name: string, err: number, bound: number): void => {
  measured.set(name, Math.max(measured.get(name) ?? 0, err));
  expect(err, name).toBeLessThanOrEqual(bound);
};
afterAll(() => {
  if (process.env.LINALG_REPORT) console.log([...measured].map(([k, v]) => `${k}: ${v.toExponential(1)}`).join("\n"));
});

const EPS64 = 2 ** -52;
const EPS32 = 2 ** -23;

describe("LU-based functions against LAPACK", () => {
  it("det, slogdet, inv and solve (float64; ill-conditioned within cond * eps)", () => {
    for (const c of ref.square) {
      const a = arr(c.a);
      const tol = c.kind === "well" ? 1e-13 : 10 * c.cond * EPS64;
      record(`det ${c.kind}`, Math.abs(np.linalg.det(a).item() - c.det) / Math.abs(c.det), tol);
      const [sign, logdet] = np.linalg.slogdet(a);
      expect(sign.item()).toBe(c.slogdet[0]);
      // An absolute error in log|det| is a relative error in det.
      record(`slogdet ${c.kind}`, Math.abs(logdet.item() - c.slogdet[1]), c.kind === "well" ? 1e-13 : tol);
      record(`inv ${c.kind}`, normErr(val(np.linalg.inv(a)), c.inv), tol);
      record(`solve ${c.kind}`, normErr(val(np.linalg.solve(a, arr(c.b))), c.solve), tol);
      // Backward error max|a x - b| / (max|a| max|x|): what LU with partial pivoting guarantees at any condition.
      const x = np.linalg.solve(a, arr(c.b));
      const scale = Math.max(...flat(c.a).map(Math.abs)) * Math.max(...flat(val(x)).map(Math.abs));
      record(`solve backward error ${c.kind}`, (normErr(val(np.matmul(a, x)), c.b) * Math.max(...flat(c.b).map(Math.abs))) / scale, 1e-14);
    }
  });

  it("cond (every p), matrixRank and svdvals", () => {
    const ps: Record<string, number | "fro" | "nuc"> = { fro: "fro", nuc: "nuc", "1": 1, "-1": -1, "2": 2, "-2": -2, inf: Infinity, "-inf": -Infinity };
    for (const c of ref.square) {
      const a = arr(c.a);
      const tol = c.kind === "well" ? 1e-13 : 10 * c.cond * EPS64;
      record(`cond ${c.kind}`, Math.abs(np.linalg.cond(a).item() - c.cond) / c.cond, tol);
      for (const [k, p] of Object.entries(ps)) record(`cond ${c.kind}`, Math.abs(np.linalg.cond(a, p).item() - c.conds[k]) / c.conds[k], tol);
      expect(np.linalg.matrixRank(a).item()).toBe(c.rank);
    }
    for (const c of ref.lstsq) {
      expect(np.linalg.matrixRank(arr(c.a)).item()).toBe(c.rank);
      record("svdvals", normErr(val(np.linalg.svdvals(arr(c.a))), c.s), 1e-14);
    }
    expect(np.linalg.matrixRank(np.zeros([3])).item()).toBe(0);
    expect(np.linalg.matrixRank([0, 2]).item()).toBe(1);
    expect(np.linalg.matrixRank(arr(ref.batch.a)).toArray()).toEqual([3, 3]);
  });

  it("float32 inputs give float32 results within float32 rounding (well-conditioned)", () => {
    for (const c of ref.square.filter((s: any) => s.kind === "well")) {
      const a = arr(c.a, "float32");
      const d = np.linalg.det(a);
      expect(d.dtype).toBe("float32");
      const tol = 50 * c.cond * EPS32;
      record("det float32", Math.abs(d.item() - c.det) / Math.abs(c.det), tol);
      record("inv float32", normErr(val(np.linalg.inv(a)), c.inv), tol);
      record("solve float32", normErr(val(np.linalg.solve(a, arr(c.b, "float32"))), c.solve), tol);
    }
  });

  it("batched over leading axes", () => {
    const a = arr(ref.batch.a);
    record("det batched", normErr(val(np.linalg.det(a)), ref.batch.det), 1e-13);
    record("inv batched", normErr(val(np.linalg.inv(a)), ref.batch.inv), 1e-12);
    expect(np.linalg.solve(a, np.ones([3])).shape).toEqual([2, 3]);
    expect(np.linalg.solve(a, np.ones([2, 3, 4])).shape).toEqual([2, 3, 4]);
  });
});

describe("Cholesky and triangular solves against LAPACK", () => {
  it("cholesky (float64 and float32)", () => {
    for (const c of ref.cholesky) {
      const tol = c.kind === "well" ? 1e-14 : 10 * Math.sqrt(c.cond) * EPS64;
      record(`cholesky ${c.kind}`, normErr(val(np.linalg.cholesky(arr(c.a))), c.l), tol);
      if (c.kind === "well") record("cholesky float32", normErr(val(np.linalg.cholesky(arr(c.a, "float32"))), c.l), 1e-6);
    }
    const u = np.linalg.cholesky(arr(ref.cholesky[2].a), { upper: true });
    record("cholesky well", normErr(val(u), transposePlain(ref.cholesky[2].l)), 1e-14);
  });

  it("triangularSolve: all 16 flag combinations", () => {
    const t = ref.triangular;
    for (const c of t.cases) {
      const b = c.leftSide ? t.bl : t.br;
      const x = lax.linalg.triangularSolve(arr(t.a), arr(b), { leftSide: c.leftSide, lower: c.lower, transposeA: c.transposeA, unitDiagonal: c.unitDiagonal });
      record("triangularSolve", normErr(val(x), c.x), 1e-14);
    }
  });
});

describe("QR, eigh and SVD against LAPACK", () => {
  it("qr: reduced, complete and r modes match LAPACK (same Householder signs)", () => {
    for (const c of ref.qr) {
      const a = arr(c.a);
      const tol = c.kind === "well" ? 1e-13 : 10 * c.cond * EPS64;
      const [q, r] = np.linalg.qr(a);
      record(`qr ${c.kind}`, Math.max(normErr(val(q), c.q), normErr(val(r), c.r)), tol);
      const [qc, rc] = np.linalg.qr(a, "complete");
      record(`qr complete ${c.kind}`, Math.max(normErr(val(qc), c.qc), normErr(val(rc), c.rc)), tol);
      record(`qr ${c.kind}`, normErr(val(np.linalg.qr(a, "r")), c.r), tol);
      // Backward error: Q R = A.
      record(`qr residual ${c.kind}`, normErr(val(np.matmul(q, r)), c.a), 1e-14);
      if (c.kind === "well") {
        const [q32, r32] = np.linalg.qr(arr(c.a, "float32"));
        record("qr float32", Math.max(normErr(val(q32), c.q), normErr(val(r32), c.r)), 50 * c.cond * EPS32);
      }
    }
  });

  it("eigh: eigenvalues, and eigenvectors up to sign", () => {
    for (const c of ref.eigh) {
      const [w, v] = np.linalg.eigh(arr(c.a));
      record(`eigh values ${c.kind}`, normErr(val(w), c.w), 1e-14);
      const [vn] = normalizeColumns(v.toArray());
      const [rn] = normalizeColumns(c.v);
      // Vectors are determined to eps * |A| / gap: at most 1e-8 for the ill-conditioned spectrum.
      record(`eigh vectors ${c.kind}`, normErr(vn, rn), c.kind === "well" ? 1e-12 : 1e-7);
      const av = matmulPlain(c.a, v.toArray());
      const vw = v.toArray().map((row: number[]) => row.map((x, j) => x * w.toArray()[j]));
      record(`eigh residual ${c.kind}`, normErr(av, vw), 1e-14);
      expect(normErr(val(np.linalg.eigvalsh(arr(c.a))), c.w)).toBeLessThanOrEqual(1e-14);
      if (c.kind === "well") record("eigh values float32", normErr(val(np.linalg.eigvalsh(arr(c.a, "float32"))), c.w), 1e-6);
    }
    record("eigvalsh batched", normErr(val(np.linalg.eigvalsh(arr(ref.batch.a))), ref.batch.eigvalsh), 1e-14);
  });

  it("svd: singular values, vectors up to sign, full and reduced, values only", () => {
    for (const c of ref.svd) {
      const a = arr(c.a);
      const [m, n] = [c.a.length, c.a[0].length];
      const k = Math.min(m, n);
      const [u, s, vt] = np.linalg.svd(a);
      expect([u.shape, s.shape, vt.shape]).toEqual([[m, m], [k], [n, n]]);
      record(`svd values ${c.kind}`, normErr(val(s), c.s), 1e-14);
      record(`svd values ${c.kind}`, normErr(val(np.linalg.svd(a, { computeUv: false })), c.s), 1e-14);
      // The first k singular vectors are determined up to sign (distinct values); compare them.
      const firstK = (x: M) => x.map((row) => row.slice(0, k));
      const [un, signs] = normalizeColumns(firstK(u.toArray()));
      const [rn, rsigns] = normalizeColumns(firstK(c.u));
      const tol = c.kind === "well" ? 1e-12 : 1e-6;
      record(`svd vectors ${c.kind}`, normErr(un, rn), tol);
      record(`svd vectors ${c.kind}`, normErr(scaleRows(vt.toArray().slice(0, k), signs), scaleRows(c.vt.slice(0, k), rsigns)), tol);
      // The completed columns are an orthonormal basis of the complement: U^T U = I, V V^T = I.
      const eye = (p: number) => Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j ? 1 : 0)));
      record("svd orthogonality", normErr(matmulPlain(transposePlain(u.toArray()), u.toArray()), eye(m)), 1e-14);
      record("svd orthogonality", normErr(matmulPlain(vt.toArray(), transposePlain(vt.toArray())), eye(n)), 1e-14);
      const [ur, sr, vtr] = np.linalg.svd(a, false);
      expect([ur.shape, sr.shape, vtr.shape]).toEqual([[m, k], [k], [k, n]]);
      const usv = matmulPlain(ur.toArray().map((row: number[]) => row.map((x, j) => x * sr.toArray()[j])), vtr.toArray());
      record(`svd residual ${c.kind}`, normErr(usv, c.a), 1e-14);
      if (c.kind === "well") record("svd values float32", normErr(val(np.linalg.svd(arr(c.a, "float32"), { computeUv: false })), c.s), 1e-6);
    }
    record("svd values batched", normErr(val(np.linalg.svd(arr(ref.batch.a), { computeUv: false })), ref.batch.sv), 1e-14);
  });
});

describe("lstsq and pinv against LAPACK", () => {
  it("lstsq: solution, residuals, rank and singular values; pinv", () => {
    for (const c of ref.lstsq) {
      const a = arr(c.a);
      const [x, resid, rank, s] = np.linalg.lstsq(a, arr(c.b));
      const tol = c.kind === "ill" ? 1e-6 : 1e-12;
      record(`lstsq ${c.kind}`, normErr(val(x), c.x), tol);
      // Relative to |b|^2: an exactly solvable system has residuals at round-off level on both sides.
      const bb = flat(c.b).reduce((acc: number, v: number) => acc + v * v, 0);
      record(`lstsq residuals ${c.kind}`, Math.max(...flat(val(resid)).map((v, i) => Math.abs(v - c.resid[i]))) / bb, c.kind === "ill" ? 1e-9 : 1e-12);
      expect(rank.item()).toBe(c.rank);
      expect(rank.dtype).toBe("int32");
      record(`lstsq ${c.kind}`, normErr(val(s), c.s), 1e-14);
      record(`pinv ${c.kind}`, normErr(val(np.linalg.pinv(a)), c.pinv), tol);
      // A vector b gives a vector x and a scalar residual.
      const [xv, rv] = np.linalg.lstsq(a, arr(c.b.map((r: number[]) => r[0])));
      expect([xv.shape, rv.shape]).toEqual([[c.a[0].length], []]);
    }
  });
});
