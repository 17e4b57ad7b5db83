/**
 * A LeNet-5-style convolutional network on the same MNIST split as `pnpm example mnist`
 * (LeCun et al. 1998, with ReLU and max pooling as is usual today):
 *
 *   conv 5×5, 1→6, SAME → ReLU → max pool 2   [28, 28, 1] → [14, 14, 6]
 *   conv 5×5, 6→16, VALID → ReLU → max pool 2 → [5, 5, 16]
 *   flatten → dense 400→120 → ReLU → dense 120→84 → ReLU → dense 84→10
 *
 *   pnpm example mnist-cnn             # train (resumes from the last save if there is one)
 *   pnpm example mnist-cnn --fresh     # start over
 *   pnpm example mnist-cnn --epochs 8 --state path/to/state.bin --stop-after 2
 *
 * The data, augmentation, optimizer, progress bar, saving and resume are the MLP example's
 * (`mnist_training.ts`); images go in as NHWC [batch, 28, 28, 1].
 */
import * as nn from "@cotangent/nn";
import { type TrainOptions, type TrainResult, cliOptions, trainClassifier } from "./mnist_training.js";

export const DEFAULTS: TrainOptions = {
  epochs: 8,
  batchSize: 128,
  statePath: ".state/mnist-cnn.bin",
  fresh: false,
  seed: 0,
  quiet: false,
  peakLearningRate: 3e-3,
};

export const lenet = () =>
  nn.sequential(
    nn.conv2d(1, 6, 5),
    nn.relu,
    nn.maxPool(2),
    nn.conv2d(6, 16, 5, { padding: "VALID" }),
    nn.relu,
    nn.maxPool(2),
    nn.flatten(),
    nn.dense(400, 120),
    nn.relu,
    nn.dense(120, 84),
    nn.relu,
    nn.dense(84, 10),
  );

export const train = async (options: Partial<TrainOptions> = {}): Promise<TrainResult<unknown[]>> =>
  trainClassifier({ model: lenet(), description: "LeNet-5-style CNN (conv 5×5 ×6, pool, conv 5×5 ×16, pool, dense 120-84-10)", batchShape: (n) => [n, 28, 28, 1] }, { ...DEFAULTS, ...options });

export const main = async (args: string[]) => {
  await train(cliOptions(args, DEFAULTS));
};
