/**
 * TensorFlow.js 4.22 (tfjs-core with the wasm backend, XNNPACK, or the plain-JS cpu backend).
 * Every run is wrapped in `tf.tidy` and its outputs disposed, as a TF.js user would write it.
 * The wasm backend only takes NHWC convolutions: W7's data is transposed to NHWC / HWIO once,
 * outside the timing, and the outputs back to NCHW / OIHW for the check.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import type { ConvData, EagerData, MatmulData, MlpData, PolySinData, TanhData, Tensor } from "../workloads.js";
import { type CaseImpl, type Runner, type System, unsupported } from "./system.js";

const tensor = (t: Tensor) => tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.data instanceof Int32Array ? "int32" : "float32");
const host = (t: tf.Tensor) => t.dataSync() as ArrayLike<number>;
/** A runner timing `f` inside tf.tidy and disposing what it returns. */
const tidyRunner = (f: () => tf.TensorContainer, outputs: () => Runner["outputs"] extends () => infer O ? O : never): Runner => ({
  run: () => tf.dispose(tf.tidy(f) as tf.Tensor),
  outputs,
});

const mlpLoss = (params: tf.Tensor[], x: tf.Tensor, onehot: tf.Tensor): tf.Scalar => {
  let h = x;
  for (let l = 0; l < params.length; l += 2) {
    h = tf.add(tf.matMul(h, params[l]!), params[l + 1]!);
    if (l + 2 < params.length) h = tf.relu(h);
  }
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(h), onehot), -1))) as tf.Scalar;
};

const cases = (backend: "wasm" | "cpu"): Record<string, CaseImpl | string> => {
  const matmul: CaseImpl = (d: MatmulData) => {
    const [a, b] = [tensor(d.a), tensor(d.b)];
    return tidyRunner(() => tf.matMul(a, b), () => [host(tf.matMul(a, b))]);
  };
  const polySin = (x: tf.Tensor) => tf.sum(tf.mul(tf.sin(x), tf.pow(x, 3)));
  const eager = (op: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): CaseImpl => (d: EagerData) => {
    const [x, y] = [tensor(d.x), tensor(d.y)];
    return tidyRunner(() => op(x, y), () => [host(op(x, y))]);
  };
  const nchw = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]);
  const convInputs = (d: ConvData) => ({ x: tf.transpose(tensor(d.x), [0, 2, 3, 1]), w: tf.transpose(tensor(d.w), [2, 3, 1, 0]), g: tf.transpose(tensor(d.g), [0, 2, 3, 1]) });
  /** W3's Adam step (variableGrads + applyGradients). */
  const tfAdamStep = (d: MlpData): Runner => {
    const [x, onehot] = [tensor(d.x), tf.oneHot(tensor(d.y) as tf.Tensor1D, d.sizes.at(-1)!)];
    const fresh = () => {
      const vars = d.params.map((p, i) => tf.variable(tensor(p), true, `p${i}_${Math.random()}`));
      const opt = tf.train.adam(d.lr, 0.9, 0.999, d.eps);
      const step = () => {
        const { value, grads } = tf.variableGrads(() => mlpLoss(vars, x, onehot), vars);
        opt.applyGradients(grads as never);
        return { value, grads: vars.map((v) => grads[v.name]!) };
      };
      return { vars, step };
    };
    const timed = fresh();
    return {
      run: () => tf.dispose(tf.tidy(() => timed.step().value)),
      outputs: () => {
        const { vars, step } = fresh();
        const { value, grads } = step();
        return [host(value)[0]!, ...grads.map(host), ...vars.map(host)];
      },
    };
  };
  const all: Record<string, CaseImpl | string> = {
    "W1.f32-512": matmul,
    "W1.f32-1024": matmul,
    "W1.f64-512": unsupported("TF.js has no float64"),
    "W2.fwd": (d: TanhData) => {
      const x = tensor(d.x);
      const f = (x: tf.Tensor) => tf.sum(tf.tanh(tf.add(tf.mul(x, 0.5), 0.1)));
      return tidyRunner(() => f(x), () => [host(f(x))[0]!]);
    },
    "W2.fwd-grad": (d: TanhData) => {
      const x = tensor(d.x);
      const f = tf.valueAndGrad((x: tf.Tensor) => tf.sum(tf.tanh(tf.add(tf.mul(x, 0.5), 0.1))));
      return tidyRunner(
        () => {
          const { value, grad } = f(x);
          return [value, grad];
        },
        () => {
          const { value, grad } = f(x);
          return [host(value)[0]!, host(grad)];
        },
      );
    },
    // TF.js frees the gradients inside the step (tidy): returning them costs it nothing, so both W3 cases are this one.
    "W3.adam-step": (d: MlpData) => tfAdamStep(d),
    "W3.adam-step-grads": (d: MlpData) => tfAdamStep(d),
    "W4.grad": (d: PolySinData) => {
      const x = tensor(d.x);
      const g = tf.grad(polySin);
      return tidyRunner(() => g(x), () => [host(g(x))]);
    },
    "W4.hvp-rev-rev": (d: PolySinData) => {
      const [x, v] = [tensor(d.x), tensor(d.v)];
      const hvp = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grad(polySin)(x), v)));
      return tidyRunner(() => hvp(x), () => [host(hvp(x))]);
    },
    "W4.hvp-fwd-rev": unsupported("TF.js has no forward mode (jvp)"),
    "W5.per-example": (d: MlpData) => {
      // TF.js has no vmap: a loop of tf.grads, one example at a time (examples sliced beforehand).
      const params = d.params.map(tensor);
      const C = d.sizes.at(-1)!;
      const xs = Array.from({ length: d.batch }, (_, e) => tf.tensor(d.x.data.subarray(e * 784, (e + 1) * 784) as Float32Array, [1, 784]));
      const ys = Array.from({ length: d.batch }, (_, e) => tf.oneHot(tf.tensor1d([d.y.data[e]!], "int32"), C));
      const g = (e: number) => tf.grads((...p: tf.Tensor[]) => mlpLoss(p, xs[e]!, ys[e]!))(params);
      return tidyRunner(
        () => xs.flatMap((_, e) => g(e)),
        () => {
          const per = xs.map((_, e) => g(e).map(host));
          return params.map((_, i) => Float64Array.from(per.flatMap((p) => Array.from(p[i]!))));
        },
      );
    },
    "W6.plain": unsupported("Cotangent only"),
    "W6.checkpoint": unsupported("Cotangent only"),
    "W7.fwd": (d: ConvData) => {
      const { x, w } = convInputs(d);
      return tidyRunner(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"), () => [host(nchw(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same")))]);
    },
    "W7.fwd-grad": (d: ConvData) => {
      const { x, w, g } = convInputs(d);
      const f = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"), g)));
      return tidyRunner(
        () => {
          const { value, grads } = f([x, w]);
          return [value, ...grads];
        },
        () => {
          const { value, grads } = f([x, w]);
          return [host(value)[0]!, host(nchw(grads[0]!)), host(tf.transpose(grads[1]!, [3, 2, 0, 1]))];
        },
      );
    },
    "W8.add": eager(tf.add),
    "W8.exp": eager((x) => tf.exp(x)),
    "W8.sum": eager((x) => tf.sum(x)),
    "W8.add-small": eager(tf.add),
    "W8.exp-small": eager((x) => tf.exp(x)),
    "W8.sum-small": eager((x) => tf.sum(x)),
  };
  if (backend === "wasm") return all;
  // The cpu backend runs only what the wasm backend cannot: the convolution's kernel gradient.
  return Object.fromEntries(Object.entries(all).map(([id, impl]) => [id, id === "W7.fwd-grad" ? impl : unsupported("cpu backend run for W7 forward + grad only")]));
};

export const tfjsSystem = (backend: "wasm" | "cpu", wasmDir?: string): System => {
  let threads = "1 thread";
  return {
    name: `tfjs-${backend}`,
    peer: true,
    setup: async () => {
      if (backend === "wasm") {
        const wasm = await import("@tensorflow/tfjs-backend-wasm");
        // Bundled, the backend cannot find its .wasm files next to itself: the loader says where they are.
        if (wasmDir) wasm.setWasmPaths(wasmDir);
        await tf.setBackend("wasm");
        await tf.ready();
        threads = `${wasm.getThreadsCount()} thread(s), SIMD ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "on" : "off"}`;
      } else {
        await tf.setBackend("cpu");
        await tf.ready();
      }
    },
    describe: () => `TensorFlow.js ${tf.version_core} ${backend} backend${backend === "wasm" ? " (XNNPACK)" : " (plain JS)"}, ${threads}`,
    cases: cases(backend),
  };
};
