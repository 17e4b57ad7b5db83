/**
 * The Adam family's eager update runs as one cached `jit` of itself (src/fused.ts): it must
 * equal the same chain run op by op, step after step, in float32 and float64; stay inline
 * under a trace; and compile once for every optimizer built with the same options.
 */
import { type ArrayBase, makeJaxpr, np, tree } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectClose } from "../../core/test/harness.js";
import { sharedUpdateCount } from "../src/fused.js";

const paramsOf = (seed: number, dtype: "float32" | "float64") => {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const arr = (shape: number[]) => np.array(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r), { dtype, shape });
  return { w: arr([7, 5]), b: arr([5]), deep: [arr([3]), arr([])] };
};
const gradsOf = (p: unknown, step: number) => tree.map((x: ArrayBase) => np.add(np.cos(np.multiply(x, 2 + step)), 0.1), p);

/** The same optimizer, written as the plain chain (what `optim.adam` etc. compute eagerly). */
const plain = {
  adam: ({ learningRate, ...o }: any) => optim.chain(optim.scaleByAdam(o), optim.scaleByLearningRate(learningRate)),
  nadam: ({ learningRate, ...o }: any) => optim.chain(optim.scaleByAdam({ ...o, nesterov: true }), optim.scaleByLearningRate(learningRate)),
  adamw: ({ learningRate, weightDecay, ...o }: any) => optim.chain(optim.scaleByAdam(o), optim.addDecayedWeights(weightDecay), optim.scaleByLearningRate(learningRate)),
};
const fused = { adam: optim.adam, nadam: optim.nadam, adamw: optim.adamw };

describe("the fused eager update of the Adam family", () => {
  it("equals the op-by-op chain for several steps (params and state), float32 and float64", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<"adam" | "nadam" | "adamw">("adam", "nadam", "adamw"),
        fc.constantFrom<"float32" | "float64">("float32", "float64"),
        fc.record({ learningRate: fc.double({ min: 1e-4, max: 0.5, noNaN: true }), b1: fc.constantFrom(0.9, 0.5), eps: fc.constantFrom(1e-8, 1e-3) }),
        fc.integer({ min: 1, max: 1000 }),
        (name, dtype, options, seed) => {
          const { b1, eps, learningRate } = options;
          const o = name === "nadam" ? { learningRate, b1, eps } : { learningRate, b1, eps, ...(name === "adamw" ? { weightDecay: 0.01 } : {}) };
          const f = (fused[name] as (o: any) => optim.GradientTransformation<any>)(o);
          const p: optim.GradientTransformation<any> = plain[name](o);
          let pf: any = paramsOf(seed, dtype);
          let pp: any = pf;
          let sf = f.init(pf);
          let sp = p.init(pp);
          for (let step = 0; step < 3; step++) {
            const [uf, nf] = f.update(gradsOf(pf, step), sf, pf);
            const [up, np_] = p.update(gradsOf(pp, step), sp, pp);
            pf = optim.applyUpdates(pf, uf);
            pp = optim.applyUpdates(pp, up);
            [sf, sp] = [nf, np_];
            expectClose(tree.leaves(pf), tree.leaves(pp), dtype === "float32" ? 1e-6 : 1e-12);
            expectClose(tree.leaves(sf), tree.leaves(sp), dtype === "float32" ? 1e-6 : 1e-12);
            expect(tree.leaves<ArrayBase>(pf).map((x) => x.dtype)).toEqual(tree.leaves<ArrayBase>(pp).map((x) => x.dtype));
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it("is traced inline under a transform: the jaxpr of a step has no jit equation", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const params = paramsOf(3, "float32");
    const j = makeJaxpr((g: any, s: any) => opt.update(g, s))(gradsOf(params, 0), opt.init(params));
    expect(j.toString()).not.toContain("jit");
    expect(j.toString()).toContain("sqrt");
  });

  it("compiles once for optimizers built afresh with the same options; schedules and array hyperparameters stay op by op", () => {
    const params = paramsOf(5, "float32");
    const before = sharedUpdateCount();
    let state = optim.adam({ learningRate: 0.0123, b2: 0.98 }).init(params);
    for (let step = 0; step < 3; step++) [, state] = optim.adam({ learningRate: 0.0123, b2: 0.98 }).update(gradsOf(params, step), state);
    expect(sharedUpdateCount()).toBe(before + 1);
    const scheduled = optim.adam({ learningRate: optim.exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 0.5 }) });
    scheduled.update(gradsOf(params, 0), scheduled.init(params));
    const withArray = optim.adam({ learningRate: np.array(0.1) });
    withArray.update(gradsOf(params, 0), withArray.init(params));
    expect(sharedUpdateCount()).toBe(before + 1);
  });
});
