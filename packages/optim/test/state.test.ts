/**
 * optim.asState: a training loop written as fp-ts State computations equals the plain
 * loop bit for bit.
 */
import { describe, expect, it } from "vitest";
import { pipe } from "fp-ts/lib/function.js";
import * as S from "fp-ts/lib/State.js";
import * as RA from "fp-ts/lib/ReadonlyArray.js";
import { type ArrayBase, grad, np, random } from "@cotangent/core";
import * as optim from "@cotangent/optim";

type Params = { w: ArrayBase; b: ArrayBase };
const loss = (p: Params, x: ArrayBase, y: ArrayBase) => np.mean(np.square(np.subtract(np.add(np.matmul(x, p.w), p.b), y)));

const [kx, ky, kw] = random.split(random.key(0), 3);
const x = random.normal(kx!, [16, 3]);
const y = random.normal(ky!, [16, 2]);
const params0: Params = { w: random.normal(kw!, [3, 2]), b: np.zeros([2]) };
const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adamw({ learningRate: 0.05 }));
const bytes = (t: Params) => [...t.w.toTypedArray(), ...t.b.toTypedArray()].map((v) => new Float32Array([v])[0]);

describe("optim.asState", () => {
  it("one update as a State computation is exactly opt.update", () => {
    const g = grad(loss)(params0, x, y);
    const s0 = opt.init(params0);
    const [u1, s1] = opt.update(g, s0, params0);
    const [u2, s2] = optim.asState(opt)(g, params0)(s0);
    expect(bytes(u2)).toEqual(bytes(u1));
    expect(JSON.stringify(s2, (_k, v) => (v && typeof v.toArray === "function" ? v.toArray() : v))).toEqual(
      JSON.stringify(s1, (_k, v) => (v && typeof v.toArray === "function" ? v.toArray() : v)),
    );
  });

  it("a 20-step training loop as a pipe of State computations equals the plain loop bit for bit", () => {
    // Plain loop.
    let params = params0;
    let state = opt.init(params0);
    for (let i = 0; i < 20; i++) {
      const [updates, next] = opt.update(grad(loss)(params, x, y), state, params);
      params = optim.applyUpdates(params, updates);
      state = next;
    }
    // The same as State computations over { params, opt }.
    type Train = { params: Params; opt: ReturnType<typeof opt.init> };
    const step: S.State<Train, number> = (t) => {
      const [updates, next] = optim.asState(opt)(grad(loss)(t.params, x, y), t.params)(t.opt);
      const p = optim.applyUpdates(t.params, updates);
      return [loss(p, x, y).item(), { params: p, opt: next }];
    };
    const [losses, final] = pipe(RA.replicate(20, step), S.sequenceArray)({ params: params0, opt: opt.init(params0) });
    expect(losses.length).toBe(20);
    expect(losses[19]!).toBeLessThan(losses[0]!);
    expect(bytes(final.params)).toEqual(bytes(params));
  });
});
