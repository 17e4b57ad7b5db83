/**
 * jax-js 0.1.25 on its wasm device. jax-js counts references: every function consumes its
 * array arguments, so inputs are passed as `x.ref` and results disposed after
 * `blockUntilReady` (its ops are lazy: the wait is inside the timing). Each timed function
 * takes all its arrays as arguments, so the `jax-js-jit` variant can wrap it in `jit`.
 * Node 20 has no global `Worker`, so jax-js runs on one thread here.
 */
import { type Array as JArray, blockUntilReady, defaultDevice, grad, init, jit, jvp, lax, nn, numpy as np, tree, valueAndGrad, vmap } from "@jax-js/jax";
import type { ConvData, EagerData, MatmulData, MlpData, PolySinData, TanhData, Tensor } from "../workloads.js";
import { type CaseImpl, type Runner, type System, unsupported } from "./system.js";

type Fn = (...args: any[]) => any;

const arr = (t: Tensor): JArray => {
  const dtype = t.data instanceof Float64Array ? np.float64 : t.data instanceof Int32Array ? np.int32 : np.float32;
  return np.array(t.data, { dtype }).reshape(t.shape);
};
/** Reads an array back without giving up the caller's reference. */
const host = (a: JArray): ArrayLike<number> => {
  const out = Float64Array.from(a.ref.dataSync() as ArrayLike<number>);
  a.dispose();
  return out;
};

const mlpForward = (params: JArray[], x: JArray): JArray => {
  let h = x;
  for (let l = 0; l < params.length; l += 2) {
    h = np.matmul(h, params[l]!).add(params[l + 1]!);
    if (l + 2 < params.length) h = nn.relu(h);
  }
  return h;
};
/** Mean softmax cross-entropy against one-hot labels (each argument used once, as jax-js wants). */
const mlpLoss = (params: JArray[], x: JArray, onehot: JArray): JArray => np.sum(nn.logSoftmax(mlpForward(params, x), -1).mul(onehot)).mul(-1 / x.shape[0]!);
const oneHot = (labels: Int32Array, classes: number): Tensor => {
  const data = new Float32Array(labels.length * classes);
  labels.forEach((y, i) => (data[i * classes + y] = 1));
  return { data, shape: labels.length === 1 ? [classes] : [labels.length, classes] };
};

/** A runner for `f(...inputs)`: inputs passed by `.ref`, the result awaited and disposed. */
const runner = (f: Fn, inputs: JArray[], toOutputs: (result: any) => Runner["outputs"] extends () => infer O ? O : never): Runner => ({
  run: async () => tree.dispose(await blockUntilReady(f(...inputs.map((a) => a.ref)))),
  outputs: () => toOutputs(f(...inputs.map((a) => a.ref))),
});

const cases = (compile: (f: Fn) => Fn, isJit: boolean): Record<string, CaseImpl | string> => {
  const one = (op: Fn): CaseImpl => (d: MatmulData | EagerData) => {
    const inputs = "a" in d ? [arr(d.a), arr(d.b)] : [arr(d.x), arr(d.y)];
    const f = compile(op);
    return runner(f, inputs, (r) => [host(r)]);
  };
  const polySin = (x: JArray) => np.sum(np.sin(x.ref).mul(np.power(x, 3)));
  const tanhSum = (x: JArray) => np.sum(np.tanh(x.mul(0.5).add(0.1)));
  /** W3's step; `returnGrads`: the timed step also returns the gradients (the check always gets them). */
  const adamStep = (returnGrads: boolean) => (d: MlpData) => {
    const [b1, b2] = [0.9, 0.999];
    // Adam written out (Optax's update rule); the bias corrections come in as arrays so a jitted step is traced once.
    // Outputs [loss, params, m, v] and, with withGrads, the gradients last.
    const stepOf = (withGrads: boolean) =>
      compile((params: JArray[], m: JArray[], v: JArray[], x: JArray, onehot: JArray, c1: JArray, c2: JArray) => {
        const [loss, grads] = valueAndGrad(mlpLoss)(tree.ref(params), x, onehot) as [JArray, JArray[]];
        const m2 = m.map((mi, i) => mi.mul(b1).add(grads[i]!.ref.mul(1 - b1)));
        // Not returned, a gradient's last use consumes it.
        const v2 = v.map((vi, i) => vi.mul(b2).add(np.square(withGrads ? grads[i]!.ref : grads[i]!).mul(1 - b2)));
        const p2 = params.map((p, i) => p.sub(m2[i]!.ref.div(c1.ref).mul(d.lr).div(np.sqrt(v2[i]!.ref.div(c2.ref)).add(d.eps))));
        c1.dispose();
        c2.dispose();
        return withGrads ? [loss, p2, m2, v2, grads] : [loss, p2, m2, v2];
      });
    const step = stepOf(returnGrads);
    const checked = returnGrads ? step : stepOf(true);
    const [x, onehot] = [arr(d.x), arr(oneHot(d.y.data as Int32Array, d.sizes.at(-1)!))];
    const zeros = () => d.params.map((p) => np.zeros(p.shape));
    type State = { params: JArray[]; m: JArray[]; v: JArray[]; t: number };
    const first = (state: State, f: typeof step) => {
      state.t++;
      const out = f(state.params, state.m, state.v, x.ref, onehot.ref, np.array(1 - b1 ** state.t), np.array(1 - b2 ** state.t));
      [state.params, state.m, state.v] = [out[1], out[2], out[3]];
      return out;
    };
    const timed: State = { params: d.params.map(arr), m: zeros(), v: zeros(), t: 0 };
    return {
      run: async () => {
        const out = first(timed, step);
        await blockUntilReady([timed.params, timed.m, timed.v]);
        tree.dispose([out[0], ...(returnGrads ? [out[4]] : [])]);
      },
      outputs: () => {
        const s: State = { params: d.params.map(arr), m: zeros(), v: zeros(), t: 0 };
        const out = first(s, checked);
        return [host(out[0])[0]!, ...(out[4] as JArray[]).map(host), ...s.params.map(host)];
      },
    };
  };
  return {
    "W1.f32-512": one(np.matmul),
    "W1.f32-1024": one(np.matmul),
    "W1.f64-512": one(np.matmul),
    "W2.fwd": (d: TanhData) => runner(compile(tanhSum), [arr(d.x)], (r) => [host(r)[0]!]),
    "W2.fwd-grad": (d: TanhData) => runner(compile(valueAndGrad(tanhSum)), [arr(d.x)], ([v, g]) => [host(v)[0]!, host(g)]),
    "W3.adam-step": adamStep(false),
    "W3.adam-step-grads": adamStep(true),
    "W4.grad": (d: PolySinData) => runner(compile(grad(polySin)), [arr(d.x)], (r) => [host(r)]),
    "W4.hvp-rev-rev": (d: PolySinData) =>
      runner(
        compile((x: JArray, v: JArray) => grad((x: JArray) => np.sum(grad(polySin)(x).mul(v)))(x)),
        [arr(d.x), arr(d.v)],
        (r) => [host(r)],
      ),
    "W4.hvp-fwd-rev": (d: PolySinData) =>
      runner(
        compile((x: JArray, v: JArray) => {
          const [primal, tangent] = jvp(grad(polySin), [x], [v]);
          primal.dispose();
          return tangent;
        }),
        [arr(d.x), arr(d.v)],
        (r) => [host(r)],
      ),
    "W5.per-example": (d: MlpData) => {
      const single = (params: JArray[], x: JArray, onehot: JArray) => np.sum(nn.logSoftmax(mlpForward(params, x), -1).mul(onehot)).mul(-1);
      const f = compile((...a: JArray[]) => vmap(grad(single), [null, 0, 0])(a.slice(0, -2), a.at(-2)!, a.at(-1)!));
      return runner(f, [...d.params.map(arr), arr(d.x), arr(oneHot(d.y.data as Int32Array, d.sizes.at(-1)!))], (r: JArray[]) => r.map(host));
    },
    "W6.plain": unsupported("Cotangent only"),
    "W6.checkpoint": unsupported("Cotangent only"),
    "W7.fwd": (d: ConvData) => runner(compile((x: JArray, w: JArray) => lax.conv(x, w, [1, 1], "SAME")), [arr(d.x), arr(d.w)], (r) => [host(r)]),
    "W7.fwd-grad": (d: ConvData) => {
      const loss = (x: JArray, w: JArray, g: JArray) => np.sum(lax.conv(x, w, [1, 1], "SAME").mul(g));
      return runner(compile(valueAndGrad(loss, { argnums: [0, 1] })), [arr(d.x), arr(d.w), arr(d.g)], ([v, [gx, gw]]) => [host(v)[0]!, host(gx), host(gw)]);
    },
    ...(isJit
      ? Object.fromEntries(["W1.f32-512", "W1.f32-1024", "W1.f64-512", "W8.add", "W8.exp", "W8.sum", "W8.add-small", "W8.exp-small", "W8.sum-small"].map((id) => [id, unsupported("one op: see jax-js (eager)")]))
      : {
          "W8.add": one(np.add),
          "W8.exp": one((x: JArray, y: JArray) => (y.dispose(), np.exp(x))),
          "W8.sum": one((x: JArray, y: JArray) => (y.dispose(), np.sum(x))),
          "W8.add-small": one(np.add),
          "W8.exp-small": one((x: JArray, y: JArray) => (y.dispose(), np.exp(x))),
          "W8.sum-small": one((x: JArray, y: JArray) => (y.dispose(), np.sum(x))),
        }),
  };
};

export const jaxjsSystem = (isJit: boolean): System => ({
  name: isJit ? "jax-js-jit" : "jax-js",
  peer: true,
  setup: async () => {
    await init("cpu", "wasm");
    defaultDevice("wasm");
  },
  describe: () => `jax-js 0.1.25 wasm device${isJit ? ", each timed function under jit" : ", eager"}; 1 thread (Node 20 has no global Worker)`,
  cases: cases(isJit ? (f) => jit(f) : (f) => f, isJit),
});
