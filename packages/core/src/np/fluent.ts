/**
 * Installs the fluent methods declared on `ArrayBase` (array.ts): `x.add(y).sum()` on
 * arrays and tracers, as sugar over `np.*`. They are installed here, above the array
 * layer, so that arrays do not depend on the user API.
 */
import { ArrayBase } from "../array.js";
import * as el from "./elementwise.js";
import * as ix from "./indexing.js";
import * as la from "./linalg.js";
import * as m from "./math.js";
import * as r from "./reductions.js";
import * as sh from "./shape.js";

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
Object.defineProperty(ArrayBase.prototype, Symbol.iterator, {
  value: function* (this: ArrayBase): Generator<ArrayBase> {
    if (this.ndim === 0) throw new TypeError("iteration over a 0-d array");
    const n = this.shape[0]!;
    for (let i = 0; i < n; i++) yield ix.index(this, [i]);
  },
  writable: true,
  configurable: true,
  enumerable: false,
});
Object.defineProperty(ArrayBase.prototype, "T", {
  get(this: ArrayBase) {
    return sh.transpose(this);
  },
  configurable: true,
  enumerable: false,
});
