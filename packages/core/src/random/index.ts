/**
 * `random`: JAX-style pseudo-random numbers from explicit keys. A key is a legacy
 * threefry2x32 key, an int32 array of shape [2] holding two uint32 words; the same key
 * always gives the same numbers, and `split` / `foldIn` derive new keys. The streams
 * follow JAX's (non-partitionable) threefry2x32 scheme bit for bit.
 *
 * ```ts
 * const k = random.key(0);
 * const [k1, k2] = random.split(k);
 * random.normal(k1, [3, 4]);
 * vmap((k) => random.uniform(k, [5]))(random.split(k2, 8));
 * ```
 */
export { type Key, type KeyArray, type ShapeArg, key, PRNGKey, split, foldIn, bits } from "./keys.js";
export { type UniformOptions, type FloatOptions, uniform, normal, truncatedNormal, gumbel } from "./continuous.js";
export {
  type CategoricalOptions,
  type RandintOptions,
  type PermutationOptions,
  bernoulli,
  categorical,
  randint,
  permutation,
} from "./discrete.js";
export { threefry2x32 } from "../primitives/random_bits.js";
