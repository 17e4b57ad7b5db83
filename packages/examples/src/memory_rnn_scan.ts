/**
 * Peak live bytes of the gradient of a 1,000-step recurrent scan, with and without a
 * checkpointed body. The cell is an MLP (h + W2·tanh(W1·[h; x])) whose hidden layer is
 * four times wider than the carry, so a plain backward pass stores much more per step
 * than the carry that a checkpointed body keeps.
 *
 *   pnpm example memory-rnn
 */
import { type ArrayBase, checkpoint, grad, lax, memoryProfile, np, random, savedResiduals } from "@cotangent/core";

export const main = (args: string[]) => {
  const steps = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
  const [batch, width, hidden] = [16, 64, 256];
  const [k1, k2, k3] = random.split(random.key(1), 3);
  const params = {
    w1: np.multiply(random.normal(k1!, [2 * width, hidden]), 1 / Math.sqrt(2 * width)),
    w2: np.multiply(random.normal(k2!, [hidden, width]), 0.1 / Math.sqrt(hidden)),
  };
  const xs = random.normal(k3!, [steps, batch, width]);
  const cell = (p: typeof params) => (h: ArrayBase, x: ArrayBase): [ArrayBase, null] => [
    np.add(h, np.matmul(np.tanh(np.matmul(np.concatenate([h, x], { axis: 1 }), p.w1)), p.w2)),
    null,
  ];
  const loss = (ck: boolean) => (p: typeof params) => {
    const body = ck ? checkpoint(cell(p)) : cell(p);
    const [h] = lax.scan(body, np.zeros([batch, width]), xs);
    return np.mean(np.square(h));
  };
  console.log(`RNN scan: ${steps} steps, batch ${batch}, carry ${width}, cell hidden ${hidden}, float32`);
  const results: number[] = [];
  for (const ck of [false, true]) {
    const saved = savedResiduals(loss(ck), params);
    const perStep = saved.filter((r) => r.shape[0] === steps);
    const t0 = performance.now();
    const { peakBytes } = memoryProfile(() => grad(loss(ck))(params));
    results.push(peakBytes);
    console.log(`\n${ck ? "checkpointed body" : "plain body"}`);
    console.log(`  per-step residuals: ${perStep.map((r) => `[${r.shape.join(",")}] from ${r.origin}`).join(", ")}`);
    console.log(`  peak live bytes of grad: ${(peakBytes / 2 ** 20).toFixed(1)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(`\ncheckpointed / plain peak: ${(results[1]! / results[0]!).toFixed(2)}×`);
};
