/**
 * The samplers added for JAX parity (exponential, laplace, logistic, rademacher, gamma,
 * loggamma, beta, dirichlet, poisson, choice, generalizedNormal, ball, multivariateNormal,
 * orthogonal, permutation's `independent`): moments from fixed seeds, KS tests for a few,
 * shapes and dtypes, vmap over keys against a loop, and typed errors for bad parameters.
 *
 * Tolerances: a sample mean must lie within 5 standard errors (sigma / sqrt(N)) of the true
 * mean, a sample variance within 5 standard errors of the variance estimate
 * (sqrt((mu4 - sigma^4) / N)), and a KS statistic below 1.95 / sqrt(N) (the 0.1% critical
 * value). The seeds are fixed, so these are deterministic checks that a wrong recipe
 * (a wrong constant, a swapped key) fails.
 */
import { describe, expect, it } from "vitest";
import {
  type ArrayBase,
  DTypeError,
  ShapeError,
  TransformError,
  ValueError,
  grad,
  jit,
  lax,
  makeJaxpr,
  np,
  random,
  typecheck,
  vmap,
  withConfig,
} from "@cotangent/core";
import { readFileSync } from "node:fs";
import { refBlock, u32 } from "./random_reference.js";

const values = JSON.parse(readFileSync(new URL("./random_jax_values.json", import.meta.url), "utf8")) as { grads: Record<string, number[]> };

const nums = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as ArrayLike<number>, Number);
const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const varOf = (v: number[]) => {
  const m = meanOf(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
};

/** Mean within 5 standard errors; variance within 5 SEs of the variance (mu4: the 4th central moment). */
const expectMoments = (v: number[], mean: number, variance: number, mu4: number) => {
  const n = v.length;
  expect(Math.abs(meanOf(v) - mean)).toBeLessThan((5 * Math.sqrt(variance)) / Math.sqrt(n));
  expect(Math.abs(varOf(v) - variance)).toBeLessThan(5 * Math.sqrt((mu4 - variance ** 2) / n));
};

/** The KS statistic of `v` against the CDF `F` is below the 0.1% critical value. */
const expectKs = (v: number[], F: (x: number) => number) => {
  const s = v.slice().sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  s.forEach((x, i) => (d = Math.max(d, Math.abs(F(x) - i / n), Math.abs(F(x) - (i + 1) / n))));
  expect(d).toBeLessThan(1.95 / Math.sqrt(n));
};

const N = 20000;
/** Fewer draws for the gamma family, whose rejection loops cost more per draw. */
const NG = 8000;

describe("exponential, laplace, logistic, rademacher", () => {
  it("have the right moments and distributions", () => {
    const e = nums(random.exponential(random.key(1), [N]));
    expectMoments(e, 1, 1, 9);
    expectKs(e, (x) => 1 - Math.exp(-x));
    expect(Math.min(...e)).toBeGreaterThanOrEqual(0);

    const l = nums(random.laplace(random.key(2), [N]));
    expectMoments(l, 0, 2, 24);
    expectKs(l, (x) => (x < 0 ? 0.5 * Math.exp(x) : 1 - 0.5 * Math.exp(-x)));

    const g = nums(random.logistic(random.key(3), [N], "float64"));
    expectMoments(g, 0, Math.PI ** 2 / 3, (7 * Math.PI ** 4) / 15);
    expectKs(g, (x) => 1 / (1 + Math.exp(-x)));

    const r = nums(random.rademacher(random.key(4), [N]));
    expect(new Set(r)).toEqual(new Set([-1, 1]));
    expect(Math.abs(meanOf(r))).toBeLessThan(5 / Math.sqrt(N));
  });

  it("take JAX's positional arguments or an options object, and their dtypes", () => {
    expect(random.exponential(random.key(0), [2, 3]).shape).toEqual([2, 3]);
    expect(random.exponential(random.key(0)).shape).toEqual([]);
    expect(random.exponential(random.key(0), [2], "float64").dtype).toBe("float64");
    expect(nums(random.laplace(random.key(0), { shape: [3], dtype: "float64" }))).toEqual(nums(random.laplace(random.key(0), [3], "float64")));
    expect(random.rademacher(random.key(0), [3]).dtype).toBe("int32");
    expect(random.rademacher(random.key(0), [3], "float32").dtype).toBe("float32");
  });
});

describe("gamma and its family", () => {
  it("gamma has mean and variance a, for a below and above 1", () => {
    for (const a of [0.3, 2.5, 10]) {
      const v = nums(random.gamma(random.key(5), a, [NG]));
      expectMoments(v, a, a, 3 * a * a + 6 * a);
      expect(v.every((x) => x >= 0)).toBe(true);
    }
    // Gamma(2)'s CDF is 1 - e^-x (1 + x).
    expectKs(nums(random.gamma(random.key(6), 2, [NG], "float64")), (x) => 1 - Math.exp(-x) * (1 + x));
  });

  it("loggamma is the log of gamma's draws, and keeps tiny a's precision", () => {
    const a = np.array([0.3, 1, 4]);
    const g = nums(random.gamma(random.key(7), a));
    nums(random.loggamma(random.key(7), a)).forEach((l, i) => expect(Math.exp(l)).toBeCloseTo(g[i]!, 4));
    const tiny = nums(random.loggamma(random.key(8), 1e-3, [2000]));
    expect(tiny.every(Number.isFinite)).toBe(true);
    // E[log Gamma(a)] = digamma(a) ≈ -1/a - 0.5772 for small a.
    expect(Math.abs(meanOf(tiny) - (-1000 - 0.5772))).toBeLessThan((5 * 1000) / Math.sqrt(2000));
  });

  it("beta and dirichlet have the right means and variances", () => {
    const [a, b] = [2, 5];
    const v = nums(random.beta(random.key(9), a, b, [NG]));
    const m = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(Math.abs(meanOf(v) - m)).toBeLessThan((5 * Math.sqrt(variance)) / Math.sqrt(NG));
    expect(Math.abs(varOf(v) - variance)).toBeLessThan(0.08 * variance); // about 5 SEs of the variance at NG draws
    expect(v.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(random.beta(random.key(9), np.array([1, 2]), 3).shape).toEqual([2]);

    const alpha = [0.5, 1, 3.5];
    const d = random.dirichlet(random.key(10), np.array(alpha), [NG / 2]);
    expect(d.shape).toEqual([NG / 2, 3]);
    const rows = d.toArray() as number[][];
    rows.forEach((r) => expect(Math.abs(r[0]! + r[1]! + r[2]! - 1)).toBeLessThan(1e-5));
    const a0 = alpha.reduce((s, x) => s + x, 0);
    alpha.forEach((ai, i) => {
      const mi = ai / a0;
      const vi = (mi * (1 - mi)) / (a0 + 1);
      expect(Math.abs(meanOf(rows.map((r) => r[i]!)) - mi)).toBeLessThan((5 * Math.sqrt(vi)) / Math.sqrt(NG / 2));
    });
  });

  it("differentiates in a by implicit reparameterization, as JAX", () => {
    // The primitive against jax.lax.random_gamma_grad (float64).
    const a = np.array([0.3, 1, 2.5, 7], { dtype: "float64" });
    const x = np.array([0.05, 1.3, 2, 9], { dtype: "float64" });
    nums(lax.randomGammaGrad(a, x)).forEach((g, i) => expect(g).toBeCloseTo(values.grads.randomGammaGrad![i]!, 8));
    // grad of the sum of JAX's own draws, against jax.grad.
    const dsum = grad((al: ArrayBase) => np.sum(random.gamma(random.key(0), al, null, "float64")))(a);
    nums(dsum).forEach((g, i) => expect(g).toBeCloseTo(values.grads.gammaGradSum![i]!, 7));
    // Unbiased: mean(dx/da) estimates dE[x]/da = 1, and mean(x dx/da) estimates d E[x²]/2 da = a + 1/2.
    for (const av of [0.4, 3]) {
      const draws = (al: ArrayBase) => random.gamma(random.key(11), al, [NG], "float64");
      const g1 = grad((al: ArrayBase) => np.mean(draws(al)))(np.array(av, { dtype: "float64" })).item();
      expect(Math.abs(g1 - 1)).toBeLessThan(0.05);
      const g2 = grad((al: ArrayBase) => np.mean(np.square(draws(al))))(np.array(av, { dtype: "float64" })).item() / 2;
      expect(Math.abs(g2 - (av + 0.5)) / (av + 0.5)).toBeLessThan(0.06);
    }
    // Beta's gradient flows through loggamma's: E[Beta(a, b)] = a / (a + b).
    const db = grad((al: ArrayBase) => np.mean(random.beta(random.key(12), al, 3, [NG], "float64")))(np.array(2, { dtype: "float64" })).item();
    expect(Math.abs(db - 3 / 25)).toBeLessThan(0.01);
  });

  it("the derivative is first order only, with a typed error beyond", () => {
    const f = (al: ArrayBase) => np.sum(random.gamma(random.key(0), al, [3], "float64"));
    expect(() => grad(grad(f))(np.array(2, { dtype: "float64" }))).toThrow(TransformError);
  });
});

describe("poisson", () => {
  it("has mean and variance lam on both algorithms' sides of lam = 10", () => {
    for (const lam of [0.5, 9.9, 10, 500]) {
      const v = nums(random.poisson(random.key(13), lam, [N]));
      expectMoments(v, lam, lam, lam + 3 * lam * lam);
      expect(v.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
    }
    expect(nums(random.poisson(random.key(14), 0, [5]))).toEqual([0, 0, 0, 0, 0]);
    expect(random.poisson(random.key(14), np.array([1, 20])).dtype).toBe("int32");
  });
});

describe("choice", () => {
  it("draws uniformly with and without replacement", () => {
    const v = nums(random.choice(random.key(15), 4, [N]));
    [0, 1, 2, 3].forEach((k) => expect(Math.abs(v.filter((x) => x === k).length / N - 0.25)).toBeLessThan(5 * Math.sqrt(0.25 * 0.75 / N)));
    const w = nums(random.choice(random.key(16), 10, [10], false));
    expect(w.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("draws with probabilities p, with and without replacement", () => {
    const p = [0.1, 0.6, 0.3];
    const v = nums(random.choice(random.key(17), 3, [N], { p: np.array(p) }));
    p.forEach((q, k) => expect(Math.abs(v.filter((x) => x === k).length / N - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / N)));
    // Without replacement the first draw still has probabilities p; the two are distinct.
    const pairs = vmap((k: ArrayBase) => random.choice(k, 3, [2], false, np.array(p)))(random.split(random.key(18), 4000)).toArray() as number[][];
    expect(pairs.every(([a, b]) => a !== b)).toBe(true);
    p.forEach((q, k) => expect(Math.abs(pairs.filter((r) => r[0] === k).length / 4000 - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / 4000)));
  });

  it("takes slices of an array along an axis", () => {
    const x = np.reshape(np.arange(12), [3, 4]);
    const c = random.choice(random.key(19), x, [2, 2], { axis: 1 });
    expect(c.shape).toEqual([3, 2, 2]);
    // Every picked column is a column of x.
    const rows = c.toArray() as number[][][];
    rows[0]!.flat().forEach((j, i) => expect(rows[1]!.flat()[i]).toBe(j + 4));
    expect(random.choice(random.key(19), x, [0]).shape).toEqual([0, 4]);
  });

  it("rejects impossible requests with typed errors", () => {
    expect(() => random.choice(random.key(0), 3, [4], false)).toThrow(ValueError);
    expect(() => random.choice(random.key(0), 3, [2], { p: np.array([0.5, 0.5]) })).toThrow(ShapeError);
    expect(() => random.choice(random.key(0), 3, [2], { p: np.array([0.5, -0.1, 0.6]) })).toThrow(ValueError);
    expect(() => random.choice(random.key(0), 3, [3], false, np.array([0.5, 0.5, 0]))).toThrow(ValueError);
    expect(() => random.choice(random.key(0), 0, [2])).toThrow(ValueError);
    expect(() => random.choice(random.key(0), 3, [-1])).toThrow(ValueError);
    expect(() => random.choice(random.key(0), 3, [1], { replace: true, bogus: 1 } as never)).toThrow(ValueError);
  });
});

describe("generalizedNormal and ball", () => {
  it("generalizedNormal's |x|^p is Gamma(1/p)", () => {
    for (const p of [1, 1.5, 4]) {
      const v = nums(random.generalizedNormal(random.key(20), p, [NG], "float64"));
      expect(Math.abs(meanOf(v))).toBeLessThan(0.05);
      const s = v.map((x) => Math.abs(x) ** p);
      expectMoments(s, 1 / p, 1 / p, 3 / p ** 2 + 6 / p);
    }
  });

  it("ball's points lie in the unit Lp ball with E||x||² = d / (d + 2) for p = 2", () => {
    const d = 3;
    const pts = random.ball(random.key(21), d, 2, [NG]).toArray() as number[][];
    const r2 = pts.map((x) => x.reduce((s, c) => s + c * c, 0));
    expect(Math.max(...r2)).toBeLessThanOrEqual(1 + 1e-6);
    // ||x||^d is uniform on [0, 1] for a uniform point of the d-ball.
    expectKs(r2.map((q) => q ** (d / 2)), (u) => Math.min(Math.max(u, 0), 1));
    const l1 = random.ball(random.key(22), 4, { p: 1, shape: [2000] }).toArray() as number[][];
    expect(Math.max(...l1.map((x) => x.reduce((s, c) => s + Math.abs(c), 0)))).toBeLessThanOrEqual(1 + 1e-6);
  });
});

describe("multivariateNormal", () => {
  const mean = [1, -2];
  const cov = [[2, 0.6], [0.6, 1]];

  it("has mean `mean` and covariance `cov` with each factorization", () => {
    for (const method of ["cholesky", "eigh", "svd"] as const) {
      const s = random.multivariateNormal(random.key(23), np.array(mean), np.array(cov), [N], { method }).toArray() as number[][];
      const c0 = s.map((r) => r[0]!);
      const c1 = s.map((r) => r[1]!);
      expect(Math.abs(meanOf(c0) - 1)).toBeLessThan((5 * Math.sqrt(2)) / Math.sqrt(N));
      expect(Math.abs(meanOf(c1) + 2)).toBeLessThan(5 / Math.sqrt(N));
      expect(Math.abs(varOf(c0) - 2)).toBeLessThan(5 * Math.sqrt((3 * 4 - 4) / N));
      const [m0, m1] = [meanOf(c0), meanOf(c1)];
      const cross = meanOf(c0.map((x, i) => (x - m0) * (c1[i]! - m1)));
      expect(Math.abs(cross - 0.6)).toBeLessThan(5 * Math.sqrt((2 * 1 + 0.36) / N));
    }
  });

  it("takes a singular covariance with eigh / svd, and batches mean and cov", () => {
    const sing = np.array([[1, 1], [1, 1]], { dtype: "float64" });
    const s = random.multivariateNormal(random.key(24), np.zeros([2], { dtype: "float64" }), sing, [100], null, "eigh").toArray() as number[][];
    s.forEach(([a, b]) => expect(a).toBeCloseTo(b!, 6));
    const b = random.multivariateNormal(random.key(25), np.zeros([3, 2]), np.array(cov));
    expect(b.shape).toEqual([3, 2]);
    expect(random.multivariateNormal(random.key(25), np.zeros([2]), np.stack([np.array(cov), np.array(cov)]), [4, 2]).shape).toEqual([4, 2, 2]);
  });

  it("is differentiable in mean and cov (Cholesky)", () => {
    const f = (m: ArrayBase, c: ArrayBase) => np.sum(random.multivariateNormal(random.key(26), m, c, [3]));
    const [dm, dc] = grad(f, { argnums: [0, 1] })(np.array(mean, { dtype: "float64" }), np.array(cov, { dtype: "float64" }));
    expect(nums(dm)).toEqual([3, 3]);
    expect(dc.shape).toEqual([2, 2]);
    // d/dc of a fixed-z sample against a central difference.
    const h = 1e-6;
    const c2 = (e: number) => np.array([[2 + e, 0.6], [0.6, 1]], { dtype: "float64" });
    const fd = (f(np.array(mean, { dtype: "float64" }), c2(h)).item() - f(np.array(mean, { dtype: "float64" }), c2(-h)).item()) / (2 * h);
    const dcs = nums(dc);
    // np.linalg.cholesky symmetrizes its input, so the perturbation of c[0][0] is seen whole.
    expect(dcs[0]!).toBeCloseTo(fd, 5);
  });

  it("rejects mismatched shapes and unknown methods", () => {
    expect(() => random.multivariateNormal(random.key(0), np.zeros([2]), np.eye(3))).toThrow(ShapeError);
    expect(() => random.multivariateNormal(random.key(0), 1, np.eye(2))).toThrow(ShapeError);
    expect(() => random.multivariateNormal(random.key(0), np.zeros([2]), np.eye(2), null, null, "lu" as never)).toThrow(ValueError);
    expect(() => random.multivariateNormal(random.key(0), np.zeros([3, 2]), np.eye(2), [4])).toThrow(ShapeError);
  });
});

describe("orthogonal", () => {
  it("gives orthogonal (and semi-orthogonal) matrices with Haar moments", () => {
    const q = random.orthogonal(random.key(27), 4, [500], "float64");
    expect(q.shape).toEqual([500, 4, 4]);
    const qqt = np.matmul(q, np.swapaxes(q, -1, -2));
    expect(np.max(np.abs(np.subtract(qqt, np.eye(4, { dtype: "float64" })))).item()).toBeLessThan(1e-12);
    // Each entry of a Haar-random O(n) matrix has mean 0 and variance 1/n.
    const e = nums(np.reshape(q, [-1]));
    expectMoments(e, 0, 1 / 4, (3 / (4 * 6)) * 1);
    const wide = random.orthogonal(random.key(28), 2, [], "float64", 5);
    expect(wide.shape).toEqual([2, 5]);
    expect(np.max(np.abs(np.subtract(np.matmul(wide, np.transpose(wide)), np.eye(2, { dtype: "float64" })))).item()).toBeLessThan(1e-12);
    const tall = random.orthogonal(random.key(28), 5, { m: 2, dtype: "float64" });
    expect(np.max(np.abs(np.subtract(np.matmul(np.transpose(tall), tall), np.eye(2, { dtype: "float64" })))).item()).toBeLessThan(1e-12);
  });
});

describe("permutation with independent", () => {
  it("shuffles each slice on its own", () => {
    const x = np.reshape(np.arange(40), [4, 10]);
    const p = random.permutation(random.key(29), x, { axis: 1, independent: true }).toArray() as number[][];
    p.forEach((row, i) => expect(row.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, j) => 10 * i + j)));
    const offsets = p.map((row, i) => row.map((v) => v - 10 * i).join());
    expect(new Set(offsets).size).toBe(4);
    // Without independent, all rows move alike.
    const q = random.permutation(random.key(29), x, 1).toArray() as number[][];
    expect(new Set(q.map((row, i) => row.map((v) => v - 10 * i).join())).size).toBe(1);
  });
});

describe("cauchy, lognormal, pareto, chisquare, t, weibullMin, rayleigh, geometric, maxwell", () => {
  it("have the right distributions and moments", () => {
    expectKs(nums(random.cauchy(random.key(40), [N])), (x) => 0.5 + Math.atan(x) / Math.PI);
    expectMoments(nums(random.lognormal(random.key(41), 0.5, [N])).map(Math.log), 0, 0.25, 3 * 0.0625);
    expectKs(nums(random.pareto(random.key(42), 3, [N])), (x) => (x < 1 ? 0 : 1 - x ** -3));
    expectMoments(nums(random.chisquare(random.key(43), 4, [NG])), 4, 8, 384);
    expectMoments(nums(random.t(random.key(44), 5, [NG], "float64")), 0, 5 / 3, 25);
    expectKs(nums(random.weibullMin(random.key(45), 2, 1.5, [N])), (x) => 1 - Math.exp(-((Math.max(x, 0) / 2) ** 1.5)));
    expectKs(nums(random.rayleigh(random.key(46), 2, [N])), (x) => 1 - Math.exp(-(x * x) / 8));
    const g = nums(random.geometric(random.key(47), 0.3, [N]));
    expect(Math.min(...g)).toBe(1);
    expect(Math.abs(meanOf(g) - 1 / 0.3)).toBeLessThan((5 * Math.sqrt(0.7 / 0.09)) / Math.sqrt(N));
    expect(Math.abs(g.filter((k) => k === 1).length / N - 0.3)).toBeLessThan(5 * Math.sqrt(0.21 / N));
    const m = nums(random.maxwell(random.key(48), [N]));
    expect(Math.abs(meanOf(m) - 2 * Math.sqrt(2 / Math.PI))).toBeLessThan((5 * Math.sqrt(3 - 8 / Math.PI)) / Math.sqrt(N));
    expect(Math.abs(meanOf(m.map((x) => x * x)) - 3)).toBeLessThan((5 * Math.sqrt(6)) / Math.sqrt(N));
  });

  it("take parameter arrays, shapes and dtypes, and vmap over keys", () => {
    expect(random.pareto(random.key(0), np.array([1, 2, 3])).shape).toEqual([3]);
    expect(random.chisquare(random.key(0), 2, [2, 2], "float64").dtype).toBe("float64");
    expect(random.geometric(random.key(0), 0.5, [3]).dtype).toBe("int32");
    expect(random.maxwell(random.key(0), { shape: [4] }).shape).toEqual([4]);
    const keys = random.split(random.key(49), 3);
    for (const f of [(k: ArrayBase) => random.t(k, 3, [2]), (k: ArrayBase) => random.lognormal(k, 1, [2]), (k: ArrayBase) => random.geometric(k, 0.2, [2])]) {
      expect(nums(vmap(f)(keys))).toEqual([...keys].flatMap((k) => nums(f(k))));
    }
    expect(() => random.geometric(random.key(0), 0.5, [2], "float32")).toThrow(DTypeError);
    expect(() => random.pareto(random.key(0), np.ones([3]), [2])).toThrow(ShapeError);
  });
});

describe("vmap over keys agrees with a loop", () => {
  const keys = random.split(random.key(30), 3);
  const cases: [string, (k: ArrayBase) => ArrayBase][] = [
    ["exponential", (k) => random.exponential(k, [4])],
    ["laplace", (k) => random.laplace(k, [4])],
    ["rademacher", (k) => random.rademacher(k, [4])],
    ["gamma", (k) => random.gamma(k, np.array([0.5, 2, 7]))],
    ["beta", (k) => random.beta(k, 2, 0.5, [3])],
    ["dirichlet", (k) => random.dirichlet(k, np.array([1, 2, 3]))],
    ["poisson", (k) => random.poisson(k, np.array([2, 15, 300]))],
    ["choice", (k) => random.choice(k, 6, [3], false, np.array([0.1, 0.1, 0.2, 0.2, 0.3, 0.1]))],
    ["choiceReplace", (k) => random.choice(k, 6, [3], true, np.array([0.1, 0.1, 0.2, 0.2, 0.3, 0.1]))],
    ["ball", (k) => random.ball(k, 3, 1.5, [2])],
    ["multivariateNormal", (k) => random.multivariateNormal(k, np.zeros([2]), np.array([[2, 0.6], [0.6, 1]]), [2])],
    ["orthogonal", (k) => random.orthogonal(k, 3)],
    ["permutation", (k) => random.permutation(k, np.reshape(np.arange(6), [2, 3]), 1, true)],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const batched = vmap(f)(keys);
      const looped = np.stack([...keys].map(f));
      expect(batched.dtype).toBe(looped.dtype);
      const [b, l] = [nums(batched), nums(looped)];
      b.forEach((x, i) => expect(Math.abs(x - l[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(l[i]!))));
      // The traced program typechecks, and jit gives the same numbers.
      typecheck(makeJaxpr(f)([...keys][0]!));
      nums(jit(f)([...keys][0]!)).forEach((x, i) => expect(Math.abs(x - l[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(l[i]!))));
    });
  }
});

describe("keys: keyData, wrapKeyData and the partitionable layout", () => {
  it("round-trips key data and rejects what is not a key", () => {
    const k = random.split(random.key(31), 3);
    expect(nums(random.keyData(k))).toEqual(nums(k));
    expect(nums(random.wrapKeyData(random.keyData(k)))).toEqual(nums(k));
    expect(nums(random.wrapKeyData([4146024105, 967050713]))).toEqual([4146024105 | 0, 967050713 | 0]);
    expect(() => random.wrapKeyData(np.zeros([3]))).toThrow(DTypeError);
    expect(() => random.wrapKeyData(np.zeros([3], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => random.wrapKeyData([1, 2], { impl: "rbg" })).toThrow(ValueError);
    expect(() => random.keyData(null as never)).toThrow(ValueError);
  });

  it("partitionable bits and splits are the threefry block of each element's index", () => {
    const key = [123, 456];
    withConfig({ threefryPartitionable: true }, () => {
      const b = u32(random.bits(random.wrapKeyData(key), [5]));
      b.forEach((w, i) => {
        const [y0, y1] = refBlock(key[0]!, key[1]!, 0, i);
        expect(w).toBe((y0 ^ y1) >>> 0);
      });
      const s = u32(random.split(random.wrapKeyData(key), 3));
      [0, 1, 2].forEach((i) => expect(s.slice(2 * i, 2 * i + 2)).toEqual(refBlock(key[0]!, key[1]!, 0, i)));
    });
  });

  it("the layout is part of jit's cache key", () => {
    const f = jit((k: ArrayBase) => random.bits(k, [3]));
    const k = random.key(3);
    const original = nums(f(k));
    const partitionable = withConfig({ threefryPartitionable: true }, () => nums(f(k)));
    expect(partitionable).not.toEqual(original);
    expect(partitionable).toEqual(withConfig({ threefryPartitionable: true }, () => nums(random.bits(k, [3]))));
  });
});

describe("typed errors for bad parameters", () => {
  const k = random.key(0);
  it.each([
    ["negative shape", () => random.exponential(k, [-1]), ValueError],
    ["integer dtype for a float sampler", () => random.laplace(k, [2], "int32"), DTypeError],
    ["bool rademacher", () => random.rademacher(k, [2], "bool"), DTypeError],
    ["non-positive gamma a", () => random.gamma(k, 0), ValueError],
    ["NaN gamma a", () => random.gamma(k, NaN), ValueError],
    ["gamma a not broadcasting to shape", () => random.gamma(k, np.ones([3]), [2]), ShapeError],
    ["negative beta b", () => random.beta(k, 1, -2), ValueError],
    ["scalar dirichlet alpha", () => random.dirichlet(k, 1), ValueError],
    ["negative poisson lam", () => random.poisson(k, -1), ValueError],
    ["float poisson dtype", () => random.poisson(k, 1, [2], "float32"), DTypeError],
    ["generalizedNormal p <= 0", () => random.generalizedNormal(k, 0), ValueError],
    ["ball of negative dimension", () => random.ball(k, -1), ValueError],
    ["ball with p = 0", () => random.ball(k, 2, 0), ValueError],
    ["orthogonal of a fractional size", () => random.orthogonal(k, 2.5), ValueError],
    ["a batch of keys", () => random.gamma(random.split(k, 2), 1), ShapeError],
    ["an unknown option", () => random.exponential(k, { shape: [2], dtyp: "float64" } as never), ValueError],
  ])("%s", (_name, f, Err) => {
    expect(f).toThrow(Err);
  });
});
