/** Shared checks: a function's ONNX export, run on ONNX Runtime, agrees with Cotangent. */
import { type ArrayBase, NDArray, tree } from "@cotangent/core";
import { expect } from "vitest";
import { type OnnxEngine, runOnnx, toOnnx } from "../src/index.js";

/** Relative tolerance by dtype: f32 1e-5, f64 1e-12 (exact for ints and bools). */
export const tolerance = (dtype: string): number => (dtype === "float64" ? 1e-12 : dtype === "float32" ? 1e-5 : 0);

/**
 * Elementwise relative error (with 1e-3 of the array's largest magnitude as the floor near
 * zero), or with `normwise` the error relative to the array's largest magnitude: the
 * measure for gradients, whose small entries are sums that cancel.
 */
export const expectClose = (got: NDArray, want: NDArray, label = "", rtol?: number, normwise = false): void => {
  expect(got.dtype, `${label} dtype`).toBe(want.dtype);
  expect(got.shape, `${label} shape`).toEqual(want.shape);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  const tol = rtol ?? tolerance(want.dtype);
  let scale = 0;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i]!)) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      expect(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `${label}[${i}]: ${x} vs ${y}`).toBe(true);
      continue;
    }
    // Relative to the element, with the array's scale as the floor near zero (sums that cancel).
    const err = Math.abs(x - y);
    if (err > tol * Math.max(normwise ? scale : Math.abs(y), scale * 1e-3, tol === 0 ? 0 : Number.MIN_VALUE)) {
      expect.fail(`${label}[${i}]: onnx ${x} vs cotangent ${y} (relative error ${err / Math.abs(y)}, tolerance ${tol})`);
    }
  }
};

/** Exports `fn` at `args`, runs it on ONNX Runtime, and compares every output leaf with `fn(...args)`. */
export const checkOnnx = async (fn: (...a: any[]) => unknown, args: unknown[], opts: { engine?: OnnxEngine; rtol?: number; opset?: number; normwise?: boolean } = {}): Promise<Uint8Array> => {
  const model = opts.opset ? toOnnx(fn, ...args, { opset: opts.opset }) : toOnnx(fn, ...args);
  const want = tree.leaves(fn(...args)) as NDArray[];
  const got = await runOnnx(model, tree.leaves(args) as ArrayBase[], { engine: opts.engine ?? "node", threads: 1 });
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expectClose(g, want[i]!, `output ${i}`, opts.rtol, opts.normwise));
  return model;
};
