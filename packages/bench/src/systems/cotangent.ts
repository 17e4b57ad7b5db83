/**
 * Cotangent's implementation of every case. `cotangentSystem({ name, compile })` makes a
 * variant: `compile` wraps each function that is timed (identity for the eager interpreter;
 * the jit issue passes `jit` to add a `cotangent-jit` system).
 */
import { type ArrayBase, checkpoint, grad, jvp, lax, memoryProfile, np, setThreads, threadsReady, tree, valueAndGrad, vmap } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import type { ConvData, EagerData, MatmulData, MlpData, PolySinData, ResidualData, TanhData, Tensor } from "../workloads.js";
import { type CaseImpl, type Runner, type System, concat } from "./system.js";

/**
 * Options a timed function comes with. `donate`: the positions of arguments the caller never
 * uses again (a training step's parameters and optimizer state), which a compiled function may
 * overwrite, as JAX's `donate_argnums` (and as jax-js, whose calls consume their arguments).
 */
export interface CompileOptions {
  donate?: number[];
}

/** Wraps a function that is timed; must return a function with the same behaviour. */
export type Compile = <F extends (...args: any[]) => any>(f: F, options?: CompileOptions) => F;

export interface CotangentVariant {
  name: string;
  compile: Compile;
  /** Shown in the table's legend. */
  note?: string;
  /** The kernel thread count (`setThreads`); the default is the pool's, the cores available. */
  threads?: number;
}

const arr = (t: Tensor): ArrayBase => np.array(t.data, { shape: t.shape });
const host = (x: ArrayBase) => x.toTypedArray() as ArrayLike<number>;
const leaves = (t: unknown): ArrayLike<number>[] => tree.leaves<ArrayBase>(t).map(host);

const mlpForward = (params: ArrayBase[], x: ArrayBase): ArrayBase => {
  let h = x;
  for (let l = 0; l < params.length; l += 2) {
    h = np.add(np.matmul(h, params[l]!), params[l + 1]!);
    if (l + 2 < params.length) h = np.maximum(h, 0);
  }
  return h;
};
const mlpLoss = (params: ArrayBase[], x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(mlpForward(params, x), y));

/** tanh approximation of GELU (Hendrycks & Gimpel, 2016), as the memory-mlp example. */
const gelu = (x: ArrayBase) => np.multiply(np.multiply(x, 0.5), np.add(1, np.tanh(np.multiply(Math.sqrt(2 / Math.PI), np.add(x, np.multiply(0.044715, np.power(x, 3)))))));
const residualBlock = (p: ArrayBase[], x: ArrayBase) => np.add(x, np.matmul(gelu(np.matmul(x, p[0]!)), p[1]!));
const residualLoss = (withCheckpoint: boolean) => (blocks: ArrayBase[][], x: ArrayBase) => {
  let h = x;
  for (const p of blocks) h = withCheckpoint ? checkpoint(residualBlock)(p, h) : residualBlock(p, h);
  return np.mean(np.square(h));
};

/** W6 computes both gradients once per process: each case checks against the other. */
const residualGrads = (() => {
  const cache = new Map<ResidualData, { plain: { grad: Float64Array; peak: number }; checkpoint: { grad: Float64Array; peak: number } }>();
  return (d: ResidualData) => {
    if (!cache.has(d)) {
      const blocks = d.blocks.map((b) => b.map(arr));
      const x = arr(d.x);
      const run = (ck: boolean) => {
        const { result, peakBytes } = memoryProfile(() => grad(residualLoss(ck))(blocks, x));
        return { grad: concat(leaves(result)), peak: peakBytes };
      };
      cache.set(d, { plain: run(false), checkpoint: run(true) });
    }
    return cache.get(d)!;
  };
})();

export const cotangentCases = (compile: Compile): Record<string, CaseImpl> => {
  const matmul: CaseImpl = (d: MatmulData): Runner => {
    const [a, b] = [arr(d.a), arr(d.b)];
    const f = compile((a: ArrayBase, b: ArrayBase) => np.matmul(a, b));
    return { run: () => f(a, b), outputs: () => [host(f(a, b))] };
  };
  const eager = (op: (x: ArrayBase, y: ArrayBase) => ArrayBase): CaseImpl => (d: EagerData): Runner => {
    const [x, y] = [arr(d.x), arr(d.y)];
    const f = compile(op);
    return { run: () => f(x, y), outputs: () => [host(f(x, y))] };
  };
  const polySin = (x: ArrayBase) => np.sum(np.multiply(np.sin(x), np.power(x, 3)));
  const hvp = (mode: "rev-rev" | "fwd-rev"): CaseImpl => (d: PolySinData): Runner => {
    const [x, v] = [arr(d.x), arr(d.v)];
    const f = compile(
      mode === "rev-rev"
        ? (x: ArrayBase, v: ArrayBase) => grad((x: ArrayBase) => np.vdot(grad(polySin)(x), v))(x)
        : (x: ArrayBase, v: ArrayBase) => jvp(grad(polySin), [x], [v])[1] as ArrayBase,
    );
    return { run: () => f(x, v), outputs: () => [host(f(x, v))] };
  };
  const residual = (variant: "plain" | "checkpoint"): CaseImpl => (d: ResidualData): Runner => {
    const g = residualGrads(d);
    const [mine, other] = variant === "plain" ? [g.plain, g.checkpoint] : [g.checkpoint, g.plain];
    return { run: () => undefined, measure: () => mine.peak, outputs: () => [mine.grad, other.grad] };
  };

  /** W3's step; `returnGrads`: the timed step also returns the gradients (the check always gets them). */
  const adamStep = (returnGrads: boolean) => (d: MlpData) => {
    const opt = optim.adam({ learningRate: d.lr, eps: d.eps });
    const [x, y] = [arr(d.x), arr(d.y)];
    const lossAndGrad = valueAndGrad(mlpLoss);
    // The parameters and the optimizer state are the step's to overwrite (each call gets fresh ones or the last call's results).
    const stepOf = (withGrads: boolean) =>
      compile(
        (params: ArrayBase[], state: unknown, x: ArrayBase, y: ArrayBase) => {
          const [loss, g] = lossAndGrad(params, x, y);
          const [updates, next] = opt.update(g, state as never, params);
          const out = { loss, params: optim.applyUpdates(params, updates), state: next };
          return withGrads ? { ...out, grads: g } : (out as typeof out & { grads?: ArrayBase[] });
        },
        { donate: [0, 1] },
      );
    const step = stepOf(returnGrads);
    const checked = returnGrads ? step : stepOf(true);
    let params = d.params.map(arr);
    let state: unknown = opt.init(params);
    return {
      run: () => {
        const r = step(params, state, x, y);
        params = r.params;
        state = r.state;
        return r.loss;
      },
      outputs: () => {
        const params0 = d.params.map(arr);
        const r = checked(params0, opt.init(params0), x, y);
        return [r.loss.item(), ...leaves(r.grads!), ...leaves(r.params)];
      },
    };
  };
  return {
    "W1.f32-512": matmul,
    "W1.f32-1024": matmul,
    "W1.f64-512": matmul,
    "W2.fwd": (d: TanhData) => {
      const x = arr(d.x);
      const f = compile((x: ArrayBase) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1))));
      return { run: () => f(x), outputs: () => [f(x).item()] };
    },
    "W2.fwd-grad": (d: TanhData) => {
      const x = arr(d.x);
      const f = compile(valueAndGrad((x: ArrayBase) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1)))));
      return {
        run: () => f(x),
        outputs: () => {
          const [v, g] = f(x);
          return [v.item(), host(g)];
        },
      };
    },
    "W3.adam-step": adamStep(false),
    "W3.adam-step-grads": adamStep(true),
    "W4.grad": (d: PolySinData) => {
      const x = arr(d.x);
      const f = compile(grad(polySin));
      return { run: () => f(x), outputs: () => [host(f(x))] };
    },
    "W4.hvp-rev-rev": hvp("rev-rev"),
    "W4.hvp-fwd-rev": hvp("fwd-rev"),
    "W5.per-example": (d: MlpData) => {
      const params = d.params.map(arr);
      const [x, y] = [arr(d.x), arr(d.y)];
      const single = (params: ArrayBase[], x: ArrayBase, y: ArrayBase) => optim.softmaxCrossEntropyWithIntegerLabels(mlpForward(params, x), y);
      const f = compile(vmap(grad(single), { inAxes: [null, 0, 0] }));
      return { run: () => f(params, x, y), outputs: () => leaves(f(params, x, y)) };
    },
    "W6.plain": residual("plain"),
    "W6.checkpoint": residual("checkpoint"),
    "W7.fwd": (d: ConvData) => {
      const [x, w] = [arr(d.x), arr(d.w)];
      const f = compile((x: ArrayBase, w: ArrayBase) => lax.convGeneralDilated(x, w, [1, 1], "SAME"));
      return { run: () => f(x, w), outputs: () => [host(f(x, w))] };
    },
    "W7.fwd-grad": (d: ConvData) => {
      const [x, w, g] = [arr(d.x), arr(d.w), arr(d.g)];
      const loss = (x: ArrayBase, w: ArrayBase) => np.sum(np.multiply(lax.convGeneralDilated(x, w, [1, 1], "SAME"), g));
      const f = compile(valueAndGrad(loss, { argnums: [0, 1] }));
      return {
        run: () => f(x, w),
        outputs: () => {
          const [v, [gx, gw]] = f(x, w) as [ArrayBase, [ArrayBase, ArrayBase]];
          return [v.item(), host(gx), host(gw)];
        },
      };
    },
    "W8.add": eager(np.add),
    "W8.exp": eager((x) => np.exp(x)),
    "W8.sum": eager((x) => np.sum(x)),
    "W8.add-small": eager(np.add),
    "W8.exp-small": eager((x) => np.exp(x)),
    "W8.sum-small": eager((x) => np.sum(x)),
  };
};

export const cotangentSystem = (variant: CotangentVariant): System => {
  let threads = 1;
  return {
    name: variant.name,
    peer: false,
    // The worker pool starts before anything is timed.
    setup: async () => {
      if (variant.threads !== undefined) setThreads(variant.threads);
      threads = await threadsReady();
    },
    describe: () => `Cotangent ${variant.note ?? "eager interpreter"}, kernels on ${threads} thread(s) (docs/performance.md#the-kernel-layer)`,
    cases: cotangentCases(variant.compile),
  };
};

export default cotangentSystem({ name: "cotangent", compile: (f) => f });
