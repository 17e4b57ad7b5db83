/**
 * `pnpm example export-onnx`: trains the MNIST MLP briefly, exports its inference function
 * and its whole training step (loss, gradients, clipped Adam with a schedule) to ONNX,
 * runs both on onnxruntime-node, and checks that they agree with Cotangent.
 *
 *   pnpm example export-onnx                # 100 steps of batch 128, then export
 *   pnpm example export-onnx --steps 50
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { type ArrayBase, type NDArray, np, random, tree, valueAndGrad } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { OnnxSession, toOnnx } from "@cotangent/onnx";
import * as optim from "@cotangent/optim";
import { batchOf, loadMnist } from "./mnist_data.js";

type Params = nn.DenseParams[];

const maxRelDiff = (a: readonly NDArray[], b: readonly NDArray[]): number => {
  let worst = 0;
  a.forEach((x, i) => {
    const u = x.toTypedArray();
    const v = b[i]!.toTypedArray();
    let scale = 0;
    for (let k = 0; k < v.length; k++) scale = Math.max(scale, Math.abs(v[k]!));
    for (let k = 0; k < v.length; k++) worst = Math.max(worst, Math.abs(u[k]! - v[k]!) / (scale || 1));
  });
  return worst;
};

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

export const main = async (args: string[]): Promise<void> => {
  const steps = (args.includes("--steps") ? Number(args[args.indexOf("--steps") + 1]) : 100) || 100;
  const batch = 128;
  const data = loadMnist();
  const model = nn.mlp([784, 512, 256, 10]);
  const [kInit, kData] = random.split(random.key(0));
  let params: Params = model.init(kInit!);
  const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: optim.warmupCosineDecay({ initValue: 0, peakValue: 2e-3, warmupSteps: 20, decaySteps: steps + 20, endValue: 1e-5 }) }));
  let state = opt.init(params);
  const loss = (p: Params, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(model.apply(p, x), y));
  const step = (p: Params, s: unknown, x: ArrayBase, y: ArrayBase) => {
    const [l, g] = valueAndGrad(loss)(p, x, y);
    const [updates, next] = opt.update(g, s as never, p);
    return { loss: l, params: optim.applyUpdates(p, updates), state: next };
  };
  const perm = random.permutation(kData!, data.train.n).toTypedArray();
  const batchAt = (s: number) => {
    const idx = Array.from({ length: batch }, (_, i) => perm[(s * batch + i) % data.train.n]!);
    const { x, y } = batchOf(data.train, idx);
    return { x: np.array(x, { shape: [batch, 784] }), y: np.array(y) };
  };

  // 1. Train briefly in Cotangent.
  const t0 = performance.now();
  let last = 0;
  for (let s = 0; s < steps; s++) {
    const { x, y } = batchAt(s);
    const out = step(params, state, x, y);
    params = out.params;
    state = out.state as typeof state;
    last = out.loss.item();
  }
  console.log(`trained ${steps} steps of batch ${batch} in ${((performance.now() - t0) / 1000).toFixed(1)} s; last loss ${last.toFixed(4)}`);

  // 2. Inference: the weights become initializers; the whole test set is one batch.
  const test = batchOf(data.test, Array.from({ length: data.test.n }, (_, i) => i));
  const xTest = np.array(test.x, { shape: [data.test.n, 784] });
  const trained = params;
  const infer = (x: ArrayBase) => model.apply(trained, x);
  const inferModel = toOnnx(infer, xTest, { name: "mnist_mlp_inference" });
  const stepModel = toOnnx(step, params, state, batchAt(0).x, batchAt(0).y, { name: "mnist_mlp_train_step" });
  mkdirSync(".state", { recursive: true });
  writeFileSync(".state/mnist-inference.onnx", inferModel);
  writeFileSync(".state/mnist-train-step.onnx", stepModel);
  console.log(`exported .state/mnist-inference.onnx (${(inferModel.length / 1e6).toFixed(2)} MB) and .state/mnist-train-step.onnx (${(stepModel.length / 1e3).toFixed(1)} kB; weights are its inputs)`);

  // One ONNX Runtime thread: Cotangent's interpreter runs on one, and spinning worker threads
  // on a busy machine cost more than they give.
  const inferSession = await OnnxSession.load(inferModel, { threads: 1 });
  const [ortLogits] = await inferSession.run([xTest]);
  const ctLogits = infer(xTest) as NDArray;
  const accuracy = (logits: ArrayBase) => np.mean(np.astype(np.equal(np.argmax(logits, { axis: 1 }), np.array(test.y)), "float32")).item();
  console.log(
    `inference on onnxruntime-node: test accuracy ${(100 * accuracy(ortLogits!)).toFixed(2)}% (Cotangent ${(100 * accuracy(ctLogits)).toFixed(2)}%), logits max relative difference ${maxRelDiff([ortLogits!], [ctLogits]).toExponential(2)}`,
  );

  // 3. The training step on ONNX Runtime, its outputs fed back as its inputs, beside Cotangent's.
  const stepSession = await OnnxSession.load(stepModel, { threads: 1 });
  let ortState = tree.leaves([params, state]) as ArrayBase[];
  let ctParams = params;
  let ctState: unknown = state;
  const ortTimes: number[] = [];
  const ctTimes: number[] = [];
  let worst = 0;
  const checkSteps = 10;
  for (let s = 0; s < checkSteps; s++) {
    const { x, y } = batchAt(steps + s);
    let t = performance.now();
    const got = await stepSession.run([...ortState, x, y]);
    ortTimes.push(performance.now() - t);
    t = performance.now();
    const want = step(ctParams, ctState, x, y);
    const wantLeaves = tree.leaves(want) as NDArray[];
    ctTimes.push(performance.now() - t);
    worst = Math.max(worst, maxRelDiff(got, wantLeaves));
    if (s === 0 || s === checkSteps - 1) console.log(`step ${s + 1}: loss onnxruntime ${got[0]!.item().toFixed(6)}, Cotangent ${want.loss.item().toFixed(6)}`);
    // ONNX Runtime continues from its own outputs; Cotangent from its own.
    ortState = got.slice(1);
    ctParams = want.params;
    ctState = want.state;
  }
  console.log(`training step, ${checkSteps} steps chained on each side: max relative difference (normwise, per output) ${worst.toExponential(2)}`);
  console.log(`time per training step (median of ${checkSteps}): onnxruntime-node (1 thread) ${median(ortTimes).toFixed(1)} ms, Cotangent interpreter ${median(ctTimes).toFixed(1)} ms`);
  if (worst > 1e-3 || Math.abs(accuracy(ortLogits!) - accuracy(ctLogits)) > 1e-3) {
    console.error("ONNX Runtime and Cotangent disagree");
    process.exitCode = 1;
  }
};
