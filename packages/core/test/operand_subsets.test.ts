/**
 * Every multi-operand rule with every subset of its operands differentiated and the rest
 * closed-over constants. A transpose or jvp rule that only looks at its differentiated
 * operands (say, a concatenate transpose that advances its offset only past linear
 * operands) is right when every operand is differentiated and wrong otherwise, so these
 * checks go through `checkGrad`, `checkSecondOrder`, `checkTransposition`, `checkJvp` and
 * `typecheckTransforms`, which all iterate over the subsets (`argSubsets`).
 */
import { describe, expect, it } from "vitest";
import { type ArrayBase, type NDArray, checkpoint, checkpointPolicies, customJvp, customVjp, grad, jvp, lax, makeJaxpr, np, typecheck } from "@cotangent/core";
import { argSubsets, checkGrad, closeOver, checkJvp, checkSecondOrder, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { sizeOf } from "./reference_util.js";

type F = (...a: any[]) => any;
const f64 = (shape: number[], seed = 0) =>
  np.array(Float64Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(i * 1.37 + seed) * 0.9), { dtype: "float64", shape }) as NDArray;
const i32 = (v: number | number[]) => np.array(v, { dtype: "int32" });

/** The derivative checks over every subset, plus vmap with each argument batched alone. */
const checkAllSubsets = (f: F, args: NDArray[], { second = true, vmapToo = true } = {}) => {
  checkGrad(f, args);
  if (second) checkSecondOrder(f, args, { tol: 1e-4 });
  checkTransposition(f, args);
  typecheckTransforms(f, args);
  if (!vmapToo) return;
  args.forEach((_, i) => {
    const batched = args.map((x, k) => (k === i ? np.stack([x, np.multiply(x, 0.5)]) : x)) as NDArray[];
    checkVmap(f, batched, 1e-12, args.map((_, k) => (k === i ? 0 : null)));
  });
};

describe("argSubsets", () => {
  it("lists every non-empty subset up to four arguments, and a covering family beyond", () => {
    expect(argSubsets(1)).toEqual([[0]]);
    expect(argSubsets(2)).toEqual([[0], [1], [0, 1]]);
    expect(argSubsets(3).length).toBe(7);
    expect(argSubsets(4).length).toBe(15);
    const five = argSubsets(5);
    expect(five).toContainEqual([0, 1, 2, 3, 4]);
    for (let i = 0; i < 5; i++) {
      expect(five).toContainEqual([i]);
      expect(five).toContainEqual([0, 1, 2, 3, 4].filter((j) => j !== i));
    }
  });
});

describe("structural rules with constant operands", () => {
  it("concatenate: offsets count every operand, differentiated or not", () => {
    const f = (a: any, b: any, c: any) => lax.concatenate([a, np.sin(b), c, a], 1);
    checkAllSubsets(f, [f64([2, 3]), f64([2, 1], 1), f64([2, 2], 2)]);
  });

  it("pad: operand and padding value", () => {
    const f = (a: any, v: any) => lax.pad(np.tanh(a), v, [[1, -1, 1], [-1, 2, 0]]);
    checkAllSubsets(f, [f64([3, 2]), f64([], 1)]);
  });

  it("dynamic_update_slice: operand and update, at clamped and in-range starts", () => {
    for (const s of [-1, 1, 5]) {
      const f = (a: any, u: any) => lax.dynamicUpdateSlice(a, np.multiply(u, u), [i32(1), i32(s)]);
      checkAllSubsets(f, [f64([4, 3]), f64([2, 2], 1)]);
    }
  });

  it("select_n: every case (the predicate is an integer operand)", () => {
    const which = i32([0, 2, 1, 2, 0, 1]);
    const f = (a: any, b: any, c: any) => lax.selectN(which, a, np.square(b), c);
    checkAllSubsets(f, [f64([6]), f64([6], 1), f64([6], 2)]);
    const w = (p: any, a: any, b: any) => np.where(np.greater(p, 0), np.sin(a), b);
    checkAllSubsets(w, [f64([2, 3], 0.5), f64([2, 3], 1), f64([3], 2)]);
  });

  it("scatter_add: operand and updates", () => {
    const f = (a: any, u: any) => lax.scatterAdd(a, i32([1, 1, 0]), np.multiply(u, u), { axis: 0, batch_dims: 0 });
    checkAllSubsets(f, [f64([3, 2]), f64([3, 2], 1)]);
  });
});

describe("products with constant operands", () => {
  it("dot_general: contracting and batch dimensions", () => {
    const f = (a: any, b: any) => lax.dotGeneral(a, b, [[[2], [1]], [[0], [0]]]);
    checkAllSubsets(f, [f64([2, 3, 4]), f64([2, 4, 2], 1)]);
    const m = (a: any, b: any, c: any) => np.matmul(np.matmul(a, b), c);
    checkAllSubsets(m, [f64([2, 3]), f64([3, 3], 1), f64([3, 2], 2)], { second: false });
  });

  it("conv: input and kernel", () => {
    const f = (x: any, w: any) => lax.convGeneralDilated(x, w, [1, 2], [[1, 0], [0, 1]], { rhsDilation: [1, 2] });
    checkAllSubsets(f, [f64([1, 2, 4, 5]), f64([3, 2, 2, 2], 1)], { vmapToo: false });
  });
});

describe("control-flow and higher-order primitives with constant operands", () => {
  it("cond: both operands and a value each branch closes over", () => {
    const f = (p: any, a: any, b: any) =>
      lax.cond(
        np.greater(np.sum(p), 0),
        (x: any, y: any) => np.add(np.multiply(np.sin(x), y), p),
        (x: any, y: any) => np.multiply(np.cos(y), p),
        a,
        b,
      );
    checkAllSubsets(f, [f64([3], 0.5), f64([3], 1), f64([3], 2)]);
    checkAllSubsets(f, [np.negative(f64([3], 0.5)) as NDArray, f64([3], 1), f64([3], 2)], { second: false });
  });

  it("switch: three branches, operands and closed-over values", () => {
    for (const k of [0, 1, 2]) {
      const f = (a: any, b: any, c: any) =>
        lax.switch(i32(k), [(x: any) => np.multiply(x, c), (x: any) => np.sin(np.add(x, b)), (x: any) => np.multiply(x, x)], np.multiply(a, b));
      checkAllSubsets(f, [f64([2], 0.5), f64([2], 1), f64([2], 2)], { second: k === 1 });
    }
  });

  it("scan: carry, scanned inputs and a closed-over weight", () => {
    const f = (h0: any, xs: any, w: any) =>
      lax.scan((h: any, x: any) => {
        const hn = np.tanh(np.add(np.multiply(h, w), x));
        return [hn, np.multiply(hn, w)];
      }, h0, xs);
    checkAllSubsets(f, [f64([2], 0.5), f64([3, 2], 1), f64([2], 2)]);
    const rev = (h0: any, xs: any, w: any) => lax.scan((h: any, x: any) => [np.sin(np.multiply(h, x)), np.add(h, w)], h0, xs, { reverse: true });
    checkAllSubsets(rev, [f64([2], 0.5), f64([3, 2], 1), f64([2], 2)], { second: false });
  });

  it("foriLoop with JS bounds (a scan): carry pieces and a closed-over value", () => {
    const f = (a: any, b: any, w: any) =>
      lax.foriLoop(0, 3, (_i: any, [x, y]: any) => [np.sin(np.add(x, np.multiply(y, w))), np.multiply(y, 0.9)], [a, b]);
    checkAllSubsets(f, [f64([2], 0.5), f64([2], 1), f64([2], 2)], { second: false });
  });

  it("whileLoop (forward mode only, as in JAX): carry pieces and a closed-over value", () => {
    const f = (a: any, b: any, w: any) =>
      lax.whileLoop(
        ([i]: any) => np.less(i, 3),
        ([i, x, y]: any) => [np.add(i, 1), np.sin(np.add(x, np.multiply(y, w))), np.multiply(y, 0.9)],
        [i32(0), a, b],
      ).slice(1);
    const args = [f64([2], 0.5), f64([2], 1), f64([2], 2)];
    for (const subset of argSubsets(3)) {
      checkJvp(closeOver(f, args, subset), subset.map((k) => args[k]!));
    }
    // jvp with a zero tangent for each constant argument agrees with the closed-over form.
    const [, t] = jvp(f, args, [np.onesLike(args[0]!), np.zerosLike(args[1]!), np.zerosLike(args[2]!)]);
    const [, t0] = jvp((a: any) => f(a, args[1], args[2]), [args[0]], [np.onesLike(args[0]!)]);
    expect((t as ArrayBase[]).map((x) => x.toArray())).toEqual((t0 as ArrayBase[]).map((x) => x.toArray()));
  });

  it("checkpoint: arguments and a closed-over value, under each policy", () => {
    for (const policy of [checkpointPolicies.nothingSaveable, checkpointPolicies.everythingSaveable, checkpointPolicies.dotsSaveable]) {
      const f = (a: any, b: any, w: any) => checkpoint((x: any, y: any) => np.sin(np.multiply(np.matmul(x, y), w)), { policy })(a, b);
      checkAllSubsets(f, [f64([2, 3]), f64([3, 2], 1), f64([2, 2], 2)], { second: false });
    }
  });

  it("customJvp and customVjp: rules meet constant operands", () => {
    const mulSin = customJvp((x: any, y: any) => np.multiply(x, np.sin(y)));
    mulSin.defJvp(([x, y]: any, [tx, ty]: any) => [mulSin(x, y), np.add(np.multiply(tx, np.sin(y)), np.multiply(np.multiply(x, np.cos(y)), ty))]);
    checkAllSubsets((a: any, b: any, c: any) => np.add(mulSin(a, b), c), [f64([3], 0.5), f64([3], 1), f64([3], 2)]);
    const mulCos = customVjp((x: any, y: any) => np.multiply(x, np.cos(y)));
    mulCos.defVjp(
      (x: any, y: any) => [np.multiply(x, np.cos(y)), [x, y]],
      ([x, y]: any, ct: any) => [np.multiply(ct, np.cos(y)), np.negative(np.multiply(ct, np.multiply(x, np.sin(y))))],
    );
    const g = (a: any, b: any, c: any) => np.multiply(mulCos(a, b), c);
    // Reverse mode only (forward mode of a customVjp function is refused, as in JAX).
    const args = [f64([3], 0.5), f64([3], 1), f64([3], 2)];
    checkGrad(g, args);
    for (const subset of argSubsets(3)) {
      const gs = (...free: any[]) => np.sum(closeOver(g, args, subset)(...free));
      typecheck(makeJaxpr(grad(gs, { argnums: subset.map((_, k) => k) }))(...subset.map((k) => args[k]!)));
    }
  });
});
