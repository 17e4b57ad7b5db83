/**
 * `random`: JAX-style pseudo-random numbers from explicit keys. A key is a legacy
 * threefry2x32 key, an int32 array of shape [2] holding two uint32 words; the same key
 * always gives the same numbers, and `split` / `foldIn` derive new keys. The streams
 * follow JAX's threefry2x32 scheme bit for bit: the original layout by default, the
 * partitionable one with `config.update("threefryPartitionable", true)`.
 *
 * ```ts
 * const k = random.key(0);
 * const [k1, k2] = random.split(k);
 * random.normal(k1, [3, 4]);
 * vmap((k) => random.uniform(k, [5]))(random.split(k2, 8));
 * ```
 */
export { type Key, type KeyArray, type ShapeArg, type WrapKeyDataOptions, key, PRNGKey, split, foldIn, bits, keyData, wrapKeyData } from "./keys.js";
export { type UniformOptions, type FloatOptions, type TruncatedNormalOptions, uniform, normal, truncatedNormal, gumbel } from "./continuous.js";
export {
  type CategoricalOptions,
  type RandintOptions,
  type RandintAllOptions,
  type RandintArgs,
  type BernoulliOptions,
  type PermutationOptions,
  type ChoiceOptions,
  bernoulli,
  choice,
  categorical,
  randint,
  permutation,
} from "./discrete.js";
export { type ShapeDTypeOptions, type ShapeDTypeArgs, gamma, loggamma, beta, dirichlet } from "./gamma.js";
export { threefry2x32 } from "../primitives/random_bits.js";
export {
  type SampleOptions,
  type SampleArgs,
  type RademacherOptions,
  type BallOptions,
  exponential,
  laplace,
  logistic,
  rademacher,
  generalizedNormal,
  ball,
} from "./distributions.js";
export { type PoissonOptions, poisson } from "./poisson.js";
export { type MultivariateNormalOptions, type OrthogonalOptions, multivariateNormal, orthogonal } from "./matrices.js";
export { cauchy, lognormal, pareto, chisquare, t, weibullMin, rayleigh, geometric, maxwell } from "./extras.js";
