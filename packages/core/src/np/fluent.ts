/**
 * Installs the fluent methods declared on `ArrayBase` (array.ts): `x.add(y).sum()` on
 * arrays and tracers, as sugar over `np.*`. They are installed here, above the array
 * layer, so that arrays do not depend on the user API.
 */
import { ArrayBase } from "../array.js";
import { ValueError } from "../errors.js";
import * as el from "./elementwise.js";
import { AtIndexer } from "./at.js";
import * as ix from "./indexing.js";
import * as la from "./linalg.js";
import * as m from "./math.js";
import * as r from "./reductions.js";
import * as sh from "./shape.js";
import * as so from "./sorting.js";

/** The np functions take a prefix of their positional arguments; the methods pass theirs through. */
type Variadic = (...a: any[]) => ArrayBase;

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
  sum(...a) { return (r.sum as Variadic)(this, ...a); },
  mean(...a) { return (r.mean as Variadic)(this, ...a); },
  prod(...a) { return (r.prod as Variadic)(this, ...a); },
  max(...a) { return (r.max as Variadic)(this, ...a); },
  min(...a) { return (r.min as Variadic)(this, ...a); },
  argmax(...a) { return (r.argmax as Variadic)(this, ...a); },
  argmin(...a) { return (r.argmin as Variadic)(this, ...a); },
  reshape(s) { return sh.reshape(this, s); },
  transpose(a) { return sh.transpose(this, a); },
  squeeze(...a) { return (sh.squeeze as Variadic)(this, ...a); },
  expandDims(a) { return sh.expandDims(this, a); },
  flatten() { return sh.ravel(this); },
  astype(d) { return el.astype(this, d); },
  clip(lo, hi) { return el.clip(this, lo, hi); },
  take(i, ...a) { return (ix.take as Variadic)(this, i, ...a); },
  sort(...a) { return (so.sort as Variadic)(this, ...a); },
  argsort(...a) { return (so.argsort as Variadic)(this, ...a); },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(ArrayBase.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
// `at` returns a helper object, not an array, so it sits outside the table above.
Object.defineProperty(ArrayBase.prototype, "at", {
  value: function (this: ArrayBase, ...index: unknown[]) {
    return new AtIndexer(this, index as never);
  },
  writable: true,
  configurable: true,
  enumerable: false,
});
Object.defineProperty(ArrayBase.prototype, Symbol.iterator, {
  value: function* (this: ArrayBase): Generator<ArrayBase> {
    if (this.ndim === 0) throw new ValueError("iteration over a 0-d array", { op: "iterate", hint: "a scalar has no first axis to iterate over; use x.item()" });
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
