/**
 * fromOnnx: round trips agree with the original function; common inference operators
 * (as another exporter writes them) agree with ONNX Runtime on the same model; imported
 * functions differentiate and vmap; malformed bytes are typed errors.
 */
import { type ArrayBase, type NDArray, grad, np, tree, vmap } from "@cotangent/core";
import { describe, expect, it } from "vitest";
import { GraphBuilder, ModelContext, valueInfo } from "../src/builder.js";
import { OnnxImportError, fromOnnx, runOnnx, toOnnx } from "../src/index.js";
import { encodeModel } from "../src/proto/schema.js";
import { cases, rng, uniformArray } from "./cases.js";
import { expectClose } from "./harness.js";

describe("round trip: fromOnnx(toOnnx(f)) agrees with f", () => {
  const skip = new Set(["threefry2x32", "bits_to_uniform", "bits_to_randint", "sort_by_u32_keys"]); // int64 arithmetic: not importable (documented)
  cases.forEach((c, k) => {
    if (skip.has(c.prim)) return;
    const d = c.dtypes?.[0] ?? "float32";
    it(`${c.label ?? c.prim} (${d})`, () => {
      const args = c.args(rng(2000 + k), d);
      const f = fromOnnx(toOnnx(c.fn, ...args));
      const want = tree.leaves(c.fn(...args)) as NDArray[];
      const got = f(...(tree.leaves(args) as ArrayBase[]));
      const list = Array.isArray(got) ? got : [got];
      list.forEach((g, i) => expectClose(g as NDArray, want[i]!, `output ${i}`, c.rtol));
    });
  });
});

/** A model of common inference operators, written directly with the builder (as other exporters write them). */
const inferenceModel = (): Uint8Array => {
  const ctx = new ModelContext(17, true);
  const g = new GraphBuilder(ctx);
  const r = rng(5);
  const w = (shape: number[]) => g.array(uniformArray(r, shape, -0.5, 0.5) as NDArray);
  const conv = g.op("Conv", ["image", w([4, 2, 3, 3]), w([4])], { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [1, 1] } });
  const bn = g.op("BatchNormalization", [conv, w([4]), w([4]), w([4]), g.array(np.add(np.abs(uniformArray(r, [4], 0.5, 1)), 0.1) as NDArray)], { epsilon: { float: 1e-3 } });
  const relu = g.op("Relu", [bn]);
  const pool = g.op("MaxPool", [relu], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  const avg = g.op("AveragePool", [pool], { kernel_shape: { ints: [2, 2] }, strides: { ints: [1, 1] }, pads: { ints: [0, 0, 1, 1] } });
  const flat = g.op("Flatten", [avg], { axis: { int: 1 } });
  const gemm = g.op("Gemm", [flat, w([5, 4 * 3 * 3]), w([5])], { transB: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } });
  const act = g.op("LeakyRelu", [gemm], { alpha: { float: 0.1 } });
  const sm = g.op("Softmax", [act], { axis: { int: 1 } });
  const gap = g.op("GlobalAveragePool", [relu]);
  g.nodes.push({ input: [sm], output: ["probs"], opType: "Identity", name: "out0" }, { input: [g.op("Flatten", [gap])], output: ["features"], opType: "Identity", name: "out1" });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name: "g", node: g.nodes, initializer: ctx.initializers, input: [valueInfo("image", "float32", [2, 2, 6, 6])], output: [valueInfo("probs", "float32", [2, 5]), valueInfo("features", "float32", [2, 4])] },
  });
};

describe("common inference operators", () => {
  it("Conv, BatchNormalization, Relu, MaxPool, AveragePool, Flatten, Gemm, LeakyRelu, Softmax, GlobalAveragePool agree with onnxruntime-node", async () => {
    const model = inferenceModel();
    const x = uniformArray(rng(9), [2, 2, 6, 6], -1, 1);
    const f = fromOnnx(model);
    expect(f.inputNames).toEqual(["image"]);
    expect(f.outputNames).toEqual(["probs", "features"]);
    const got = f(x) as NDArray[];
    const want = await runOnnx(model, [x], { threads: 1 });
    got.forEach((g, i) => expectClose(g, want[i]!, f.outputNames[i], 1e-5));
  });
  it("an imported model differentiates (w.r.t. inputs and weights) and vmaps", () => {
    const f = fromOnnx(inferenceModel());
    const x = uniformArray(rng(9), [2, 2, 6, 6], -1, 1);
    const loss = (img: ArrayBase) => np.sum(np.multiply((f(img) as ArrayBase[])[0]!, np.arange(5)));
    const gx = grad(loss)(x);
    // Central finite difference along a random direction.
    const v = uniformArray(rng(3), [2, 2, 6, 6], -1, 1);
    const eps = 1e-2;
    const fd = (loss(np.add(x, np.multiply(v, eps))).item() - loss(np.subtract(x, np.multiply(v, eps))).item()) / (2 * eps);
    expect(np.sum(np.multiply(gx, v)).item()).toBeCloseTo(fd, 2);
    const names = Object.keys(f.params);
    expect(names.length).toBeGreaterThan(4);
    const gw = grad((p: Record<string, ArrayBase>) => np.sum((f.withParams(p, x) as ArrayBase[])[0]!))(f.params);
    expect(Object.keys(gw).sort()).toEqual(names.sort());
    const batched = vmap((img: ArrayBase) => (f(np.expandDims(img, 0)) as ArrayBase[])[0]!)(x) as NDArray;
    expectClose(np.reshape(batched, [2, 5]) as NDArray, (f(x) as NDArray[])[0]!, "vmap", 1e-6);
  });
});

describe("malformed input is a typed error", () => {
  const good = toOnnx((x: ArrayBase) => np.sin(x), np.ones([2]));
  const bad: [string, unknown][] = [
    ["random bytes", Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 255)],
    ["a truncated model", good.slice(0, good.length - 7)],
    ["an empty buffer", new Uint8Array(0)],
    ["not bytes", "model.onnx"],
    ["a model of another shape", encodeModel({ irVersion: 8, graph: { node: [{ input: ["x"], output: ["y"], opType: "NoSuchOp" }], input: [valueInfo("x", "float32", [1])], output: [valueInfo("y", "float32", [1])] } })],
    ["a dangling input", encodeModel({ irVersion: 8, graph: { node: [{ input: ["nope"], output: ["y"], opType: "Relu" }], input: [valueInfo("x", "float32", [1])], output: [valueInfo("y", "float32", [1])] } })],
  ];
  for (const [label, bytes] of bad) {
    it(label, () => {
      let err: unknown;
      try {
        const f = fromOnnx(bytes as Uint8Array);
        f(np.ones([1]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OnnxImportError);
    });
  }
  it("fuzzed bytes never throw anything but OnnxImportError", () => {
    const r = rng(11);
    for (let k = 0; k < 200; k++) {
      const b = good.slice();
      for (let j = 0; j < 3; j++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        const f = fromOnnx(b);
        f(np.ones([2]));
      } catch (e) {
        if (!(e instanceof OnnxImportError)) throw e;
      }
    }
  });
});

