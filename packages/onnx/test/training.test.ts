/**
 * Gradients and whole training steps export as one graph: valueAndGrad of a loss, and a
 * step (loss, gradients, clipped Adam with a schedule) whose outputs feed the next step,
 * run for several steps on onnxruntime-node, agree with Cotangent step by step.
 */
import { type ArrayBase, type NDArray, np, random, tree, valueAndGrad } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import { describe, expect, it } from "vitest";
import { OnnxSession, toOnnx } from "../src/index.js";
import { cases, rng } from "./cases.js";
import { checkOnnx, expectClose } from "./harness.js";

interface Params {
  w1: ArrayBase;
  b1: ArrayBase;
  w2: ArrayBase;
  b2: ArrayBase;
}
const init = (dtype: "float32" | "float64"): Params => {
  const [k1, k2] = random.split(random.key(0));
  return {
    w1: np.multiply(random.normal(k1!, [6, 8], { dtype }), 0.4),
    b1: np.zeros([8], { dtype }),
    w2: np.multiply(random.normal(k2!, [8, 3], { dtype }), 0.4),
    b2: np.zeros([3], { dtype }),
  };
};
const apply = (p: Params, x: ArrayBase) => np.add(np.matmul(np.tanh(np.add(np.matmul(x, p.w1), p.b1)), p.w2), p.b2);
const loss = (p: Params, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(apply(p, x), y));

describe("gradients and training steps", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const params = init(dtype);
    const x = random.normal(random.key(1), [5, 6], { dtype });
    const y = np.array([0, 2, 1, 1, 0], { dtype: "int32" });
    it(`valueAndGrad(loss) exports as one graph (${dtype})`, async () => {
      await checkOnnx(valueAndGrad(loss), [params, x, y], { normwise: true });
    });
    it(`a clipped-Adam training step runs 3 steps on ONNX Runtime in agreement with Cotangent (${dtype})`, async () => {
      const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adam({ learningRate: optim.warmupCosineDecay({ initValue: 0, peakValue: 0.05, warmupSteps: 2, decaySteps: 10 }) }));
      const step = (p: Params, s: unknown, xb: ArrayBase, yb: ArrayBase) => {
        const [l, g] = valueAndGrad(loss)(p, xb, yb);
        const [updates, next] = opt.update(g, s as never, p);
        return { loss: l, params: optim.applyUpdates(p, updates), state: next };
      };
      let p: Params = params;
      let s: unknown = opt.init(params);
      const model = toOnnx(step, p, s, x, y);
      const session = await OnnxSession.load(model, { threads: 1 });
      const inTree = tree.structure([p, s, x, y]);
      let flat = tree.leaves([p, s, x, y]) as ArrayBase[];
      for (let k = 0; k < 3; k++) {
        const want = step(p, s, x, y);
        const got = await session.run(flat);
        const wantLeaves = tree.leaves(want) as NDArray[];
        expect(got.length).toBe(wantLeaves.length);
        // Errors compound over steps: one order of magnitude per step beyond the first.
        got.forEach((g, i) => expectClose(g, wantLeaves[i]!, `step ${k} output ${i}`, (dtype === "float32" ? 1e-5 : 1e-12) * 10 ** k, true));
        // ONNX Runtime's outputs are the next step's inputs (the same pytree order: loss, params, state).
        const next = tree.unflatten<{ loss: ArrayBase; params: Params; state: unknown }>(tree.structure(want), got);
        p = want.params;
        s = want.state;
        flat = tree.leaves([next.params, next.state, x, y]) as ArrayBase[];
        expect(flat.length).toBe(tree.leaves(tree.unflatten(inTree, flat)).length);
      }
    });
  }
});

describe("onnxruntime-web (WebAssembly, in Node) agrees on a subset", () => {
  const subset = new Set(["matmul", "exp", "reduce_sum", "gather", "cumsum", "select_n", "broadcast_in_dim", "conv_general_dilated", "argmax"]);
  cases.forEach((c, k) => {
    if (!subset.has(c.label ?? c.prim)) return;
    it(`${c.label ?? c.prim} (float32)`, async () => {
      await checkOnnx(c.fn, c.args(rng(3000 + k), "float32"), { engine: "web" });
    });
  });
  it("valueAndGrad of the MLP loss (float32)", async () => {
    const params = init("float32");
    await checkOnnx(valueAndGrad(loss), [params, random.normal(random.key(1), [5, 6]), np.array([0, 2, 1, 1, 0], { dtype: "int32" })], { engine: "web", normwise: true });
  });
});
