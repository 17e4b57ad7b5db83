/**
 * The model's structure: names from pytree paths, constants as initializers, the user's
 * source lines as doc_strings, the opset; and the typed errors of export.
 */
import { type ArrayBase, lax, makeJaxpr, np } from "@cotangent/core";
import { describe, expect, it } from "vitest";
import { OnnxExportError, runOnnx, toOnnx } from "../src/index.js";
import { type ModelProto, decodeModel } from "../src/proto/schema.js";

const read = (bytes: Uint8Array) => decodeModel(bytes) as ModelProto;

describe("the exported model", () => {
  const params = { w: np.ones([3, 2]), b: np.zeros([2]) };
  const f = (p: typeof params, x: ArrayBase) => ({ logits: np.add(np.matmul(x, p.w), p.b), norm: np.sum(np.multiply(x, x)) });
  const m = read(toOnnx(f, params, np.ones([4, 3]), { name: "mlp" }));
  it("names inputs and outputs by their pytree paths", () => {
    expect(m.graph!.name).toBe("mlp");
    expect(m.graph!.input!.map((v) => v.name)).toEqual(["input_0_b", "input_0_w", "input_1"]);
    expect(m.graph!.output!.map((v) => v.name)).toEqual(["output_logits", "output_norm"]);
    expect(m.graph!.input![1]!.type!.tensorType!.shape!.dim!.map((d) => d.dimValue)).toEqual([3, 2]);
  });
  it("writes opset 17 (IR 8) by default and carries the user's source lines as doc_strings", () => {
    expect(m.opsetImport).toEqual([{ domain: "", version: 17 }]);
    expect(m.irVersion).toBe(8);
    const docs = new Set(m.graph!.node!.map((n) => n.docString).filter(Boolean));
    expect([...docs].some((d) => /export\.test\.ts:\d+/.test(d!))).toBe(true);
  });
  it("keeps constants as initializers", () => {
    const table = np.arange(12, { dtype: "float32" } as never);
    const g = (x: ArrayBase) => np.multiply(x, table);
    const model = read(toOnnx(g, np.ones([12])));
    expect(model.graph!.initializer!.some((t) => t.dims?.[0] === 12 && t.dataType === 1)).toBe(true);
  });
  it("raises the opset where an operator needs it, and names the need when the opset is fixed", () => {
    const bits = (a: ArrayBase, b: ArrayBase) => lax.bitwiseAnd(a, b);
    const ints = [np.array([6], { dtype: "int32" }), np.array([3], { dtype: "int32" })];
    expect(read(toOnnx(bits, ...ints)).opsetImport![0]!.version).toBe(18);
    expect(() => toOnnx(bits, ...ints, { opset: 17 })).toThrow(/BitwiseAnd needs opset 18, but the export asked for opset 17/);
  });
  it("exports a closed jaxpr", async () => {
    const j = makeJaxpr((x: ArrayBase) => np.exp(x))(np.ones([2]));
    const [y] = await runOnnx(toOnnx(j), [np.zeros([2])], { threads: 1 });
    expect(y!.toArray()).toEqual([1, 1]);
  });
});

describe("export errors are typed", () => {
  it("a primitive with no lowering names itself, the user's line and the opset", () => {
    let at = "";
    const f = (x: ArrayBase) => ((at = new Error().stack!.split("\n")[1]!), lax.erfInv(x));
    let err: unknown;
    try {
      toOnnx(f, np.zeros([2]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxExportError);
    const msg = (err as Error).message;
    expect(msg).toContain("primitive 'erf_inv' has no ONNX lowering (opset 17)");
    expect(msg).toContain(`export.test.ts:${/:(\d+):\d+\)?$/.exec(at)![1]}`);
  });
  it("bad options and targets", () => {
    expect(() => toOnnx((x: ArrayBase) => x, np.ones([1]), { opset: 7 })).toThrow(OnnxExportError);
    expect(() => toOnnx(42 as never)).toThrow(OnnxExportError);
    expect(() => toOnnx((x: ArrayBase) => x, np.ones([1]), { dynamicAxes: { nope: { 0: "n" } } })).toThrow(/dynamicAxes names input 'nope'/);
    expect(() => toOnnx((x: ArrayBase) => x, np.ones([1]), { inputNames: ["a", "b"] })).toThrow(/inputNames has 2 names for 1 inputs/);
  });
});
