/**
 * Random compositions of primitives: each generated program is checked through every
 * transform (gradients against finite differences, the transposition identity, vmap
 * against a loop, checkpoint against the plain function, Hessian symmetry, and typecheck
 * of every jaxpr the transforms produce).
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import { type NDArray, checkpoint, grad, hessian, np, vmap } from "@cotangent/core";
import { checkGrad, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";

type V = any;
const W = np.array([[0.3, -0.2, 0.1, 0.5], [0.0, 0.4, -0.3, 0.2], [0.6, -0.1, 0.2, -0.4], [0.1, 0.1, 0.1, 0.1]], { dtype: "float64" });

/** One step of a program: reads earlier values by index, appends one value of shape [3, 4]. */
const unary: ((v: V) => V)[] = [
  (v) => np.sin(v),
  (v) => np.tanh(v),
  (v) => np.exp(np.multiply(v, 0.3)),
  (v) => np.square(v),
  (v) => np.sigmoid(v),
  (v) => np.log1p(np.square(v)),
  (v) => np.multiply(v, -1.7),
  (v) => np.matmul(v, W),
  (v) => np.add(v, np.sum(v, { axis: 0, keepdims: true })),
  (v) => np.subtract(v, np.max(v, { axis: 1, keepdims: true })),
  (v) => np.transpose(np.reshape(np.transpose(v), [4, 3])),
  (v) => np.where(np.greater(v, 0.1), v, np.multiply(v, 0.5)),
  (v) => np.cumsum(v, { axis: 1 }),
];
const binary: ((a: V, b: V) => V)[] = [(a, b) => np.add(a, b), (a, b) => np.multiply(a, b), (a, b) => np.subtract(a, b), (a, b) => np.divide(a, np.add(np.square(b), 1))];

type Step = { kind: "u"; op: number; a: number } | { kind: "b"; op: number; a: number; b: number };

const arbStep = fc.oneof(
  fc.record({ kind: fc.constant("u" as const), op: fc.nat(unary.length - 1), a: fc.nat(20) }),
  fc.record({ kind: fc.constant("b" as const), op: fc.nat(binary.length - 1), a: fc.nat(20), b: fc.nat(20) }),
);

const program = (steps: Step[]) => (x: V, y: V) => {
  const vals: V[] = [x, y];
  for (const s of steps) {
    const pick = (i: number) => vals[i % vals.length];
    vals.push(s.kind === "u" ? unary[s.op]!(pick(s.a)) : binary[s.op]!(pick(s.a), pick(s.b)));
  }
  return vals[vals.length - 1];
};

const arrayOf = (seed: number, shape: number[]) =>
  np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i * 0.77) * 0.9), { dtype: "float64", shape }) as NDArray;

describe("random compositions of primitives", () => {
  it("agree through grad, vjp/jvp, vmap, checkpoint and typecheck", () => {
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const f = program(steps);
        const x = arrayOf(seed, [3, 4]);
        const y = arrayOf(seed + 1, [3, 4]);
        checkGrad(f, [x, y], { eps: 1e-6, tol: 2e-5 });
        checkTransposition(f, [x, y], 1e-9);
        checkVmap(f, [arrayOf(seed + 2, [2, 3, 4]), arrayOf(seed + 3, [2, 3, 4])], 1e-12);
        typecheckTransforms(f, [x, y]);
        const fc_ = checkpoint(f);
        expectClose(fc_(x, y), f(x, y), 1e-12);
        const s = (x: V, y: V) => np.sum(f(x, y));
        const sc = (x: V, y: V) => np.sum(fc_(x, y));
        expectClose(grad(sc, { argnums: [0, 1] })(x, y), grad(s, { argnums: [0, 1] })(x, y), 1e-12);
        expectClose(vmap(grad(sc))(arrayOf(seed + 2, [2, 3, 4]), arrayOf(seed + 3, [2, 3, 4])), vmap(grad(s))(arrayOf(seed + 2, [2, 3, 4]), arrayOf(seed + 3, [2, 3, 4])), 1e-12);
      }),
      { numRuns: 25 },
    );
  });
  it("have symmetric Hessians", () => {
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const f = program(steps);
        const y = arrayOf(seed + 1, [3, 4]);
        const h = hessian((x: V) => np.sum(f(x, y)))(arrayOf(seed, [3, 4])) as NDArray;
        const m = np.reshape(h, [12, 12]);
        expectClose(m, np.transpose(m), 1e-9);
      }),
      { numRuns: 10 },
    );
  });
});
