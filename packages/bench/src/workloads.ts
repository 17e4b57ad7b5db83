/**
 * The workloads W1..W8 of issue 9, as data every system shares: each case's inputs (from the
 * seeded generator), its unit, how it is timed, and how its result is checked against the
 * plain references. A system implements a case by id (see `systems/`); the outputs it hands
 * back for the check follow the order documented on each case.
 */
import { Rng, seedOf } from "./data.js";
import { CheckError, adamFirstStep, conv2d, conv2dGrads, expectClose, matmulEntry, mlpLossAndGrad, type ConvDims } from "./reference.js";

export interface Tensor {
  data: Float32Array | Float64Array | Int32Array;
  shape: number[];
}

/** What a system hands back for the check: arrays (any typed array) or plain numbers. */
export type Output = ArrayLike<number> | number;

export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5" | "W6" | "W7" | "W8";

/**
 * How a case is timed: `repeat` runs it until `samples` runs or the time budget; `steps` takes
 * a fixed number of runs after a warm-up (W3's 100 Adam steps after 5); `value` is measured
 * once and is not a time (W6's peak bytes).
 */
export type Timing = { kind: "repeat" } | { kind: "steps"; warmup: number; steps: number; quickWarmup: number; quickSteps: number } | { kind: "value" };

export interface CaseSpec<D = any> {
  id: string;
  workload: WorkloadId;
  label: string;
  /** GFLOP/s cases are timed in ms and shown as a rate from `flops`. */
  unit: "GFLOP/s" | "ms" | "MiB";
  flops?: number;
  timing: Timing;
  data: (quick: boolean) => D;
  verify: (out: Output[], data: D) => void;
}

const f32 = (x: ArrayLike<number>) => Float32Array.from(x);
const t32 = (x: ArrayLike<number>, shape: number[]): Tensor => ({ data: f32(x), shape });
const memo = <D>(make: (quick: boolean) => D) => {
  const cache = new Map<boolean, D>();
  return (quick: boolean): D => {
    if (!cache.has(quick)) cache.set(quick, make(quick));
    return cache.get(quick)!;
  };
};
const arr = (o: Output | undefined, what: string): ArrayLike<number> => {
  if (o === undefined) throw new CheckError(`${what}: missing from the outputs`);
  return typeof o === "number" ? [o] : o;
};
const num = (o: Output | undefined, what: string): number => arr(o, what)[0]!;

// --- W1: matmul ---------------------------------------------------------------------------
export interface MatmulData {
  n: number;
  dtype: "float32" | "float64";
  a: Tensor;
  b: Tensor;
}
const matmulCase = (n: number, dtype: "float32" | "float64"): CaseSpec<MatmulData> => {
  const id = `W1.${dtype === "float32" ? "f32" : "f64"}-${n}`;
  return {
    id,
    workload: "W1",
    label: `matmul ${dtype === "float32" ? "f32" : "f64"} ${n}³`,
    unit: "GFLOP/s",
    flops: 2 * n ** 3,
    timing: { kind: "repeat" },
    data: memo(() => {
      const r = new Rng(seedOf(`W1-${n}`));
      const cast = dtype === "float32" ? f32 : (x: Float64Array) => x;
      return { n, dtype, a: { data: cast(r.normal(n * n)), shape: [n, n] }, b: { data: cast(r.normal(n * n)), shape: [n, n] } };
    }),
    // Outputs: [C] row-major. Checked at 256 seeded positions against a float64 dot product.
    verify: (out, d) => {
      const c = arr(out[0], "C");
      if (c.length !== n * n) throw new CheckError(`C has ${c.length} elements, expected ${n * n}`);
      const r = new Rng(7);
      const tol = dtype === "float32" ? { rtol: 1e-3, atol: 1e-3 * Math.sqrt(n) } : { rtol: 1e-10, atol: 1e-10 };
      for (let s = 0; s < 256; s++) {
        const i = Math.floor(r.uniform(1)[0]! * n);
        const j = Math.floor(r.uniform(1)[0]! * n);
        expectClose(`C[${i}, ${j}]`, c[i * n + j]!, matmulEntry(d.a.data, d.b.data, n, n, i, j), tol);
      }
    },
  };
};

// --- W2: sum(tanh(0.5x + 0.1)) ------------------------------------------------------------
export interface TanhData {
  x: Tensor;
}
const tanhData = memo((): TanhData => ({ x: t32(new Rng(seedOf("W2")).normal(1e6), [1e6]) }));
const tanhRef = (x: ArrayLike<number>) => {
  let s = 0;
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const t = Math.tanh(0.5 * x[i]! + 0.1);
    s += t;
    g[i] = 0.5 * (1 - t * t);
  }
  return { s, g };
};

// --- MLPs (W3, W5) ------------------------------------------------------------------------
export interface MlpData {
  sizes: number[];
  /** [w0, b0, w1, b1, ...]: weights [in, out] (He-normal), biases [out] (small normal). */
  params: Tensor[];
  x: Tensor;
  y: Tensor;
  batch: number;
  lr: number;
  eps: number;
}
const mlpData = (seed: string, sizes: number[], batch: number): MlpData => {
  const r = new Rng(seedOf(seed));
  const params: Tensor[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    params.push(t32(r.normal(sizes[l]! * sizes[l + 1]!, Math.sqrt(2 / sizes[l]!)), [sizes[l]!, sizes[l + 1]!]));
    params.push(t32(r.normal(sizes[l + 1]!, 0.01), [sizes[l + 1]!]));
  }
  return { sizes, params, x: t32(r.uniform(batch * sizes[0]!), [batch, sizes[0]!]), y: { data: r.labels(batch, sizes.at(-1)!), shape: [batch] }, batch, lr: 1e-3, eps: 1e-8 };
};
const mlpRef = (d: MlpData, params: Tensor[] = d.params) => ({
  sizes: d.sizes,
  w: params.filter((_, i) => i % 2 === 0).map((t) => t.data),
  b: params.filter((_, i) => i % 2 === 1).map((t) => t.data),
});

// --- W4: f(x) = sum(sin(x)·x³) ------------------------------------------------------------
export interface PolySinData {
  x: Tensor;
  v: Tensor;
}
const polySinData = memo((): PolySinData => {
  const r = new Rng(seedOf("W4"));
  return { x: t32(r.uniform(1000, -2, 2), [1000]), v: t32(r.normal(1000), [1000]) };
});
/** f'(x) = cos(x)x³ + 3x² sin(x); f''(x) = -x³ sin x + 6x² cos x + 6x sin x (f is a sum of scalar terms, so H is diagonal). */
const polySinGrad = (x: number) => Math.cos(x) * x ** 3 + 3 * x * x * Math.sin(x);
const polySinHess = (x: number) => -(x ** 3) * Math.sin(x) + 6 * x * x * Math.cos(x) + 6 * x * Math.sin(x);

// --- W6: residual MLP, plain vs checkpointed gradient (Cotangent only) ---------------------
export interface ResidualData {
  depth: number;
  width: number;
  hidden: number;
  batch: number;
  /** Per block [w1 [width, hidden], w2 [hidden, width]]. */
  blocks: [Tensor, Tensor][];
  x: Tensor;
}
const residualData = memo((quick: boolean): ResidualData => {
  const [depth, width, hidden, batch] = [16, 256, 1024, quick ? 64 : 512];
  const r = new Rng(seedOf("W6"));
  const blocks: [Tensor, Tensor][] = [];
  for (let i = 0; i < depth; i++) blocks.push([t32(r.normal(width * hidden, 1 / Math.sqrt(width)), [width, hidden]), t32(r.normal(hidden * width, 1 / Math.sqrt(hidden)), [hidden, width])]);
  return { depth, width, hidden, batch, blocks, x: t32(r.normal(batch * width), [batch, width]) };
});
const residualCase = (variant: "plain" | "checkpoint"): CaseSpec<ResidualData> => ({
  id: `W6.${variant}`,
  workload: "W6",
  label: `peak bytes, grad of 16-block residual MLP, ${variant === "plain" ? "plain" : "checkpoint per block"}`,
  unit: "MiB",
  timing: { kind: "value" },
  data: residualData,
  // Outputs: [this variant's gradient leaves, flattened and concatenated; the other variant's].
  // The plain reference is the gradient without checkpointing: both must agree.
  verify: (out) => {
    const a = arr(out[0], "gradient");
    const b = arr(out[1], "other variant's gradient");
    let scale = 0;
    for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
    expectClose("gradient, checkpointed vs plain", a, b, { rtol: 1e-4, atol: 1e-5 * scale });
  },
});

// --- W7: convolution ----------------------------------------------------------------------
export interface ConvData {
  dims: ConvDims;
  /** NCHW [32, 3, 32, 32]. */
  x: Tensor;
  /** OIHW [32, 3, 3, 3]. */
  w: Tensor;
  /** The cotangent g of the loss sum(conv(x, w) ⊙ g), NCHW [32, 32, 32, 32]. */
  g: Tensor;
}
const convData = memo((): ConvData => {
  const dims = { n: 32, c: 3, h: 32, w: 32, o: 32, k: 3 };
  const r = new Rng(seedOf("W7"));
  return {
    dims,
    x: t32(r.normal(32 * 3 * 32 * 32), [32, 3, 32, 32]),
    w: t32(r.normal(32 * 3 * 9, 0.2), [32, 3, 3, 3]),
    g: t32(r.normal(32 * 32 * 32 * 32), [32, 32, 32, 32]),
  };
});
const convRef = (() => {
  let cache: { y: Float64Array; gx: Float64Array; gw: Float64Array; loss: number } | undefined;
  return (d: ConvData) => {
    if (!cache) {
      const y = conv2d(d.dims, d.x.data, d.w.data);
      let loss = 0;
      for (let i = 0; i < y.length; i++) loss += y[i]! * d.g.data[i]!;
      cache = { y, loss, ...conv2dGrads(d.dims, d.x.data, d.w.data, d.g.data) };
    }
    return cache;
  };
})();

// --- W8: eager ops ------------------------------------------------------------------------
export interface EagerData {
  x: Tensor;
  y: Tensor;
}
const eagerData = (n: number) =>
  memo((): EagerData => {
    const r = new Rng(seedOf(`W8-${n}`));
    return { x: t32(r.normal(n), [n]), y: t32(r.normal(n), [n]) };
  });
const eagerCases = (n: number, suffix: string, sizeLabel: string): CaseSpec<EagerData>[] => {
  const data = eagerData(n);
  return [
    { id: `W8.add${suffix}`, workload: "W8", label: `np.add ${sizeLabel} f32`, unit: "ms", timing: { kind: "repeat" }, data, verify: (out, d) => expectClose("x + y", arr(out[0], "z"), Array.from(d.x.data, (v, i) => v + d.y.data[i]!), { rtol: 1e-6, atol: 1e-6 }) },
    { id: `W8.exp${suffix}`, workload: "W8", label: `np.exp ${sizeLabel} f32`, unit: "ms", timing: { kind: "repeat" }, data, verify: (out, d) => expectClose("exp(x)", arr(out[0], "z"), Array.from(d.x.data, Math.exp), { rtol: 1e-5, atol: 1e-6 }) },
    {
      id: `W8.sum${suffix}`,
      workload: "W8",
      label: `np.sum ${sizeLabel} f32`,
      unit: "ms",
      timing: { kind: "repeat" },
      data,
      verify: (out, d) => expectClose("sum(x)", num(out[0], "s"), Array.from(d.x.data).reduce((a, b) => a + b, 0), { rtol: 1e-4, atol: 1e-3 * Math.sqrt(n) }),
    },
  ];
};

// --- The list -----------------------------------------------------------------------------
const w3 = memo(() => mlpData("W3", [784, 256, 256, 10], 128));
const w5 = memo(() => mlpData("W5", [784, 64, 10], 64));

/**
 * W3's cases. `W3.adam-step` times the step a training loop runs: it returns the loss, the
 * new parameters and the new optimizer state. `W3.adam-step-grads` times the same step also
 * handing its gradients back to the caller (to log their norms, say). Both are checked the
 * same way, through a variant of the step that returns the gradients: the outputs are one
 * step from the initial params (Adam lr 1e-3, eps 1e-8, β 0.9/0.999): [loss, grads of w0, b0,
 * w1, b1, w2, b2, then the updated w0, b0, w1, b1, w2, b2].
 */
const w3Case = (id: string, label: string): CaseSpec<MlpData> => ({
  id,
  workload: "W3",
  label,
  unit: "ms",
  timing: { kind: "steps", warmup: 5, steps: 100, quickWarmup: 2, quickSteps: 10 },
  data: w3,
  verify: (out, d) => {
    const ref = mlpLossAndGrad(mlpRef(d), d.x.data, d.y.data, d.batch);
    expectClose("loss", num(out[0], "loss"), ref.loss, { rtol: 1e-4 });
    const grads = d.params.map((_, i) => (i % 2 === 0 ? ref.dw[i / 2]! : ref.db[(i - 1) / 2]!));
    grads.forEach((g, i) => expectClose(`gradient of param ${i}`, arr(out[1 + i], `gradient ${i}`), g, { rtol: 1e-3, atol: 1e-6 }));
    // Adam's first step is ≈ lr·sign(g): entries with |g| near eps may differ by a fraction of lr.
    d.params.forEach((p, i) => expectClose(`updated param ${i}`, arr(out[1 + d.params.length + i], `param ${i}`), adamFirstStep(p.data, grads[i]!, d.lr, d.eps), { rtol: 1e-5, atol: d.lr / 4 }));
  },
});

export const CASES: CaseSpec[] = [
  matmulCase(512, "float32"),
  matmulCase(1024, "float32"),
  matmulCase(512, "float64"),
  {
    id: "W2.fwd",
    workload: "W2",
    label: "sum(tanh(0.5x+0.1)), 1e6 f32, forward",
    unit: "ms",
    timing: { kind: "repeat" },
    data: tanhData,
    // Outputs: [value].
    verify: (out, d) => expectClose("value", num(out[0], "value"), tanhRef(d.x.data).s, { rtol: 1e-4, atol: 0.05 }),
  },
  {
    id: "W2.fwd-grad",
    workload: "W2",
    label: "sum(tanh(0.5x+0.1)), 1e6 f32, valueAndGrad",
    unit: "ms",
    timing: { kind: "repeat" },
    data: tanhData,
    // Outputs: [value, dvalue/dx].
    verify: (out, d) => {
      const ref = tanhRef(d.x.data);
      expectClose("value", num(out[0], "value"), ref.s, { rtol: 1e-4, atol: 0.05 });
      expectClose("gradient", arr(out[1], "gradient"), ref.g, { rtol: 1e-4, atol: 1e-6 });
    },
  },
  w3Case("W3.adam-step", "MLP 784-256-256-10 Adam step, batch 128"),
  w3Case("W3.adam-step-grads", "MLP 784-256-256-10 Adam step, batch 128, also returning the gradients"),
  {
    id: "W4.grad",
    workload: "W4",
    label: "grad of sum(sin(x)·x³), n=1000",
    unit: "ms",
    timing: { kind: "repeat" },
    data: polySinData,
    // Outputs: [gradient].
    verify: (out, d) => expectClose("gradient", arr(out[0], "gradient"), Array.from(d.x.data, polySinGrad), { rtol: 1e-4, atol: 1e-5 }),
  },
  ...(["rev-rev", "fwd-rev"] as const).map(
    (mode): CaseSpec<PolySinData> => ({
      id: `W4.hvp-${mode}`,
      workload: "W4",
      label: `HVP of sum(sin(x)·x³), n=1000, ${mode === "rev-rev" ? "reverse-over-reverse" : "forward-over-reverse"}`,
      unit: "ms",
      timing: { kind: "repeat" },
      data: polySinData,
      // Outputs: [H·v].
      verify: (out, d) => expectClose("H·v", arr(out[0], "H·v"), Array.from(d.x.data, (x, i) => polySinHess(x) * d.v.data[i]!), { rtol: 1e-4, atol: 1e-4 }),
    }),
  ),
  {
    id: "W5.per-example",
    workload: "W5",
    label: "per-example grads, vmap(grad) MLP 784-64-10 over 64",
    unit: "ms",
    timing: { kind: "repeat" },
    data: w5,
    // Outputs: the per-example gradients [dw0 [64, 784, 64], db0 [64, 64], dw1 [64, 64, 10], db1 [64, 10]].
    // Examples 0, 31 and 63 are checked against the reference on a batch of one.
    verify: (out, d: MlpData) => {
      const sizes = d.params.map((p) => p.data.length);
      for (const e of [0, 31, 63]) {
        const x = d.x.data.subarray(e * 784, (e + 1) * 784);
        const ref = mlpLossAndGrad(mlpRef(d), x, [d.y.data[e]!], 1);
        const want = [ref.dw[0]!, ref.db[0]!, ref.dw[1]!, ref.db[1]!];
        want.forEach((g, i) => {
          const all = arr(out[i], `gradient ${i}`);
          expectClose(`example ${e}, gradient of param ${i}`, Array.prototype.slice.call(all, e * sizes[i]!, (e + 1) * sizes[i]!), g, { rtol: 1e-3, atol: 1e-6 });
        });
      }
    },
  },
  residualCase("plain"),
  residualCase("checkpoint"),
  {
    id: "W7.fwd",
    workload: "W7",
    label: "conv NCHW 32×3×32×32, 3×3→32 SAME, forward",
    unit: "ms",
    timing: { kind: "repeat" },
    data: convData,
    // Outputs: [y, NCHW].
    verify: (out, d) => expectClose("y", arr(out[0], "y"), convRef(d).y, { rtol: 1e-4, atol: 1e-4 }),
  },
  {
    id: "W7.fwd-grad",
    workload: "W7",
    label: "conv NCHW 32×3×32×32, 3×3→32 SAME, forward + grad (input, kernel)",
    unit: "ms",
    timing: { kind: "repeat" },
    data: convData,
    // Outputs: [sum(y ⊙ g), d/dx (NCHW), d/dw (OIHW)].
    verify: (out, d) => {
      const ref = convRef(d);
      expectClose("loss", num(out[0], "loss"), ref.loss, { rtol: 1e-4, atol: 1 });
      expectClose("d/dx", arr(out[1], "d/dx"), ref.gx, { rtol: 1e-4, atol: 1e-4 });
      expectClose("d/dw", arr(out[2], "d/dw"), ref.gw, { rtol: 1e-4, atol: 1e-2 });
    },
  },
  ...eagerCases(1e6, "", "1e6"),
  ...eagerCases(100, "-small", "100"),
];

export const WORKLOADS: WorkloadId[] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"];

export const caseById = (id: string): CaseSpec => {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};
