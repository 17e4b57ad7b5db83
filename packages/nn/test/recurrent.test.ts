/**
 * lstmCell and gruCell against the gate equations written out per example in JS; rnn against
 * a JS loop of the cell (forward, reverse, time-major); closed forms; gradients through the
 * scan against finite differences (float64); vmap against a loop; jit against eager; errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, jit, np, random, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

const f64 = (shape: number[], seed: number, scale = 1) => np.multiply(random.normal(random.key(seed), shape, { dtype: "float64" }), scale);
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const rows = (a: ArrayBase) => a.toArray() as number[][];
const vec = (a: ArrayBase) => a.toArray() as number[];

/** x·W (+ b) for one example: x [in], W [in, out]. */
const affine = (x: number[], w: number[][], b?: number[]) => w[0]!.map((_, j) => x.reduce((s, xi, i) => s + xi * w[i]![j]!, b ? b[j]! : 0));

/** One LSTM step for one example, gates i, f, g, o. */
const refLstm = (p: { wi: number[][]; wh: number[][]; b: number[] }, c: number[], h: number[], x: number[]) => {
  const H = h.length;
  const zi = affine(x, p.wi, p.b);
  const zh = affine(h, p.wh);
  const z = zi.map((v, j) => v + zh[j]!);
  const gate = (k: number) => z.slice(k * H, (k + 1) * H);
  const [i, f, g, o] = [gate(0).map(sig), gate(1).map(sig), gate(2).map(Math.tanh), gate(3).map(sig)];
  const c2 = c.map((cv, j) => f[j]! * cv + i[j]! * g[j]!);
  return { c: c2, h: c2.map((cv, j) => o[j]! * Math.tanh(cv)) };
};

/** One GRU step for one example, gates r, z, n; bhn inside the reset product. */
const refGru = (p: { wi: number[][]; bi: number[]; wh: number[][]; bhn: number[] }, h: number[], x: number[]) => {
  const H = h.length;
  const xi = affine(x, p.wi, p.bi);
  const hh = affine(h, p.wh);
  const part = (a: number[], k: number) => a.slice(k * H, (k + 1) * H);
  const r = part(xi, 0).map((v, j) => sig(v + part(hh, 0)[j]!));
  const z = part(xi, 1).map((v, j) => sig(v + part(hh, 1)[j]!));
  const n = part(xi, 2).map((v, j) => Math.tanh(v + r[j]! * (part(hh, 2)[j]! + p.bhn[j]!)));
  return h.map((hv, j) => (1 - z[j]!) * n[j]! + z[j]! * hv);
};

describe("lstmCell and gruCell", () => {
  it("follow the gate equations (Flax's LSTMCell and GRUCell)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), (nin, H, B, seed) => {
        const lstm = nn.lstmCell(nin, H, { dtype: "float64", biasInit: nn.normal(0.5) });
        const p = lstm.init(random.key(seed));
        expect([p.wi.shape, p.wh.shape, p.b.shape]).toEqual([[nin, 4 * H], [H, 4 * H], [4 * H]]);
        const x = f64([B, nin], seed + 1);
        const carry = { c: f64([B, H], seed + 2), h: f64([B, H], seed + 3) };
        const [next, y] = lstm.apply(p, carry, x);
        const ref = rows(x).map((xb, b) => refLstm({ wi: rows(p.wi), wh: rows(p.wh), b: vec(p.b) }, rows(carry.c)[b]!, rows(carry.h)[b]!, xb));
        expectClose(next.c, np.array(ref.map((r) => r.c), { dtype: "float64" }), 1e-13);
        expectClose(next.h, np.array(ref.map((r) => r.h), { dtype: "float64" }), 1e-13);
        expect(y).toBe(next.h);

        const gru = nn.gruCell(nin, H, { dtype: "float64", biasInit: nn.normal(0.5) });
        const q = gru.init(random.key(seed + 4));
        expect([q.wi.shape, q.bi.shape, q.wh.shape, q.bhn.shape]).toEqual([[nin, 3 * H], [3 * H], [H, 3 * H], [H]]);
        const h = f64([B, H], seed + 5);
        const [hNext, yg] = gru.apply(q, h, x);
        const want = rows(x).map((xb, b) => refGru({ wi: rows(q.wi), bi: vec(q.bi), wh: rows(q.wh), bhn: vec(q.bhn) }, rows(h)[b]!, xb));
        expectClose(hNext, np.array(want, { dtype: "float64" }), 1e-13);
        expect(yg).toBe(hNext);
      }),
      { numRuns: 25 },
    );
  });
  it("closed forms with zero weights; zero initial carry; per-gate orthogonal recurrent kernels", () => {
    const lstm = nn.lstmCell(2, 3, { dtype: "float64", kernelInit: nn.zeros, recurrentKernelInit: nn.zeros });
    const p = lstm.init(random.key(0));
    const carry = lstm.initCarry([2]);
    expect(carry.c.shape).toEqual([2, 3]);
    expect(carry.c.dtype).toBe("float64");
    // All gates at σ(0) = 1/2 and g = tanh(0) = 0: c' = c / 2 and h' = tanh(c') / 2.
    const c = f64([2, 3], 1);
    const [next] = lstm.apply(p, { c, h: f64([2, 3], 2) }, f64([2, 2], 3));
    expectClose(next.c, np.multiply(c, 0.5), 1e-15);
    expectClose(next.h, np.multiply(np.tanh(np.multiply(c, 0.5)), 0.5), 1e-15);
    // GRU with zero weights: z = 1/2, n = 0, so h' = h / 2.
    const gru = nn.gruCell(2, 3, { dtype: "float64", kernelInit: nn.zeros, recurrentKernelInit: nn.zeros });
    const h = f64([3], 4);
    expectClose(gru.apply(gru.init(random.key(0)), h, f64([2], 5))[0], np.multiply(h, 0.5), 1e-15);
    // Each gate's recurrent block is orthogonal on its own (as Flax initializes them).
    const wh = nn.lstmCell(2, 3, { dtype: "float64" }).init(random.key(1)).wh;
    for (const block of np.split(wh, 4, 1)) expectClose(np.matmul(np.transpose(block), block), np.eye(3, undefined, { dtype: "float64" }), 1e-12);
  });
});

describe("rnn", () => {
  const cells = (): [string, nn.RecurrentCell<any, any>][] => [
    ["lstm", nn.lstmCell(2, 3, { dtype: "float64" })],
    ["gru", nn.gruCell(2, 3, { dtype: "float64" })],
  ];
  it("is the cell looped over time (forward, reverse, time-major), returning the final carry and every output", () => {
    for (const [name, cell] of cells()) {
      const p = cell.init(random.key(1));
      const xs = f64([2, 5, 2], 2); // [batch, time, features]
      const loop = (reverse: boolean) => {
        let c = cell.initCarry([2], "float64");
        const ys: ArrayBase[] = new Array(5);
        const order = reverse ? [4, 3, 2, 1, 0] : [0, 1, 2, 3, 4];
        for (const t of order) [c, ys[t]] = cell.apply(p, c, np.index(xs, [np.sl(), t]));
        return [c, np.stack(ys, 1)] as const;
      };
      for (const reverse of [false, true]) {
        const [carry, ys] = nn.rnn(cell, p, xs, { reverse });
        const [wantCarry, wantYs] = loop(reverse);
        expect(ys.shape, name).toEqual([2, 5, 3]);
        expectClose(ys, wantYs, 1e-13);
        expectClose(carry, wantCarry, 1e-13);
        const [carryT, ysT] = nn.rnn(cell, p, np.moveaxis(xs, 1, 0), { reverse, timeMajor: true });
        expectClose(ysT, np.moveaxis(wantYs, 1, 0), 1e-13);
        expectClose(carryT, wantCarry, 1e-13);
      }
      // An explicit initial carry, and an unbatched sequence [time, features].
      const c0 = cell.initCarry([], "float64");
      const [, ys1] = nn.rnn(cell, p, np.index(xs, [0]), { initialCarry: c0 });
      expectClose(ys1, np.index(nn.rnn(cell, p, xs)[1], [0]), 1e-13);
    }
  });
  it("differentiates through the scan (float64 finite differences)", () => {
    const cell = nn.gruCell(2, 2, { dtype: "float64" });
    const p = cell.init(random.key(3));
    checkGrad((xs: ArrayBase, wh: ArrayBase) => nn.rnn(cell, { ...p, wh }, xs)[1], [f64([1, 3, 2], 4) as NDArray, p.wh as NDArray]);
    const lstm = nn.lstmCell(1, 2, { dtype: "float64" });
    const q = lstm.init(random.key(5));
    checkGrad((xs: ArrayBase, wi: ArrayBase) => nn.rnn(lstm, { ...q, wi }, xs, { reverse: true })[0].c, [f64([3, 1], 6) as NDArray, q.wi as NDArray]);
  });
  it("vmap over sequences equals a loop; jit equals eager", () => {
    for (const [, cell] of cells()) {
      const p = cell.init(random.key(7));
      const xs = f64([3, 4, 2], 8);
      const ys = vmap((x: ArrayBase) => nn.rnn(cell, p, x)[1])(xs);
      for (let i = 0; i < 3; i++) expectClose(np.index(ys, [i]), nn.rnn(cell, p, np.index(xs, [i]))[1], 1e-14);
      const f = (pp: unknown, x: ArrayBase) => nn.rnn(cell, pp, x, { reverse: true });
      expectClose(jit(f)(p, xs), f(p, xs), 1e-13);
    }
  });
  it("rnnLayer is rnn's outputs as a layer, and composes in sequential", () => {
    const cell = nn.gruCell(2, 3, { dtype: "float64" });
    const model = nn.sequential(nn.rnnLayer(cell, { reverse: true }), nn.dense(3, 1, { dtype: "float64" }));
    const p = model.init(random.key(9)) as [nn.GruParams, nn.DenseParams];
    const xs = f64([2, 4, 2], 10);
    const want = np.add(np.matmul(nn.rnn(cell, p[0], xs, { reverse: true })[1], p[1].w), p[1].b!);
    expectClose(model.apply(p, xs), want, 1e-14);
    expect(() => nn.rnnLayer({} as never)).toThrow(/nn.rnnLayer: cell must be a recurrent cell/);
    expect(() => nn.rnnLayer(cell, { initialCarry: null } as never)).toThrow(/unknown option 'initialCarry'/);
  });
  it("errors", () => {
    expect(() => nn.lstmCell(0, 3)).toThrow(/nn.lstmCell: inFeatures must be a positive integer, got 0/);
    expect(() => nn.gruCell(2, 3, { hidden: 3 } as never)).toThrow(/nn.gruCell: unknown option 'hidden'/);
    const cell = nn.lstmCell(2, 3);
    const p = cell.init(random.key(0));
    expect(() => cell.apply(p, cell.initCarry([4]), np.ones([4, 3]))).toThrow(/nn.lstmCell: input of shape \[4, 3\] must be \[...batch, 2\]/);
    expect(() => cell.apply(p, cell.initCarry([5]), np.ones([4, 2]))).toThrow(/nn.lstmCell: carry.c has shape \[5, 3\], but the layer expects \[4, 3\]/);
    expect(() => cell.apply({ ...p, wh: np.ones([3, 3]) }, cell.initCarry([4]), np.ones([4, 2]))).toThrow(/params.wh has shape \[3, 3\], but the layer expects \[3, 12\]/);
    expect(() => cell.apply(p, cell.initCarry([4]), np.ones([4, 2], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => nn.rnn(cell, p, np.ones([4, 5, 3]))).toThrow(/nn.rnn: inputs must be \[...batch, time, 2\], got shape \[4, 5, 3\]/);
    expect(() => nn.rnn(cell, p, np.ones([2]))).toThrow(ShapeError);
    expect(() => nn.rnn({ apply: 1 } as never, p, np.ones([4, 2]))).toThrow(/nn.rnn: cell must be a recurrent cell/);
    expect(() => nn.rnn(cell, p, np.ones([4, 2]), { reversed: true } as never)).toThrow(/unknown option 'reversed'[^]*did you mean 'reverse'/);
    expect(() => nn.rnn(cell, p, np.ones([4, 2]), { initialCarry: cell.initCarry([2]) })).toThrow(/nn.lstmCell: carry.c has shape \[2, 3\], but the layer expects \[3\][^]*hint: the carry has the input's batch shape: cell.initCarry\(\[\]\)/);
  });
});
