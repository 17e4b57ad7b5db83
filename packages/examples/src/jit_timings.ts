/**
 * `pnpm example jit-timings`: eager against `jit` on the bench workloads W2, W3, W4 and W5
 * (same definitions as packages/bench), plus compile times and the cost of a cache hit.
 * Figures are medians over repeated runs in this process; compare ratios, not absolutes,
 * on a shared machine.
 */
import { type ArrayBase, grad, jit, jvp, makeJaxpr, np, random, valueAndGrad, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import * as optim from "@cotangent/optim";

type V = any;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median milliseconds per call of `fn` over `reps` timed batches of `n` calls (after warm-up). */
const time = (fn: () => unknown, n: number, reps = 7): number => {
  for (let i = 0; i < Math.max(2, n); i++) fn();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    ts.push((performance.now() - t) / n);
  }
  return median(ts);
};
const row = (name: string, eager: number, jitted: number) =>
  console.log(`${name.padEnd(34)} ${eager.toFixed(3).padStart(10)} ms ${jitted.toFixed(3).padStart(10)} ms ${(eager / jitted).toFixed(1).padStart(6)}x`);

export const main = async (): Promise<void> => {
  console.log(`${"workload".padEnd(34)} ${"eager".padStart(13)} ${"jit".padStart(13)} speedup`);
  // W2: sum(tanh(0.5x + 0.1)) over 1e6 f32.
  const w2 = (x: V) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1)));
  const x2 = random.normal(random.key(0), [1_000_000]);
  const jw2 = jit(w2);
  row("W2 forward", time(() => w2(x2), 3), time(() => jw2(x2), 3));
  const vg2 = jit(valueAndGrad(w2));
  row("W2 forward + grad", time(() => valueAndGrad(w2)(x2), 3), time(() => vg2(x2), 3));

  // W4: f(x) = sum(sin(x)·x³), x of 1000.
  const f = (x: V) => np.sum(np.multiply(np.sin(x), np.power(x, 3)));
  const x4 = random.normal(random.key(1), [1000]);
  const v4 = random.normal(random.key(2), [1000]);
  const hvpRev = (x: V, v: V) => grad((y: V) => np.sum(np.multiply(grad(f)(y), v)))(x);
  const hvpFwd = (x: V, v: V) => jvp(grad(f), [x], [v])[1];
  const g4 = jit(grad(f));
  const hr = jit(hvpRev);
  const hf = jit(hvpFwd);
  row("W4 grad", time(() => grad(f)(x4), 50), time(() => g4(x4), 500));
  row("W4 HVP reverse-over-reverse", time(() => hvpRev(x4, v4), 20), time(() => hr(x4, v4), 500));
  row("W4 HVP forward-over-reverse", time(() => hvpFwd(x4, v4), 20), time(() => hf(x4, v4), 500));

  // W3: MLP 784-256-256-10, ReLU, softmax cross-entropy, batch 128, one Adam step.
  const model = nn.mlp([784, 256, 256, 10]);
  const params = model.init(random.key(3));
  const opt = optim.adam({ learningRate: 1e-3 });
  const xb = random.normal(random.key(4), [128, 784]);
  const yb = random.randint(random.key(5), [128], 0, 10);
  const loss = (p: V, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(model.apply(p, x), y));
  const step = (p: V, s: V, x: ArrayBase, y: ArrayBase) => {
    const [l, g] = valueAndGrad(loss)(p, x, y);
    const [u, next] = opt.update(g, s, p);
    return [l, optim.applyUpdates(p, u), next] as const;
  };
  const jstep = jit(step);
  const s0 = opt.init(params);
  row("W3 Adam step", time(() => step(params, s0, xb, yb), 3, 5), time(() => jstep(params, s0, xb, yb), 3, 5));

  // W5: per-example gradients, vmap(grad(loss)) of an MLP 784-64-10 over 64 examples.
  const m5 = nn.mlp([784, 64, 10]);
  const p5 = m5.init(random.key(6));
  const l5 = (p: V, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(m5.apply(p, np.expandDims(x, 0)), np.expandDims(y, 0)));
  const pe = vmap(grad(l5), { inAxes: [null, 0, 0] });
  const jpe = jit(pe);
  const x5 = random.normal(random.key(7), [64, 784]);
  const y5 = random.randint(random.key(8), [64], 0, 10);
  row("W5 per-example grads", time(() => pe(p5, x5, y5), 3, 5), time(() => jpe(p5, x5, y5), 3, 5));

  // Compile times: trace + optimize + compile, for W3's step and a 1,000-equation program.
  const lo = jit(step).lower(params, s0, xb, yb);
  console.log(`\ncompile W3 step (${lo.traced.eqns.length} equations -> ${lo.optimized.eqns.length}): trace ${lo.timings.traceMs.toFixed(1)} ms, optimize ${lo.timings.optimizeMs.toFixed(1)} ms, compile ${lo.timings.compileMs.toFixed(1)} ms`);
  const chain = (x: V) => {
    let y = x;
    for (let i = 0; i < 250; i++) y = np.add(np.multiply(np.sin(y), 0.5), np.cos(np.multiply(y, 0.25)));
    return np.sum(y);
  };
  const xc = random.normal(random.key(9), [64]);
  const lc = jit(chain).lower(xc);
  console.log(`compile 1,000-equation program (${makeJaxpr(chain)(xc).eqns.length} equations -> ${lc.optimized.eqns.length}): trace ${lc.timings.traceMs.toFixed(1)} ms, optimize ${lc.timings.optimizeMs.toFixed(1)} ms, compile ${lc.timings.compileMs.toFixed(1)} ms`);
  // A cache hit: a jitted identity-like function on a small array, minus nothing (all overhead).
  const tiny = jit((x: V) => np.add(x, 1));
  const xs = np.ones([4]);
  const hit = time(() => tiny(xs), 20000);
  console.log(`cache hit + run of a 1-kernel program on f32[4]: ${(hit * 1000).toFixed(1)} us per call`);
};
