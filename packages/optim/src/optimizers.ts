/**
 * The optimizers: each one only a `chain` of the small transforms in ./transforms, as in
 * Optax. None computes a moment itself. Each checks its options (naming itself in the error)
 * and takes a `learningRate` that may be a number, a scalar array or a schedule.
 */
import type * as t from "io-ts";
import { type GradientTransformation, type ScalarOrSchedule, type Scalar, chain, identity } from "./base.js";
import { ADAM_OPTIONS, RADAM_OPTIONS, scaleByAdam, scaleByAdamax, scaleByAmsgrad, scaleByBelief, scaleByLion, scaleByRAdam, scaleByYogi } from "./transforms/adaptive.js";
import { fusedUpdate } from "./fused.js";
import { type Mask, masked } from "./transforms/masking.js";
import { trace } from "./transforms/momentum.js";
import { RMS_OPTIONS, scaleByAdadelta, scaleByRms, scaleByRss, scaleByStddev } from "./transforms/rms.js";
import { scaleByLearningRate } from "./transforms/scale.js";
import { addDecayedWeights, scaleByTrustRatio } from "./transforms/weight_decay.js";
import { bool, decayRate, learningRate, mask, nonNegative, parseOptions } from "./validate.js";

/** An optimizer: its state is the tuple of its transforms' states. */
export type Optimizer = GradientTransformation<any>;

/** Checks the options of optimizer `name`, whose `learningRate` is required. */
const check = <P extends t.Props>(name: string, options: unknown, optional: P) =>
  parseOptions(`optim.${name}`, options, { learningRate }, optional, `optim.${name}({ learningRate: 1e-3 })`);

/** The option every optimizer takes. */
export interface LearningRateOptions {
  /** The step size: a number, a scalar array, or a schedule of the step count. */
  learningRate: ScalarOrSchedule;
}
/** The options of the Adam family (`adam`, `adamw`, `adabelief`, `lamb`, ...), with Optax's defaults. */
export interface AdamLike extends LearningRateOptions {
  b1?: Scalar;
  b2?: Scalar;
  eps?: Scalar;
  epsRoot?: Scalar;
}
/** The decoupled weight-decay options of `adamw`, `lamb` and the like. */
export interface WeightDecay {
  /** The decay rate (multiplies the params, added to the update). */
  weightDecay?: Scalar;
  /** Which params to decay (a pytree of booleans, or a function of the params). */
  mask?: Mask;
}

const { nesterov: _n, ...ADAM_NO_NESTEROV } = ADAM_OPTIONS;
const WEIGHT_DECAY = { weightDecay: nonNegative, mask };

/** SGD, optionally with heavy-ball or Nesterov momentum (Sutskever et al. 2013). */
export const sgd = (options: LearningRateOptions & { momentum?: Scalar; nesterov?: boolean }): Optimizer => {
  const { learningRate: lr, momentum, nesterov } = check("sgd", options, { momentum: nonNegative, nesterov: bool });
  return chain(momentum === undefined ? identity() : trace(momentum, { nesterov }), scaleByLearningRate(lr));
};

/** Adam (Kingma & Ba 2015); `nesterov: true` gives NAdam. */
export const adam = (options: AdamLike & { nesterov?: boolean }): Optimizer => {
  const { learningRate: lr, ...rest } = check("adam", options, ADAM_OPTIONS);
  return fusedUpdate("adam", { lr, ...rest }, chain(scaleByAdam(rest), scaleByLearningRate(lr)));
};

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), default 1e-4. */
export const adamw = (options: AdamLike & WeightDecay & { nesterov?: boolean }): Optimizer => {
  const { learningRate: lr, weightDecay = 1e-4, mask: m, ...rest } = check("adamw", options, { ...ADAM_OPTIONS, ...WEIGHT_DECAY });
  return fusedUpdate("adamw", { lr, weightDecay, m, ...rest }, chain(scaleByAdam(rest), addDecayedWeights(weightDecay, { mask: m }), scaleByLearningRate(lr)));
};

/** NAdam (Dozat 2016): Adam with Nesterov momentum. */
export const nadam = (options: AdamLike): Optimizer => {
  const { learningRate: lr, ...rest } = check("nadam", options, ADAM_NO_NESTEROV);
  return fusedUpdate("nadam", { lr, ...rest }, chain(scaleByAdam({ ...rest, nesterov: true }), scaleByLearningRate(lr)));
};

/** Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm. */
export const adamax = (options: LearningRateOptions & { b1?: Scalar; b2?: Scalar; eps?: Scalar }): Optimizer => {
  const { learningRate: lr, ...rest } = check("adamax", options, { b1: decayRate, b2: decayRate, eps: nonNegative });
  return chain(scaleByAdamax(rest), scaleByLearningRate(lr));
};

/** AMSGrad (Reddi et al. 2018). */
export const amsgrad = (options: AdamLike): Optimizer => {
  const { learningRate: lr, ...rest } = check("amsgrad", options, ADAM_NO_NESTEROV);
  return chain(scaleByAmsgrad(rest), scaleByLearningRate(lr));
};

/** Rectified Adam (Liu et al. 2020). */
export const radam = (options: AdamLike & { threshold?: Scalar; nesterov?: boolean }): Optimizer => {
  const { learningRate: lr, ...rest } = check("radam", options, RADAM_OPTIONS);
  return chain(scaleByRAdam(rest), scaleByLearningRate(lr));
};

/** RMSProp (Tieleman & Hinton 2012); `centered` divides by a variance estimate (Graves 2013). */
export const rmsprop = (
  options: LearningRateOptions & { decay?: Scalar; eps?: Scalar; initialScale?: Scalar; centered?: boolean; momentum?: Scalar; nesterov?: boolean },
): Optimizer => {
  const o = check("rmsprop", options, { ...RMS_OPTIONS, centered: bool, momentum: nonNegative, nesterov: bool });
  const { learningRate: lr, centered, momentum, nesterov, ...rest } = o;
  return chain(
    centered ? scaleByStddev(rest) : scaleByRms(rest),
    scaleByLearningRate(lr),
    momentum === undefined ? identity() : trace(momentum, { nesterov }),
  );
};

/** AdaGrad (Duchi et al. 2011). */
export const adagrad = (options: LearningRateOptions & { initialAccumulatorValue?: Scalar; eps?: Scalar }): Optimizer => {
  const { learningRate: lr, ...rest } = check("adagrad", options, { initialAccumulatorValue: nonNegative, eps: nonNegative });
  return chain(scaleByRss(rest), scaleByLearningRate(lr));
};

/** AdaDelta (Zeiler 2012); the learning rate defaults to 1, as in the paper. */
export const adadelta = (options: Partial<LearningRateOptions> & { rho?: Scalar; eps?: Scalar; weightDecay?: Scalar; weightDecayMask?: Mask } = {}): Optimizer => {
  const o = parseOptions("optim.adadelta", options, {}, { learningRate, rho: decayRate, eps: nonNegative, weightDecay: nonNegative, weightDecayMask: mask });
  const { learningRate: lr = 1, weightDecay = 0, weightDecayMask, ...rest } = o;
  return chain(addDecayedWeights(weightDecay, { mask: weightDecayMask }), scaleByAdadelta(rest), scaleByLearningRate(lr));
};

/** Lion (Chen et al. 2023), with decoupled weight decay (default 1e-3). */
export const lion = (options: LearningRateOptions & { b1?: Scalar; b2?: Scalar } & WeightDecay): Optimizer => {
  const { learningRate: lr, weightDecay = 1e-3, mask: m, ...rest } = check("lion", options, { b1: decayRate, b2: decayRate, ...WEIGHT_DECAY });
  return chain(scaleByLion(rest), addDecayedWeights(weightDecay, { mask: m }), scaleByLearningRate(lr));
};

/** LAMB (You et al. 2020): Adam, weight decay, then a per-leaf trust ratio. */
export const lamb = (options: AdamLike & WeightDecay): Optimizer => {
  const o = check("lamb", options, { ...ADAM_NO_NESTEROV, ...WEIGHT_DECAY });
  const { learningRate: lr, weightDecay = 0, mask: m, eps = 1e-6, ...rest } = o;
  return chain(scaleByAdam({ ...rest, eps }), addDecayedWeights(weightDecay, { mask: m }), scaleByTrustRatio(), scaleByLearningRate(lr));
};

/** LARS (You et al. 2017): weight decay, a per-leaf trust ratio, then momentum. */
export const lars = (
  options: LearningRateOptions & {
    weightDecay?: Scalar;
    weightDecayMask?: Mask;
    trustCoefficient?: Scalar;
    eps?: Scalar;
    trustRatioMask?: Mask;
    momentum?: Scalar;
    nesterov?: boolean;
  },
): Optimizer => {
  const o = check("lars", options, {
    weightDecay: nonNegative,
    weightDecayMask: mask,
    trustCoefficient: nonNegative,
    eps: nonNegative,
    trustRatioMask: mask,
    momentum: nonNegative,
    nesterov: bool,
  });
  const { learningRate: lr, weightDecay = 0, weightDecayMask, trustCoefficient = 0.001, eps = 0, trustRatioMask, momentum = 0.9, nesterov } = o;
  const trust = scaleByTrustRatio({ trustCoefficient, eps });
  return chain(
    addDecayedWeights(weightDecay, { mask: weightDecayMask }),
    trustRatioMask === undefined ? trust : masked(trust, trustRatioMask),
    scaleByLearningRate(lr),
    trace(momentum, { nesterov }),
  );
};

/** Yogi (Zaheer et al. 2018). */
export const yogi = (options: LearningRateOptions & { b1?: Scalar; b2?: Scalar; eps?: Scalar }): Optimizer => {
  const { learningRate: lr, ...rest } = check("yogi", options, { b1: decayRate, b2: decayRate, eps: nonNegative });
  return chain(scaleByYogi(rest), scaleByLearningRate(lr));
};

/** AdaBelief (Zhuang et al. 2020). */
export const adabelief = (options: AdamLike): Optimizer => {
  const { learningRate: lr, ...rest } = check("adabelief", options, ADAM_NO_NESTEROV);
  return chain(scaleByBelief(rest), scaleByLearningRate(lr));
};
