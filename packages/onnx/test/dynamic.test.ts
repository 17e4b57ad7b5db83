/**
 * Dynamic axes: a model exported at one batch size runs at others on ONNX Runtime and
 * agrees with Cotangent there; an op whose lowering would be wrong at other sizes is a
 * typed error at export, never a wrong answer at run time.
 */
import { type ArrayBase, type NDArray, lax, np, random } from "@cotangent/core";
import { describe, expect, it } from "vitest";
import { OnnxExportError, runOnnx, toOnnx } from "../src/index.js";
import { type ModelProto, decodeModel } from "../src/proto/schema.js";
import { expectClose } from "./harness.js";

const [k1, k2, k3] = random.split(random.key(4), 3);
const params = { w1: random.normal(k1!, [6, 5]), b1: random.normal(k2!, [5]), w2: random.normal(k3!, [5, 3]) };
const mlp = (p: typeof params, x: ArrayBase) => np.matmul(np.tanh(np.add(np.matmul(x, p.w1), p.b1)), p.w2);
const infer = (x: ArrayBase) => {
  const y = np.sum(np.reshape(mlp(params, x), [x.shape[0]!, 3, 1]), { axis: 2 });
  return np.multiply(y, lax.broadcastInDim(np.sum(x, { axis: 1 }), y.shape, [0]));
};

describe("dynamic axes", () => {
  it("an MLP exported at batch 4 runs at batches 1, 4 and 9", async () => {
    const model = toOnnx(infer, np.ones([4, 6]), { dynamicAxes: { input: { 0: "batch" } } });
    const m = decodeModel(model) as ModelProto;
    expect(m.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: "batch" }, { dimValue: 6 }]);
    expect(m.graph!.output![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: "batch" }, { dimValue: 3 }]);
    for (const n of [1, 4, 9]) {
      const x = random.normal(random.key(n), [n, 6]);
      const [y] = await runOnnx(model, [x], { threads: 1 });
      expectClose(y!, infer(x) as NDArray, `batch ${n}`, 1e-5, true);
    }
  });
  it("a convolution over a dynamic batch", async () => {
    const w = random.normal(k1!, [4, 2, 3, 3]);
    const f = (x: ArrayBase) => np.maximum(lax.convGeneralDilated(x, w, [1, 1], [[1, 1], [1, 1]]), 0);
    const model = toOnnx(f, np.ones([2, 2, 5, 5]), { dynamicAxes: { input: { 0: "n" } } });
    const x = random.normal(k2!, [3, 2, 5, 5]);
    const [y] = await runOnnx(model, [x], { threads: 1 });
    expectClose(y!, f(x) as NDArray, "conv");
  });
  it("a mean over the dynamic axis (1/n baked in) is refused at export, naming the op and line", () => {
    const loss = (x: ArrayBase) => np.mean(mlp(params, x));
    expect(() => toOnnx(loss, np.ones([4, 6]), { dynamicAxes: { input: { 0: "batch" } } })).toThrow(OnnxExportError);
    expect(() => toOnnx(loss, np.ones([4, 6]), { dynamicAxes: { input: { 0: "batch" } } })).toThrow(/depends on the axis' size[\s\S]*dynamic\.test\.ts:\d+/);
  });
  it("an op lowered with static shapes is refused when it touches the axis", () => {
    expect(() => toOnnx((x: ArrayBase) => lax.slice(x, [0, 1], [4, 3]), np.ones([4, 6]), { dynamicAxes: { input: { 0: "b" } } })).toThrow(/'slice' is lowered with static shapes/);
    // ...but not when it only touches static axes.
    expect(toOnnx((x: ArrayBase) => np.sum(x, { axis: 0 }), np.ones([4, 6]), { dynamicAxes: { input: { 0: "b" } } })).toBeInstanceOf(Uint8Array);
  });
  it("bad specs are typed errors", () => {
    expect(() => toOnnx(infer, np.ones([4, 6]), { dynamicAxes: { input: { 2: "b" } } })).toThrow(/axis 2 of input 'input'/);
    expect(() => toOnnx((a: ArrayBase, b: ArrayBase) => [np.sin(a), np.sin(b)], np.ones([4]), np.ones([5]), { dynamicAxes: { input_0: { 0: "n" }, input_1: { 0: "n" } } })).toThrow(/has size 4 in input 'input_0' but 5/);
  });
});
