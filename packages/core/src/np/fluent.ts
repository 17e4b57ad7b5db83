/**
 * Fluent methods on arrays and tracers (`x.add(y).sum()`), as sugar over `np.*`, which
 * stays the reference. They are installed here, above the array layer, so that arrays do
 * not depend on the user API.
 */
import { ArrayBase } from "../array.js";
import type { DType } from "../dtype.js";
import type { ArrayLike } from "./coerce.js";
import * as el from "./elementwise.js";
import * as ix from "./indexing.js";
import * as la from "./linalg.js";
import * as m from "./math.js";
import * as r from "./reductions.js";
import * as sh from "./shape.js";

type Red = r.ReduceOptions;

declare module "../array.js" {
  interface ArrayBase {
    add(y: ArrayLike): ArrayBase;
    sub(y: ArrayLike): ArrayBase;
    mul(y: ArrayLike): ArrayBase;
    div(y: ArrayLike): ArrayBase;
    pow(y: ArrayLike): ArrayBase;
    neg(): ArrayBase;
    matmul(y: ArrayLike): ArrayBase;
    dot(y: ArrayLike): ArrayBase;
    maximum(y: ArrayLike): ArrayBase;
    minimum(y: ArrayLike): ArrayBase;
    eq(y: ArrayLike): ArrayBase;
    ne(y: ArrayLike): ArrayBase;
    lt(y: ArrayLike): ArrayBase;
    le(y: ArrayLike): ArrayBase;
    gt(y: ArrayLike): ArrayBase;
    ge(y: ArrayLike): ArrayBase;
    exp(): ArrayBase;
    log(): ArrayBase;
    sqrt(): ArrayBase;
    square(): ArrayBase;
    abs(): ArrayBase;
    sin(): ArrayBase;
    cos(): ArrayBase;
    tanh(): ArrayBase;
    sigmoid(): ArrayBase;
    sum(options?: Red): ArrayBase;
    mean(options?: Red): ArrayBase;
    prod(options?: Red): ArrayBase;
    max(options?: Red): ArrayBase;
    min(options?: Red): ArrayBase;
    argmax(options?: r.ArgOptions): ArrayBase;
    argmin(options?: r.ArgOptions): ArrayBase;
    reshape(shape: number | readonly number[]): ArrayBase;
    transpose(axes?: readonly number[]): ArrayBase;
    /** The transpose (all axes reversed). */
    readonly T: ArrayBase;
    squeeze(options?: { axis?: number | readonly number[] | null }): ArrayBase;
    expandDims(axis: number | readonly number[]): ArrayBase;
    flatten(): ArrayBase;
    astype(dtype: DType): ArrayBase;
    clip(lo: ArrayLike | null, hi: ArrayLike | null): ArrayBase;
    take(indices: ArrayLike, options?: { axis?: number }): ArrayBase;
  }
}

const methods: Record<string, (this: ArrayBase, ...a: any[]) => ArrayBase> = {
  add(y) { return el.add(this, y); },
  sub(y) { return el.subtract(this, y); },
  mul(y) { return el.multiply(this, y); },
  div(y) { return el.divide(this, y); },
  pow(y) { return el.power(this, y); },
  neg() { return el.negative(this); },
  matmul(y) { return la.matmul(this, y); },
  dot(y) { return la.dot(this, y); },
  maximum(y) { return el.maximum(this, y); },
  minimum(y) { return el.minimum(this, y); },
  eq(y) { return el.equal(this, y); },
  ne(y) { return el.notEqual(this, y); },
  lt(y) { return el.less(this, y); },
  le(y) { return el.lessEqual(this, y); },
  gt(y) { return el.greater(this, y); },
  ge(y) { return el.greaterEqual(this, y); },
  exp() { return m.exp(this); },
  log() { return m.log(this); },
  sqrt() { return m.sqrt(this); },
  square() { return m.square(this); },
  abs() { return m.abs(this); },
  sin() { return m.sin(this); },
  cos() { return m.cos(this); },
  tanh() { return m.tanh(this); },
  sigmoid() { return m.sigmoid(this); },
  sum(o) { return r.sum(this, o); },
  mean(o) { return r.mean(this, o); },
  prod(o) { return r.prod(this, o); },
  max(o) { return r.max(this, o); },
  min(o) { return r.min(this, o); },
  argmax(o) { return r.argmax(this, o); },
  argmin(o) { return r.argmin(this, o); },
  reshape(s) { return sh.reshape(this, s); },
  transpose(a) { return sh.transpose(this, a); },
  squeeze(o) { return sh.squeeze(this, o); },
  expandDims(a) { return sh.expandDims(this, a); },
  flatten() { return sh.ravel(this); },
  astype(d) { return el.astype(this, d); },
  clip(lo, hi) { return el.clip(this, lo, hi); },
  take(i, o) { return ix.take(this, i, o); },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(ArrayBase.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
Object.defineProperty(ArrayBase.prototype, "T", {
  get(this: ArrayBase) {
    return sh.transpose(this);
  },
  configurable: true,
  enumerable: false,
});
