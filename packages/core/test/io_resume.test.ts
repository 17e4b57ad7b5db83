/**
 * The point of saved state: a training run stopped after k steps, saved, loaded and
 * resumed continues bit for bit as the run that never stopped (params, PRNG key, step).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArrayBase, grad, load, np, random, save } from "@cotangent/core";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cotangent-resume-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Params = { w: ArrayBase; b: ArrayBase };
type State = { params: Params; key: ArrayBase; step: number };

/** A noisy linear-regression problem: y = x·[2, -1, 0.5] + 0.3 + noise. */
const X = random.normal(random.key(1), [64, 3]);
const Y = np.add(np.add(np.matmul(X, np.array([2, -1, 0.5])), 0.3), np.multiply(random.normal(random.key(2), [64]), 0.1));

const loss = (p: Params, x: ArrayBase, y: ArrayBase) => np.mean(np.square(np.subtract(np.add(np.matmul(x, p.w), p.b), y)));

/** One step of minibatch SGD: the batch is drawn with a key split off the state's key. */
const step = (s: State, lr: number): State => {
  const [key, sub] = random.split(s.key);
  const idx = random.randint(sub!, [8], 0, 64);
  const g = grad(loss)(s.params, np.take(X, idx, { axis: 0 }), np.take(Y, idx)) as Params;
  // A learning-rate schedule that depends on the step makes the step count part of the state.
  const rate = lr / (1 + 0.05 * s.step);
  return {
    params: { w: np.subtract(s.params.w, np.multiply(g.w, rate)), b: np.subtract(s.params.b, np.multiply(g.b, rate)) },
    key: key!,
    step: s.step + 1,
  };
};

const init = (): State => ({ params: { w: np.zeros([3]), b: np.zeros([]) }, key: random.key(0), step: 0 });
const bits = (x: ArrayBase) => Array.from(new Uint8Array(x.toTypedArray().buffer));

describe("stop, save, load, resume", () => {
  it("continues exactly as a run that never stopped", async () => {
    const total = 30;
    const k = 11;
    let straight = init();
    for (let i = 0; i < total; i++) straight = step(straight, 0.1);

    let first = init();
    for (let i = 0; i < k; i++) first = step(first, 0.1);
    const p = join(dir, "ckpt.ctg");
    await save(p, first);
    // Nothing of the first run survives except the file.
    let resumed: State = await load<State>(p, { like: init() });
    expect(resumed.step).toBe(k);
    for (let i = k; i < total; i++) resumed = step(resumed, 0.1);

    expect(resumed.step).toBe(straight.step);
    expect(bits(resumed.params.w)).toEqual(bits(straight.params.w));
    expect(bits(resumed.params.b)).toEqual(bits(straight.params.b));
    expect(bits(resumed.key)).toEqual(bits(straight.key));
    // And training did something: the fit approaches the true weights.
    expect(np.max(np.abs(np.subtract(straight.params.w, np.array([2, -1, 0.5])))).item()).toBeLessThan(0.5);
  });
});
