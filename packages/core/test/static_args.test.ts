/**
 * Only arrays and JS numbers are traced: JS booleans, strings, functions and null reach the
 * function as the values they were, in every transform and control-flow body, so `if (flag)`
 * takes the branch the caller chose. `staticArgnums` makes any argument static.
 */
import { describe, expect, it } from "vitest";
import {
  checkpoint,
  customJvp,
  customVjp,
  grad,
  jacfwd,
  jvp,
  lax,
  linearize,
  linearTranspose,
  makeJaxpr,
  np,
  typecheck,
  vjp,
  vmap,
  type ArrayBase,
} from "@cotangent/core";
import { expectClose } from "./harness.js";

const x = np.array([1, -2, 3], { dtype: "float64" });
/** Doubles x when the flag is true, negates it otherwise: a traced flag (always truthy) doubles. */
const h = (x: any, flag: any) => {
  expect(typeof flag).toBe("boolean");
  return flag ? np.multiply(x, 2) : np.negative(x);
};

describe("JS booleans stay booleans", () => {
  it("vmap", () => {
    expect(vmap(h, { inAxes: [0, null] })(x, false).toArray()).toEqual([-1, 2, -3]);
    expect(vmap(h, { inAxes: [0, null] })(x, true).toArray()).toEqual([2, -4, 6]);
    // A static argument has no leaves, so the default inAxes (0 for everything) applies to x alone.
    expect(vmap(h)(x, false).toArray()).toEqual([-1, 2, -3]);
  });
  it("checkpoint, also under grad and vmap", () => {
    expect(checkpoint(h)(x, false).toArray()).toEqual([-1, 2, -3]);
    expect(grad((x: any) => np.sum(checkpoint(h)(x, false)))(x).toArray()).toEqual([-1, -1, -1]);
    expect(vmap((x: any) => checkpoint(h)(x, false))(x).toArray()).toEqual([-1, 2, -3]);
  });
  it("makeJaxpr: the flag is no input of the jaxpr", () => {
    const j = makeJaxpr(h)(x, false);
    expect(j.invars.length).toBe(1);
    expect(j.toString()).toContain("neg");
    expect(j.toString()).not.toContain("mul");
  });
  it("jvp, linearize, vjp, linearTranspose", () => {
    const t = np.array([1, 1, 1], { dtype: "float64" });
    const [o, to] = jvp(h, [x, false], [t, null]);
    expect(o.toArray()).toEqual([-1, 2, -3]);
    expect(to.toArray()).toEqual([-1, -1, -1]);
    const [o2, lin] = linearize(h, x, false);
    expect(o2.toArray()).toEqual([-1, 2, -3]);
    expect(lin(t, null).toArray()).toEqual([-1, -1, -1]);
    const [, back] = vjp(h, x, false);
    const cts = back(t);
    expect(cts[0].toArray()).toEqual([-1, -1, -1]);
    expect(cts[1]).toBe(null);
    const tr = linearTranspose(h, x, true)(t);
    expect(tr[0].toArray()).toEqual([2, 2, 2]);
    expect(tr[1]).toBe(null);
    expect(jacfwd((x: any, flag: boolean) => np.sum(h(x, flag)))(x, false).toArray()).toEqual([-1, -1, -1]);
  });
  it("customJvp and customVjp see the flag; its tangent and cotangent are null", () => {
    const cj = customJvp(h).defJvp(([x, flag], [t, tf]) => {
      expect(tf).toBe(null);
      return [h(x, flag), flag ? np.multiply(t, 2) : np.negative(t)];
    });
    expect(cj(x, false).toArray()).toEqual([-1, 2, -3]);
    expect(grad((x: any) => np.sum(cj(x, false)))(x).toArray()).toEqual([-1, -1, -1]);
    const cv = customVjp(h).defVjp(
      (x: any, flag: boolean) => [h(x, flag), flag],
      (flag: boolean, ct: any) => [flag ? np.multiply(ct, 2) : np.negative(ct), null],
    );
    expect(cv(x, false).toArray()).toEqual([-1, 2, -3]);
    expect(grad((x: any) => np.sum(cv(x, false)))(x).toArray()).toEqual([-1, -1, -1]);
    expect(grad((x: any) => np.sum(cv(x, true)))(x).toArray()).toEqual([2, 2, 2]);
  });
  it("control-flow bodies: cond/switch operands, scan xs, loop carries of strings and functions", () => {
    const p = np.array(true);
    expect(lax.cond(p, h, (x: any, flag: boolean) => h(np.negative(x), flag), x, false).toArray()).toEqual([-1, 2, -3]);
    expect(lax.switch(np.array(0, { dtype: "int32" }), [h, h], x, false).toArray()).toEqual([-1, 2, -3]);
    const [c, ys]: [any, any] = lax.scan(
      (c: any, xs: { v: ArrayBase; flag: boolean }) => [np.add(c, h(xs.v, xs.flag)), xs.flag ? 1 : 0],
      np.array(0, { dtype: "float64" }),
      { v: x, flag: false },
    );
    expect((c as ArrayBase).item()).toBe(-2);
    expect((ys as ArrayBase).toArray()).toEqual([0, 0, 0]);
    // A carry's string or function is static and must come back unchanged; a boolean carry is traced (it may change).
    const act = (v: any) => np.negative(v);
    const [, out] = lax.whileLoop(
      ([i]: [ArrayBase, unknown, unknown]) => np.less(i, 3),
      ([i, v, f]: [ArrayBase, ArrayBase, (v: any) => any]) => [np.add(i, 1), f(v), f] as [ArrayBase, ArrayBase, typeof f],
      [np.array(0, { dtype: "int32" }), x, act],
    );
    expect((out as ArrayBase).toArray()).toEqual([-1, 2, -3]);
    const [, , mode] = lax.foriLoop(0, 2, (_i, [v, done, m]: [ArrayBase, any, string]) => [np.add(v, 1), np.logicalOr(done, np.greater(np.sum(v), 0)), m], [x, false, "train"]);
    expect(mode).toBe("train");
  });
  it("strings and functions reach the function; grad keeps them too", () => {
    const g = (x: any, act: (v: any) => any, name: string) => {
      expect(name).toBe("tanh");
      return act(x);
    };
    expectClose(vmap(g, { inAxes: [0, null, null] })(x, np.tanh, "tanh"), np.tanh(x));
    expectClose(checkpoint(g)(x, np.tanh, "tanh"), np.tanh(x));
    expect(makeJaxpr(g)(x, np.tanh, "tanh").toString()).toContain("tanh");
    expectClose(grad((x: any, act: any, n: string) => np.sum(g(x, act, n)))(x, np.tanh, "tanh"), np.subtract(1, np.square(np.tanh(x))));
  });
});

describe("staticArgnums", () => {
  const powerLoop = (x: any, n: number) => {
    expect(typeof n).toBe("number");
    let y = x;
    for (let i = 1; i < n; i++) y = np.multiply(y, x);
    return y;
  };
  it("checkpoint: a JS number used in JS control flow", () => {
    expect(checkpoint(powerLoop, { staticArgnums: 1 })(x, 3).toArray()).toEqual([1, -8, 27]);
    expect(grad((x: any) => np.sum(checkpoint(powerLoop, { staticArgnums: [1] })(x, 2)))(x).toArray()).toEqual([2, -4, 6]);
    expect(checkpoint(powerLoop, { staticArgnums: -1 })(x, 2).toArray()).toEqual([1, 4, 9]);
  });
  it("makeJaxpr: the static argument is no input", () => {
    const j = makeJaxpr(powerLoop, { staticArgnums: [1] })(x, 3);
    expect(j.invars.length).toBe(1);
    expect(j.eqns.length).toBe(2);
    typecheck(j);
  });
  it("an out-of-range staticArgnums is a typed error", () => {
    expect(() => makeJaxpr(powerLoop, { staticArgnums: 2 })(x, 3)).toThrow(/staticArgnums 2 is out of range/);
    expect(() => checkpoint(powerLoop, { staticArgnums: [0.5] })(x, 3)).toThrow(/staticArgnums 0.5 is out of range/);
  });
});
