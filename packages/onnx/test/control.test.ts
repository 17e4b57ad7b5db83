/**
 * Control flow (cond/switch -> If, scan -> Loop, while -> Loop), inlined call-like
 * primitives (checkpoint, customJvp, customVjp), and the gradient jaxprs through them:
 * each exported model, run on onnxruntime-node, agrees with the interpreter.
 */
import { type ArrayBase, type DType, checkpoint, customJvp, customVjp, debug, grad, jit, lax, np, valueAndGrad, vmap } from "@cotangent/core";
import { describe, it } from "vitest";
import { rng, uniformArray } from "./cases.js";
import { checkOnnx } from "./harness.js";

const DTYPES: DType[] = ["float32", "float64"];

const condFn = (p: ArrayBase, x: ArrayBase) => lax.cond(np.greater(np.sum(p), 0), (a: ArrayBase) => np.sin(a), (a: ArrayBase) => np.multiply(np.cos(a), a), x);
const switchFn = (i: ArrayBase, x: ArrayBase) => lax.switch(i, [(a: ArrayBase) => np.sin(a), (a: ArrayBase) => np.exp(a), (a: ArrayBase) => np.multiply(a, a)], x);
const scanFn = (w: ArrayBase, xs: ArrayBase) =>
  lax.scan((h: ArrayBase, x: ArrayBase) => {
    const nh = np.tanh(np.add(np.matmul(h, w), x));
    return [nh, np.sum(nh)];
  }, np.zerosLike(np.sum(xs, { axis: 0 })), xs);
const scanLoss = (w: ArrayBase, xs: ArrayBase) => {
  const [h, ys] = scanFn(w, xs) as [ArrayBase, ArrayBase];
  return np.add(np.sum(np.multiply(h, h)), np.sum(ys));
};
const reverseScan = (xs: ArrayBase) => lax.scan((c: ArrayBase, x: ArrayBase) => [np.add(np.multiply(c, 0.5), x), np.multiply(c, x)], np.zerosLike(np.sum(xs, { axis: 0 })), xs, { reverse: true });
const whileFn = (x: ArrayBase) => lax.whileLoop((c: [ArrayBase, ArrayBase]) => np.less(np.sum(c[1]), 20), (c: [ArrayBase, ArrayBase]): [ArrayBase, ArrayBase] => [np.add(c[0], 1), np.add(np.multiply(c[1], 1.5), 0.25)], [np.array(0, { dtype: "int32" }), x]);
const foriFn = (x: ArrayBase) => lax.foriLoop(0, 4, (i: ArrayBase, v: ArrayBase) => np.add(np.sin(v), np.astype(i, v.dtype)), x);

const softplus = customJvp((x: ArrayBase) => np.log1p(np.exp(x)));
softplus.defJvp(([x]: ArrayBase[], [t]: ArrayBase[]) => [softplus(x!), np.multiply(t!, lax.logistic(x!))]);
const clipGrad = customVjp((x: ArrayBase) => np.sin(x));
clipGrad.defVjp((x: ArrayBase) => [np.sin(x), x], (x: ArrayBase, ct: ArrayBase) => [np.clip(np.multiply(ct, np.cos(x)), -0.5, 0.5)]);

describe("control flow and inlined calls agree with the interpreter on onnxruntime-node", () => {
  for (const d of DTYPES) {
    const r = rng(d === "float32" ? 1 : 2);
    const x = uniformArray(r, [3, 4], -1, 1, d);
    const w = uniformArray(r, [4, 4], -0.5, 0.5, d);
    const xs = uniformArray(r, [5, 2, 4], -1, 1, d);
    it(`cond, both branches (${d})`, async () => {
      await checkOnnx(condFn, [np.ones([2], { dtype: d }), x]);
      await checkOnnx(condFn, [np.negative(np.ones([2], { dtype: d })), x]);
    });
    it(`switch with a clamped index (${d})`, async () => {
      for (const i of [-3, 0, 1, 2, 7]) await checkOnnx(switchFn, [np.array(i, { dtype: "int32" }), x]);
    });
    it(`grad through cond (${d})`, async () => {
      await checkOnnx(grad((p: ArrayBase, a: ArrayBase) => np.sum(condFn(p, a))), [np.ones([2], { dtype: d }), x], { rtol: d === "float32" ? 1e-5 : 1e-12 });
      await checkOnnx(grad((p: ArrayBase, a: ArrayBase) => np.sum(condFn(p, a)), { argnums: 1 }), [np.negative(np.ones([2], { dtype: d })), x]);
    });
    it(`scan and reverse scan (${d})`, async () => {
      await checkOnnx(scanFn, [w, xs]);
      await checkOnnx(reverseScan, [xs]);
    });
    it(`grad through scan (${d})`, async () => {
      await checkOnnx(valueAndGrad(scanLoss, { argnums: [0, 1] }), [w, xs]);
    });
    it(`whileLoop and foriLoop (${d})`, async () => {
      await checkOnnx(whileFn, [np.abs(x)]);
      await checkOnnx(foriFn, [x]);
    });
    it(`checkpoint, customJvp and customVjp are inlined, with their gradients (${d})`, async () => {
      const f = (a: ArrayBase) => np.sum(checkpoint((b: ArrayBase) => np.sin(np.sin(b)))(softplus(clipGrad(a))));
      await checkOnnx(f, [x]);
      await checkOnnx(grad(f), [x]);
    });
    it(`jit is inlined, also under grad; debug.print is dropped (${d})`, async () => {
      const f = jit((a: ArrayBase) => {
        debug.print("norm {}", np.sum(np.multiply(a, a)));
        return np.sum(np.tanh(np.matmul(a, w)));
      });
      const printed: unknown[] = [];
      const log = console.log;
      console.log = (...m: unknown[]) => void printed.push(m);
      try {
        await checkOnnx(f, [x]);
        await checkOnnx(grad(f), [x]);
      } finally {
        console.log = log;
      }
    });
    it(`vmap of grad (per-example gradients) (${d})`, async () => {
      await checkOnnx(vmap(grad((a: ArrayBase, b: ArrayBase) => np.sum(np.tanh(np.matmul(b, a)))), { inAxes: [null, 0] }), [w, x]);
    });
  }
});
