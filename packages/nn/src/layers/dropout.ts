/** Dropout (Srivastava et al. 2014), driven by an explicit PRNG key. */
import { type ArrayBase, ValueError, np, random, describeValue, parseArgs, signature, type Signature } from "@cotangent/core";
import type { Layer } from "./layer.js";

/**
 * `dropout(rate)`: in training (`apply(null, x, {train: true, key})`) each element is
 * zeroed with probability `rate` and the survivors are scaled by 1/(1 - rate) ("inverted
 * dropout", so the expected value is unchanged); at evaluation (the default) it is the
 * identity. The mask is `random.bernoulli(key, 1 - rate, x.shape)`: the same key gives
 * the same mask. No parameters (params are `null`).
 */
const dropoutSig: Signature = signature("nn.dropout", ["rate:any!"]);
export const dropout = (rate: number, ...rest: []): Layer<null> => {
  const op = "nn.dropout";
  parseArgs(dropoutSig, [rate, ...rest]);
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new ValueError(`rate must be a probability in [0, 1], got ${describeValue(rate)}`, { op });
  }
  return {
    name: "dropout",
    init: () => null,
    apply: (_params, x: ArrayBase, options = {}) => {
      if (!options.train || rate === 0) return x;
      if (options.key === undefined || options.key === null) {
        throw new ValueError("needs a PRNG key in training mode", {
          op,
          hint: "pass apply(params, x, { train: true, key }) with a fresh key each step (random.split), or { train: false } to evaluate",
        });
      }
      if (rate === 1) return np.zerosLike(x);
      const keep = random.bernoulli(options.key, 1 - rate, x.shape);
      return np.where(keep, np.divide(x, 1 - rate), np.zerosLike(x));
    },
  };
};
