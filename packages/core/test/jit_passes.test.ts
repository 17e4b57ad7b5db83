/**
 * The optimization passes of the compiler, one by one: golden jaxprs before and after, and
 * on random programs (control flow included) each pass keeps `typecheck` green, keeps the
 * values, and is idempotent.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type Jaxpr, type NDArray, checkpoint, evalJaxpr, grad, jit, lax, makeJaxpr, np, typecheck, vmap } from "@cotangent/core";
import { cse } from "../src/compile/passes/cse.js";
import { dce } from "../src/compile/passes/dce.js";
import { foldConstants } from "../src/compile/passes/fold.js";
import { inlineCalls } from "../src/compile/passes/inline.js";
import { optimize, passes } from "../src/compile/passes/pipeline.js";
import { simplify } from "../src/compile/passes/simplify.js";
import { expectClose } from "./harness.js";

type V = any;
const x3 = np.ones([3]);
const text = (j: Jaxpr) => j.toString();
/** Golden: the jaxpr of `f` before and after `pass`, and the pass keeps it well-typed and idempotent. */
const golden = (pass: (j: Jaxpr) => Jaxpr, f: (...a: any[]) => unknown, args: unknown[], before: string, after: string) => {
  const j = makeJaxpr(f)(...args);
  expect(text(j)).toBe(before);
  const o = pass(j);
  typecheck(o);
  expect(text(o)).toBe(after);
  expect(text(pass(o))).toBe(after);
};

describe("DCE", () => {
  it("drops the unused primal output of a grad jaxpr", () => {
    golden(
      dce,
      grad((x: V) => np.sum(np.sin(x))),
      [x3],
      `{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = cos a
    _:f32[] = reduce_sum[axes=(0,)] b
    d:f32[3] = mul 1.0:f32[] c
  in (d,) }`,
      `{ lambda ; a:f32[3]. let
    b:f32[3] = cos a
    c:f32[3] = mul 1.0:f32[] b
  in (c,) }`,
    );
  });
  it("goes into scans: unused stacked outputs and carries that feed nothing live", () => {
    golden(
      dce,
      (x: V) => lax.scan((c: V, xi: V) => [np.add(c, xi), [np.sin(xi), np.cos(c)]], np.zeros([]), x)[1][0],
      [x3],
      `{ lambda ; a:f32[3]. let
    _:f32[] b:f32[3] _:f32[3] = scan[
      jaxpr={ lambda ; c:f32[] d:f32[]. let
          e:f32[] = add c d
          f:f32[] = sin d
          g:f32[] = cos c
        in (e, f, g) }
      num_consts=0
      num_carry=1
      length=3
      reverse=False
    ] 0.0:f32[] a
  in (b,) }`,
      `{ lambda ; a:f32[3]. let
    b:f32[3] = scan[
      jaxpr={ lambda ; c:f32[]. let
          d:f32[] = sin c
        in (d,) }
      num_consts=0
      num_carry=0
      length=3
      reverse=False
    ] a
  in (b,) }`,
    );
  });
  it("goes into calls and cond branches", () => {
    const f = (x: V) => {
      const [a] = jit((y: V) => [np.sin(y), np.cos(y)])(x);
      const [b] = lax.cond(np.greater(np.sum(x), 0), (y: V) => [np.exp(y), np.log(y)], (y: V) => [y, np.sqrt(y)], x);
      return np.add(a, b);
    };
    const o = dce(makeJaxpr(f)(x3));
    typecheck(o);
    const t = text(o);
    expect(t).not.toContain("cos");
    expect(t).not.toContain("log");
    expect(t).not.toContain("sqrt");
    expect(t).toContain("sin");
    expect(t).toContain("exp");
  });
});

describe("CSE", () => {
  it("merges equal equations", () => {
    golden(
      cse,
      (x: V) => np.add(np.sin(x), np.sin(x)),
      [x3],
      `{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = sin a
    d:f32[3] = add b c
  in (d,) }`,
      `{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = add b b
  in (c,) }`,
    );
  });
  it("keeps equations with different params apart", () => {
    const j = cse(makeJaxpr((x: V) => np.add(np.sum(np.reshape(x, [3, 1]), { axis: 0 }), np.sum(np.reshape(x, [3, 1]), { axis: 1 })))(x3));
    expect(text(j).match(/reduce_sum/g)!.length).toBe(2);
    expect(text(j).match(/reshape/g)!.length).toBe(1);
  });
});

describe("constant folding", () => {
  it("evaluates equations on known values once", () => {
    golden(
      (j) => dce(foldConstants(j)),
      (x: V) => np.add(x, np.multiply(np.exp(np.array(1)), 2)),
      [x3],
      `{ lambda ; a:f32[3]. let
    b:f32[] = exp 1.0:f32[]
    c:f32[] = mul b 2.0:f32[]
    d:f32[3] = add a c
  in (d,) }`,
      `{ lambda ; a:f32[3]. let
    b:f32[3] = add a 5.436563491821289:f32[]
  in (b,) }`,
    );
  });
  it("does not expand a broadcast of a scalar", () => {
    // The cotangent of a sum is the seed broadcast to the input's shape.
    const j = foldConstants(makeJaxpr(grad((x: V) => np.sum(x)))(np.ones([1000])));
    expect(j.consts.length).toBe(0);
    expect(j.toString()).toContain("broadcast_in_dim[shape=(1000,) broadcast_dimensions=()] 1.0:f32[]");
  });
});

describe("algebraic simplification", () => {
  it("×1, reshape and transpose chains (x + zeros stays: -0 + 0 is +0, not -0)", () => {
    golden(
      (j) => dce(simplify(j)),
      (x: V) => np.transpose(np.transpose(np.add(np.multiply(np.reshape(np.reshape(x, [3, 1]), [1, 3]), 1), np.zeros([1, 3])))),
      [x3],
      `{ lambda a:f32[1,3]; b:f32[3]. let
    c:f32[3,1] = reshape[new_sizes=(3, 1)] b
    d:f32[1,3] = reshape[new_sizes=(1, 3)] c
    e:f32[1,3] = mul d 1.0:f32[]
    f:f32[1,3] = add e a
    g:f32[3,1] = transpose[permutation=(1, 0)] f
    h:f32[1,3] = transpose[permutation=(1, 0)] g
  in (h,) }`,
      `{ lambda a:f32[1,3]; b:f32[3]. let
    c:f32[1,3] = reshape[new_sizes=(1, 3)] b
    d:f32[1,3] = add c a
  in (d,) }`,
    );
  });
  it("float x + 0 is kept and x + (-0), x - 0 are removed: jit keeps the sign of a zero result", () => {
    const f = (x: V) => np.subtract(np.add(np.add(x, -0), 0), 0);
    const j = optimize(makeJaxpr(f)(x3)).jaxpr;
    expect(text(j)).toBe(`{ lambda ; a:f32[3]. let
    b:f32[3] = add a 0.0:f32[]
  in (b,) }`);
    const negZero = np.array([-0, 1, -0], { dtype: "float32" });
    expect(Array.from(jit(f)(negZero).toTypedArray()).map((v) => Object.is(v, -0))).toEqual([false, false, false]);
    expect(Array.from(jit((x: V) => np.add(x, -0))(negZero).toTypedArray()).map((v) => Object.is(v, -0))).toEqual([true, false, true]);
  });
  it("removes the instantiated zero and one seeds of a backward pass", () => {
    const j = optimize(makeJaxpr(grad((x: V) => np.sum(np.sin(x))))(x3)).jaxpr;
    expect(text(j)).toBe(`{ lambda ; a:f32[3]. let
    b:f32[3] = cos a
  in (b,) }`);
  });
  it("a scalar dot_general (the transpose of a vdot) becomes a multiplication, then goes if the scalar is one", () => {
    const s = np.array(2.5, { dtype: "float32" });
    const j = simplify(makeJaxpr((a: V, x: V) => lax.dotGeneral(a, x, [[[], []], [[], []]]))(s, x3));
    expect(text(j)).toBe(`{ lambda ; a:f32[] b:f32[3]. let
    c:f32[3] = mul a b
  in (c,) }`);
    const f = (x: V, v: V) => grad((y: V) => np.vdot(np.sin(y), v))(x);
    expect(text(optimize(makeJaxpr(f)(x3, x3)).jaxpr)).not.toContain("dot_general");
    expectClose(jit(f)(x3, x3), f(x3, x3), 1e-6);
  });
  it("does not simplify x*0 (an inf or NaN input must stay NaN)", () => {
    const j = simplify(makeJaxpr((x: V) => np.multiply(x, 0))(x3));
    expect(text(j)).toContain("mul");
  });
});

describe("inlining", () => {
  it("splices nested jit and checkpoint calls", () => {
    golden(
      inlineCalls,
      (x: V) => jit((y: V) => np.sin(y))(checkpoint((z: V) => np.cos(z))(x)),
      [x3],
      `{ lambda ; a:f32[3]. let
    b:f32[3] = checkpoint[
      jaxpr={ lambda ; c:f32[3]. let
          d:f32[3] = cos c
        in (d,) }
      policy=nothing_saveable
    ] a
    e:f32[3] = jit[
      jaxpr={ lambda ; f:f32[3]. let
          g:f32[3] = sin f
        in (g,) }
      name=fn
    ] b
  in (e,) }`,
      `{ lambda ; a:f32[3]. let
    b:f32[3] = cos a
    c:f32[3] = sin b
  in (c,) }`,
    );
  });
  it("gives fresh variables to a body inlined twice", () => {
    const g = jit((y: V) => np.sin(y));
    const j = inlineCalls(makeJaxpr((x: V) => np.add(g(x), g(np.cos(x))))(x3));
    typecheck(j);
    expect(j.eqns.length).toBe(4);
  });
});

// Random programs for the pass properties.
const ops: ((v: V, w: V) => V)[] = [
  (v) => np.sin(v),
  (v, w) => np.add(v, w),
  (v) => np.multiply(v, 1),
  (v) => np.add(v, 0),
  (v) => np.transpose(np.transpose(v)),
  (v) => np.reshape(np.reshape(v, [4, 3]), [3, 4]),
  (v, w) => np.multiply(v, np.sin(w)),
  (v) => np.sum(v, { axis: 0, keepdims: true }),
  (v) => np.multiply(v, np.exp(np.array(0.5, { dtype: "float64" }))),
  (v) => lax.scan((c: V, r: V) => [np.add(c, r), np.multiply(c, 2)], np.zeros([4], { dtype: "float64" }), v)[1],
  (v) => lax.cond(np.greater(np.sum(v), 0), (a: V) => np.cos(a), (a: V) => np.add(a, 0), v),
  (v) => jit((a: V) => np.tanh(np.multiply(a, 1)))(v),
  (v) => checkpoint((a: V) => np.sin(np.sin(a)))(v),
];
const arbProgram = fc.array(fc.tuple(fc.nat(ops.length - 1), fc.nat(9), fc.nat(9)), { minLength: 1, maxLength: 8 });
const build = (steps: [number, number, number][]) => (x: V) => {
  const vals: V[] = [x];
  for (const [o, a, b] of steps) vals.push(ops[o]!(vals[a % vals.length], vals[b % vals.length]));
  return np.sum(vals[vals.length - 1]);
};

describe("every pass on random programs", () => {
  it("keeps typecheck green, keeps values, and is idempotent (also on grad and vmap jaxprs)", () => {
    const x = np.array(Array.from({ length: 12 }, (_, i) => Math.sin(i)), { dtype: "float64", shape: [3, 4] }) as NDArray;
    fc.assert(
      fc.property(arbProgram, (steps) => {
        const f = build(steps);
        for (const j of [makeJaxpr(f)(x), makeJaxpr(grad(f))(x), makeJaxpr(vmap(grad(f)))(np.stack([x, x]))]) {
          const args = j.invars.length === 1 && j.invars[0]!.aval.ndim === 3 ? [np.stack([x, x])] : [x];
          const ref = evalJaxpr(j, args);
          for (const p of [...passes, { name: "all", run: (k: Jaxpr) => optimize(k).jaxpr }]) {
            const o = p.run(j);
            typecheck(o);
            expectClose(evalJaxpr(o, args), ref, 1e-12);
            const again = p.run(o);
            if (p.name !== "fold" && p.name !== "all") expect(again).toBe(o); // nothing left to do: the same object
            expect(text(again)).toBe(text(o));
          }
        }
      }),
      { numRuns: 20 },
    );
  });
});
