/**
 * The training loop the MNIST examples share (`mnist` with an MLP, `mnist-cnn` with a small
 * convolutional network): the fixed split of `mnist_data.ts`, seed-driven shuffling and
 * shift augmentation, Adam with a warmup-cosine learning rate and global-norm clipping, a
 * progress bar, per-epoch loss and accuracy, the state (params, optimizer state, PRNG key,
 * epoch) saved atomically after every epoch and resumed from, and the gradient-flow table
 * at the end. An example supplies only its model and how a batch of images is shaped for it.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type ArrayBase, jit, load, np, random, save, valueAndGrad } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import * as optim from "@cotangent/optim";
import cliProgress from "cli-progress";
import { type Dataset, batchOf, loadMnist, shiftImages } from "./mnist_data.js";

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Where the state is saved after every epoch (and resumed from). */
  statePath: string;
  /** Ignore a saved state and start from scratch. */
  fresh: boolean;
  /** Stop after this epoch (simulates an interrupted run); the state is saved first. */
  stopAfterEpoch?: number;
  /** Use only the first n training images of each split (tests). */
  limit?: number;
  seed: number;
  quiet: boolean;
  /** Peak of the warmup-cosine learning rate. */
  peakLearningRate: number;
}

/** What differs between the examples: the model, its name in the log, and the image shape it takes. */
export interface Classifier<P> {
  model: nn.Layer<P>;
  description: string;
  /** The shape of a batch of n images, e.g. [n, 784] for an MLP or [n, 28, 28, 1] (NHWC) for a CNN. */
  batchShape: (n: number) => number[];
}

export interface TrainResult<P> {
  params: P;
  testAccuracy: number;
  epochsRun: number;
  seconds: number;
  flowTable: string;
}

interface State<P> {
  params: P;
  opt: unknown;
  key: ArrayBase;
  epoch: number;
}

const subset = (ds: Dataset, n?: number): Dataset =>
  n === undefined || n >= ds.n ? ds : { images: ds.images.slice(0, n * 784), labels: ds.labels.slice(0, n), n };

/** Accuracy and mean loss of the model on a whole dataset, in batches of 500. */
const evaluate = <P>(c: Classifier<P>, params: P, ds: Dataset): { loss: number; accuracy: number } => {
  let correct = 0;
  let loss = 0;
  for (let s = 0; s < ds.n; s += 500) {
    const idx = Array.from({ length: Math.min(500, ds.n - s) }, (_, i) => s + i);
    const { x, y } = batchOf(ds, idx);
    const logits = c.model.apply(params, np.array(x, { shape: c.batchShape(idx.length) }));
    const labels = np.array(y);
    loss += np.sum(optim.softmaxCrossEntropyWithIntegerLabels(logits, labels)).item();
    correct += np.sum(np.equal(np.argmax(logits, { axis: 1 }), labels)).item();
  }
  return { loss: loss / ds.n, accuracy: correct / ds.n };
};

export const trainClassifier = async <P>(c: Classifier<P>, o: TrainOptions): Promise<TrainResult<P>> => {
  const log = o.quiet ? () => {} : (s: string) => console.log(s);
  const data = loadMnist();
  const trainSet = subset(data.train, o.limit);
  const testSet = subset(data.test, o.limit);
  const stepsPerEpoch = Math.floor(trainSet.n / o.batchSize);
  const totalSteps = o.epochs * stepsPerEpoch;
  // Warmup: at most 100 steps and one epoch, and short of the whole run (a 1-epoch run has a decay too).
  const warmupSteps = Math.max(0, Math.min(100, stepsPerEpoch, totalSteps - 1));
  const schedule = optim.warmupCosineDecay({ initValue: 0, peakValue: o.peakLearningRate, warmupSteps, decaySteps: totalSteps, endValue: 1e-5 });
  const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: schedule }));

  const [kInit, kRest] = random.split(random.key(o.seed));
  const params0 = c.model.init(kInit!);
  let state: State<P> = { params: params0, opt: opt.init(params0), key: kRest!, epoch: 0 };
  if (!o.fresh && existsSync(o.statePath)) {
    // The fresh state is the template: a save from another model size fails here, clearly.
    state = await load<State<P>>(o.statePath, { like: state });
    log(`resumed from ${o.statePath} after epoch ${state.epoch}`);
  }
  log(`MNIST: ${trainSet.n} training and ${testSet.n} test images; ${c.description}; Adam, warmup-cosine lr, clip 1; seed ${o.seed}`);

  const loss = (params: P, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(c.model.apply(params, x), y));
  const lossAndGrad = valueAndGrad(loss);
  // One compiled program per batch shape: forward, backward, clipping, Adam and the update.
  // The old params and optimizer state are donated: the loop never reads them again.
  const trainStep = jit(
    (params: P, optState: unknown, x: ArrayBase, y: ArrayBase) => {
      const [l, g] = lossAndGrad(params, x, y);
      const [updates, next] = opt.update(g, optState as never, params);
      return [l, optim.applyUpdates(params, updates), next] as const;
    },
    { donateArgnums: [0, 1] },
  );
  const t0 = performance.now();
  let lastBatch: { x: ArrayBase; y: ArrayBase } | undefined;
  let testAccuracy = NaN;
  let epochsRun = 0;
  for (let epoch = state.epoch + 1; epoch <= o.epochs; epoch++) {
    const [kNext, kPerm, kShift] = random.split(state.key, 3);
    const perm = random.permutation(kPerm!, trainSet.n).toTypedArray();
    const shifts = random.randint(kShift!, [stepsPerEpoch * o.batchSize * 2], -2, 3).toTypedArray();
    const bar = o.quiet ? null : new cliProgress.SingleBar({ format: `epoch ${epoch}/${o.epochs} [{bar}] {value}/{total} loss {loss}`, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar?.start(stepsPerEpoch, 0, { loss: "-" });
    let params = state.params;
    let optState = state.opt;
    let total = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const { x, y } = batchOf(trainSet, perm.subarray(s * o.batchSize, (s + 1) * o.batchSize));
      const xb = np.array(shiftImages(x, shifts.subarray(s * o.batchSize * 2, (s + 1) * o.batchSize * 2)), { shape: c.batchShape(o.batchSize) });
      const yb = np.array(y);
      const [l, nextParams, next] = trainStep(params, optState, xb, yb);
      optState = next as typeof optState;
      params = nextParams as P;
      total += l.item();
      lastBatch = { x: xb, y: yb };
      bar?.update(s + 1, { loss: (total / (s + 1)).toFixed(4) });
    }
    bar?.stop();
    state = { params, opt: optState, key: kNext!, epoch };
    mkdirSync(dirname(o.statePath), { recursive: true });
    await save(o.statePath, state);
    epochsRun++;
    const test = evaluate(c, params, testSet);
    testAccuracy = test.accuracy;
    log(
      `epoch ${String(epoch).padStart(2)}  train loss ${(total / stepsPerEpoch).toFixed(4)}  test loss ${test.loss.toFixed(4)}  test accuracy ${(100 * test.accuracy).toFixed(2)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    if (o.stopAfterEpoch !== undefined && epoch >= o.stopAfterEpoch) break;
  }
  if (Number.isNaN(testAccuracy)) testAccuracy = evaluate(c, state.params, testSet).accuracy;

  // Gradient flow on one batch: per layer gradient norm, parameter norm and update ratio.
  if (!lastBatch) {
    const { x, y } = batchOf(trainSet, Array.from({ length: o.batchSize }, (_, i) => i));
    lastBatch = { x: np.array(x, { shape: c.batchShape(o.batchSize) }), y: np.array(y) };
  }
  const [, g] = lossAndGrad(state.params, lastBatch.x, lastBatch.y);
  const [updates] = opt.update(g, state.opt as never, state.params);
  const flow = nn.gradientFlow(state.params, g, { updates });
  const flowTable = nn.formatGradientFlow(flow);
  const seconds = (performance.now() - t0) / 1000;
  log(`\ngradient flow (one batch, final params):\n${flowTable}`);
  if (!o.quiet) {
    const svgPath = o.statePath.replace(/\.[^.]*$/, "") + "-gradient-flow.svg";
    writeFileSync(svgPath, nn.gradientFlowSvg(flow));
    log(`chart: ${svgPath}`);
  }
  log(`\nfinal test accuracy ${(100 * testAccuracy).toFixed(2)}% in ${seconds.toFixed(1)} s`);
  return { params: state.params, testAccuracy, epochsRun, seconds, flowTable };
};

const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** The command-line options both examples take: --epochs N, --state PATH, --fresh, --stop-after N. */
export const cliOptions = (args: string[], defaults: { epochs: number; statePath: string }) => ({
  epochs: Number(flag(args, "--epochs") ?? defaults.epochs),
  statePath: flag(args, "--state") ?? defaults.statePath,
  fresh: args.includes("--fresh"),
  stopAfterEpoch: flag(args, "--stop-after") === undefined ? undefined : Number(flag(args, "--stop-after")),
});
