/**
 * The Adam family of moment-based rescalings: Adam (and NAdam through `nesterov`), AMSGrad,
 * Adamax, RAdam, Yogi, AdaBelief and Lion. Each keeps its moments in the state as pytrees
 * shaped like the params and returns the rescaled direction; the learning rate and sign
 * are applied by a later link of the chain (scaleByLearningRate), as in Optax.
 */
import { type ArrayBase, np, tree } from "@cotangent/core";
import { type GradientTransformation, type PyTree, type Scalar, transformation } from "../base.js";
import {
  biasCorrection,
  cast,
  f64,
  increment,
  like,
  oneMinus,
  treeFullLike,
  treeZerosLike,
  updateInfinityMoment,
  updateMoment,
  zeroCount,
} from "../numerics.js";
import { bool, decayRate, nonNegative, parseOptions, scalarIn } from "../validate.js";

/** State of Adam-like transforms: the step count and the first and second moments. */
export interface ScaleByAdamState {
  count: ArrayBase;
  mu: PyTree;
  nu: PyTree;
}

export interface ScaleByAdamOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: Scalar;
  /** Decay of the second moment (default 0.999). */
  b2?: Scalar;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: Scalar;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: Scalar;
  /** Nesterov momentum, which makes this NAdam (default false). */
  nesterov?: boolean;
}

export const ADAM_OPTIONS = { b1: decayRate, b2: decayRate, eps: nonNegative, epsRoot: nonNegative, nesterov: bool };

const initMoments = (params: PyTree): ScaleByAdamState => ({ count: zeroCount(), mu: treeZerosLike(params), nu: treeZerosLike(params) });

/**
 * The bias-corrected first moment. With `nesterov` it looks one step ahead (Dozat 2016, as
 * Optax writes it): `b1 * mu / (1 - b1^(t+1)) + (1 - b1) * g / (1 - b1^t)`.
 */
const firstMomentEstimate = (mu: PyTree, g: PyTree, b1: Scalar, count: ArrayBase, nesterov: boolean): PyTree => {
  if (!nesterov) return biasCorrection(mu, b1, count);
  return tree.map(
    (m: ArrayBase, gi: ArrayBase) => np.add(np.multiply(like(b1, m), m), np.multiply(like(oneMinus(b1), gi), gi)),
    biasCorrection(mu, b1, increment(count)),
    biasCorrection(g, b1, count),
  );
};

/** `m / (sqrt(v + epsRoot) + eps)`, leaf by leaf. */
/** Adam's step of the moments, shared by Adam and RAdam: new moments and their bias-corrected estimates. */
const adamMoments = (g: PyTree, state: ScaleByAdamState, b1: Scalar, b2: Scalar, nesterov: boolean) => {
  const mu = updateMoment(g, state.mu, b1, 1);
  const nu = updateMoment(g, state.nu, b2, 2);
  const count = increment(state.count);
  return { mu, nu, count, mHat: firstMomentEstimate(mu, g, b1, count, nesterov), vHat: biasCorrection(nu, b2, count) };
};

const adamDirection = (mHat: PyTree, vHat: PyTree, eps: Scalar, epsRoot: Scalar): PyTree =>
  tree.map((m: ArrayBase, v: ArrayBase) => np.divide(m, np.add(np.sqrt(np.add(v, like(epsRoot, v))), like(eps, v))), mHat, vHat);

/**
 * Adam's rescaling (Kingma & Ba 2015, Algorithm 1): moving averages `mu`, `nu` of the
 * gradient and its square, bias-corrected, and `mu_hat / (sqrt(nu_hat + epsRoot) + eps)`.
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const o = parseOptions("optim.scaleByAdam", options, {}, ADAM_OPTIONS);
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false } = o;
  return transformation(initMoments, (g, state) => {
    const { mu, nu, count, mHat, vHat } = adamMoments(g, state, b1, b2, nesterov);
    return [adamDirection(mHat, vHat, eps, epsRoot), { count, mu, nu }];
  });
};

/** State of {@link scaleByAmsgrad}: Adam's, plus the running maximum of `nu_hat`. */
export interface ScaleByAmsgradState extends ScaleByAdamState {
  nuMax: PyTree;
}

/**
 * AMSGrad (Reddi et al. 2018, "On the Convergence of Adam and Beyond"), in Optax's form:
 * Adam whose denominator uses the running maximum of the bias-corrected second moment.
 */
export const scaleByAmsgrad = (options: Omit<ScaleByAdamOptions, "nesterov"> = {}): GradientTransformation<ScaleByAmsgradState> => {
  const { nesterov: _, ...opts } = ADAM_OPTIONS;
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0 } = parseOptions("optim.scaleByAmsgrad", options, {}, opts);
  return transformation(
    (params) => ({ ...initMoments(params), nuMax: treeZerosLike(params) }),
    (g, state) => {
      const mu = updateMoment(g, state.mu, b1, 1);
      const nu = updateMoment(g, state.nu, b2, 2);
      const count = increment(state.count);
      const nuMax = tree.map((a: ArrayBase, b: ArrayBase) => np.maximum(a, b), state.nuMax, biasCorrection(nu, b2, count));
      return [adamDirection(biasCorrection(mu, b1, count), nuMax, eps, epsRoot), { count, mu, nu, nuMax }];
    },
  );
};

/**
 * Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm,
 * `u = max(b2 * u, |g| + eps)`, and the update `mu_hat / u` (no correction of `u`).
 */
export const scaleByAdamax = (options: { b1?: Scalar; b2?: Scalar; eps?: Scalar } = {}): GradientTransformation<ScaleByAdamState> => {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8 } = parseOptions("optim.scaleByAdamax", options, {}, { b1: decayRate, b2: decayRate, eps: nonNegative });
  return transformation(initMoments, (g, state) => {
    const count = increment(state.count);
    const mu = updateMoment(g, state.mu, b1, 1);
    const nu = updateInfinityMoment(g, state.nu, b2, eps);
    const updates = tree.map((m: ArrayBase, u: ArrayBase) => np.divide(m, u), biasCorrection(mu, b1, count), nu);
    return [updates, { count, mu, nu }];
  });
};

export interface ScaleByRAdamOptions extends ScaleByAdamOptions {
  /** Below this length of the approximated SMA, fall back to momentum only (default 5). */
  threshold?: Scalar;
}

/** rho_t < 4 makes the rectification's square root negative, so the threshold is at least 4. */
export const RADAM_OPTIONS = { ...ADAM_OPTIONS, threshold: scalarIn("a number >= 4", (x) => x >= 4) };

/**
 * Rectified Adam (Liu et al. 2020, Algorithm 2). With `rho_inf = 2 / (1 - b2) - 1` and
 * `rho_t = rho_inf - 2 t b2^t / (1 - b2^t)`, the update is Adam's scaled by
 * `r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))` when
 * `rho_t >= threshold`, and the bias-corrected momentum alone otherwise.
 */
export const scaleByRAdam = (options: ScaleByRAdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const o = parseOptions("optim.scaleByRAdam", options, {}, RADAM_OPTIONS);
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, threshold = 5, nesterov = false } = o;
  return transformation(initMoments, (g, state) => {
    const { mu, nu, count, mHat, vHat } = adamMoments(g, state, b1, b2, nesterov);
    // The rectification is step-count math: float64 scalars, cast per leaf at the end.
    const b2_ = f64(b2);
    const rhoInf = np.subtract(np.divide(2, np.subtract(1, b2_)), 1);
    const t = cast(count, "float64");
    const b2t = np.power(b2_, t);
    const rho = np.subtract(rhoInf, np.divide(np.multiply(np.multiply(2, t), b2t), np.subtract(1, b2t)));
    const r = np.sqrt(
      np.divide(
        np.multiply(np.multiply(np.subtract(rho, 4), np.subtract(rho, 2)), rhoInf),
        np.multiply(np.multiply(np.subtract(rhoInf, 4), np.subtract(rhoInf, 2)), rho),
      ),
    );
    const rectify = np.greaterEqual(rho, f64(threshold));
    const updates = tree.map(
      (d: ArrayBase, m: ArrayBase) => np.where(rectify, np.multiply(cast(r, d.dtype), d), m),
      adamDirection(mHat, vHat, eps, epsRoot),
      mHat,
    );
    return [updates, { count, mu, nu }];
  });
};

export interface ScaleByYogiOptions {
  b1?: Scalar;
  b2?: Scalar;
  /** Default 1e-3, as in the paper. */
  eps?: Scalar;
  epsRoot?: Scalar;
  /** Initial value of both moments (default 1e-6). */
  initialAccumulatorValue?: Scalar;
}

/**
 * Yogi (Zaheer et al. 2018, Algorithm 2), in Optax's form: the second moment moves additively,
 * `v = v - (1 - b2) sign(v - g^2) g^2`, and both moments start at `initialAccumulatorValue`.
 */
export const scaleByYogi = (options: ScaleByYogiOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const o = parseOptions("optim.scaleByYogi", options, {}, {
    b1: decayRate,
    b2: decayRate,
    eps: nonNegative,
    epsRoot: nonNegative,
    initialAccumulatorValue: nonNegative,
  });
  const { b1 = 0.9, b2 = 0.999, eps = 1e-3, epsRoot = 0, initialAccumulatorValue = 1e-6 } = o;
  return transformation(
    (params) => ({ count: zeroCount(), mu: treeFullLike(params, initialAccumulatorValue), nu: treeFullLike(params, initialAccumulatorValue) }),
    (g, state) => {
      const mu = updateMoment(g, state.mu, b1, 1);
      const nu = tree.map(
        (gi: ArrayBase, v: ArrayBase) => {
          const g2 = np.square(gi);
          return np.subtract(v, np.multiply(np.multiply(like(oneMinus(b2), gi), np.sign(np.subtract(v, g2))), g2));
        },
        g,
        state.nu,
      );
      const count = increment(state.count);
      return [adamDirection(biasCorrection(mu, b1, count), biasCorrection(nu, b2, count), eps, epsRoot), { count, mu, nu }];
    },
  );
};

/**
 * AdaBelief (Zhuang et al. 2020, Algorithm 2): Adam whose second moment tracks the squared
 * deviation of the gradient from its moving average, `s = b2 s + (1 - b2)(g - m)^2 + epsRoot`.
 */
export const scaleByBelief = (options: Omit<ScaleByAdamOptions, "nesterov"> = {}): GradientTransformation<ScaleByAdamState> => {
  const { nesterov: _, ...opts } = ADAM_OPTIONS;
  const { b1 = 0.9, b2 = 0.999, eps = 1e-16, epsRoot = 1e-16 } = parseOptions("optim.scaleByBelief", options, {}, opts);
  return transformation(initMoments, (g, state) => {
    const mu = updateMoment(g, state.mu, b1, 1);
    const err = tree.map((gi: ArrayBase, m: ArrayBase) => np.subtract(gi, m), g, mu);
    const nu = tree.map((s: ArrayBase) => np.add(s, like(epsRoot, s)), updateMoment(err, state.nu, b2, 2));
    const count = increment(state.count);
    return [adamDirection(biasCorrection(mu, b1, count), biasCorrection(nu, b2, count), eps, 0), { count, mu, nu }];
  });
};

/** State of {@link scaleByLion}. */
export interface ScaleByLionState {
  count: ArrayBase;
  mu: PyTree;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1):
 * the direction is `sign((1 - b1) g + b1 m)`, then `m = b2 m + (1 - b2) g`.
 */
export const scaleByLion = (options: { b1?: Scalar; b2?: Scalar } = {}): GradientTransformation<ScaleByLionState> => {
  const { b1 = 0.9, b2 = 0.99 } = parseOptions("optim.scaleByLion", options, {}, { b1: decayRate, b2: decayRate });
  return transformation(
    (params) => ({ count: zeroCount(), mu: treeZerosLike(params) }),
    (g, state) => {
      const updates = tree.map(
        (gi: ArrayBase, m: ArrayBase) => np.sign(np.add(np.multiply(like(oneMinus(b1), gi), gi), np.multiply(like(b1, m), m))),
        g,
        state.mu,
      );
      return [updates, { count: increment(state.count), mu: updateMoment(g, state.mu, b2, 1) }];
    },
  );
};
