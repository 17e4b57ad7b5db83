/** Every optimizer's update under `jit` equals eager evaluation, step after step. */
import { type ArrayBase, jit, np, tree } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import { describe, it } from "vitest";
import { expectClose } from "../../core/test/harness.js";
import { initParams } from "./reference.js";

const params = initParams();
const gradsOf = (p: any, s: number) => tree.map((x: ArrayBase) => np.add(np.sin(np.multiply(x, 3 + s)), 0.2), p);

const ALL: [string, () => optim.GradientTransformation<any>][] = [
  ["sgd", () => optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ["adam", () => optim.adam({ learningRate: optim.warmupCosineDecay({ initValue: 0, peakValue: 0.1, warmupSteps: 2, decaySteps: 10 }) })],
  ["adamw", () => optim.adamw({ learningRate: 0.1, mask: { w: true, b: false } })],
  ["adamax", () => optim.adamax({ learningRate: 0.1 })],
  ["nadam", () => optim.nadam({ learningRate: 0.1 })],
  ["amsgrad", () => optim.amsgrad({ learningRate: 0.1 })],
  ["radam", () => optim.radam({ learningRate: 0.1 })],
  ["rmsprop", () => optim.rmsprop({ learningRate: 0.1, centered: true, momentum: 0.5 })],
  ["adagrad", () => optim.adagrad({ learningRate: 0.1 })],
  ["adadelta", () => optim.adadelta({ weightDecay: 0.01 })],
  ["lion", () => optim.lion({ learningRate: 0.01 })],
  ["lamb", () => optim.lamb({ learningRate: 0.1 })],
  ["lars", () => optim.lars({ learningRate: 0.1, trustRatioMask: { w: true, b: false } })],
  ["yogi", () => optim.yogi({ learningRate: 0.1 })],
  ["adabelief", () => optim.adabelief({ learningRate: 0.1 })],
  ["clip + zeroNans + ema", () => optim.chain(optim.zeroNans(), optim.clip(1), optim.clipByGlobalNorm(2), optim.ema(0.9), optim.scale(-0.1))],
  ["partition", () => optim.partition({ a: optim.adam({ learningRate: 0.1 }), s: optim.sgd({ learningRate: 0.1 }) }, { w: "a", b: "s" })],
  ["applyIfFinite", () => optim.applyIfFinite(optim.adam({ learningRate: 0.1 }), 3)],
  ["multiSteps", () => optim.multiSteps(optim.adam({ learningRate: 0.1 }), 2)],
  ["injectHyperparams", () => optim.injectHyperparams(optim.adam)({ learningRate: optim.exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 0.5 }) })],
];

describe("optimizers under jit", () => {
  for (const [name, make] of ALL) {
    it(`${name}: jit(update) + applyUpdates equals eager for 4 steps, tracing once`, () => {
      const opt = make();
      const step = jit((p: any, s: any, g: any) => {
        const [u, next] = opt.update(g, s, p);
        return [optim.applyUpdates(p, u), next];
      });
      let pe: any = params;
      let se = opt.init(params);
      let pj: any = params;
      let sj = opt.init(params);
      for (let s = 0; s < 4; s++) {
        const [u, next] = opt.update(gradsOf(pe, s), se, pe);
        pe = optim.applyUpdates(pe, u);
        se = next;
        [pj, sj] = step(pj, sj, gradsOf(pj, s));
        expectClose(pj, pe, 1e-5);
        expectClose(tree.leaves(sj).filter((l) => typeof l !== "number"), tree.leaves(se).filter((l) => typeof l !== "number"), 1e-5);
      }
      if (step.cacheInfo().misses > 2) throw new Error(`${name} retraced: ${JSON.stringify(step.cacheInfo().retraces)}`);
    });
  }
});
