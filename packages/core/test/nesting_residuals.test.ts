/**
 * Residuals that deeply nested control flow passes up travel packed, one flat buffer per
 * dtype (src/higher/control/residual_pack.ts), so that nesting costs linear time. These
 * tests check that the packed programs compute the same derivatives as the plain ones, at
 * every order and under every transform, and that shallow nesting is left as it was.
 */
import { describe, expect, it } from "vitest";
import { checkpoint, checkpointName, checkpointPolicies, grad, jit, jvp, lax, makeJaxpr, np, savedResiduals, typecheck, vmap, type ArrayBase } from "@cotangent/core";
import { expectClose, typecheckTransforms } from "./harness.js";

type Fn = (x: ArrayBase) => ArrayBase;

/**
 * One level's own work, leaving residuals of three dtypes for the backward pass: an int32
 * scalar (argmax, read by the gather's transpose), a bool vector (where's predicate) and
 * float64 ones. Values stay positive, so the conds below take their nesting branch.
 */
const work = (y: ArrayBase): ArrayBase => {
  const picked = np.take(y, np.argmax(y));
  const w = np.where(np.greater(y, 0.5), np.sin(checkpointName(np.add(y, 0.2), "s")), np.multiply(y, y));
  return np.add(w, np.multiply(picked, 0.1));
};

const levels: Record<string, (inner: Fn) => Fn> = {
  // Two steps, so the stacked residuals have a real leading axis.
  scan: (inner) => (x) => lax.scan((c: ArrayBase, _: null) => [inner(work(c)), null], x, null, { length: 2 })[0],
  scan1: (inner) => (x) => lax.scan((c: ArrayBase, _: null) => [inner(work(c)), null], x, null, { length: 1 })[0],
  cond: (inner) => (x) => lax.cond(np.greater(np.sum(x), 0), (y: ArrayBase) => inner(work(y)), (y: ArrayBase) => np.cos(y), x),
  switch: (inner) => (x) => lax.switch(np.array(2, { dtype: "int32" }), [np.cos, np.tanh, (y: ArrayBase) => inner(work(y))], x),
};
// The same functions without control flow (a scan level runs its body twice).
const plainLevels: Record<string, (inner: Fn) => Fn> = {
  scan: (inner) => (x) => inner(work(inner(work(x)))),
  scan1: (inner) => (x) => inner(work(x)),
  cond: (inner) => (x) => inner(work(x)),
  switch: (inner) => (x) => inner(work(x)),
};

/** Levels of the given kinds, outermost first, around a sin. */
const nest = (kinds: readonly string[], table: Record<string, (inner: Fn) => Fn>): Fn => {
  let f: Fn = (x) => np.sin(x);
  for (const k of [...kinds].reverse()) f = table[k]!(f);
  return f;
};
/**
 * The plain twin of `nest(kinds, levels)`. A scan level runs everything inside it twice, so
 * the plain function doubles per scan level: keep those few.
 */
const plainNest = (kinds: readonly string[]): Fn => {
  const go = (i: number): Fn => (i === kinds.length ? (x) => np.sin(x) : plainLevels[kinds[i]!]!(go(i + 1)));
  return go(0);
};

const x = np.array([0.3, 0.7, 1.1], { dtype: "float64" });
const v = np.array([0.5, -1, 0.25], { dtype: "float64" });
const xs = np.array([[0.3, 0.7, 1.1], [0.9, 0.4, 0.6]], { dtype: "float64" });
const sumOf = (f: Fn) => (y: ArrayBase) => np.sum(f(y));

// Deep enough that the outer levels pack (each level hands on several residuals), with scans
// few enough that the plain twin (doubling per scan) stays small.
const mixed = ["cond", "scan", "switch", "cond", "cond", "scan", "switch", "cond", "switch", "cond", "scan", "cond", "switch", "cond"];

describe("deeply nested control flow with packed residuals", () => {
  const f = nest(mixed, levels);
  const ref = plainNest(mixed);

  it("packs: the backward pass reads one buffer per dtype from the outer levels", () => {
    const text = makeJaxpr(grad(sumOf(f)))(x).toString();
    expect(text).toMatch(/concatenate/);
    // A scalar int32 residual, a bool vector and float64 values all packed.
    expect(text).toMatch(/i32\[\d+\] = concatenate/);
    expect(text).toMatch(/bool\[\d+\] = concatenate/);
    expect(text).toMatch(/f64\[\d+\] = concatenate/);
  });

  it("grad, jvp, vmap(grad) and second derivatives agree with the plain function", () => {
    expectClose(grad(sumOf(f))(x), grad(sumOf(ref))(x), 1e-12);
    const [o, t] = jvp(f, [x], [v]);
    const [ro, rt] = jvp(ref, [x], [v]);
    expectClose(o, ro, 1e-12);
    expectClose(t, rt, 1e-12);
    expectClose(vmap(grad(sumOf(f)))(xs), vmap(grad(sumOf(ref)))(xs), 1e-12);
    expectClose(jit(grad(sumOf(f)))(x), grad(sumOf(ref))(x), 1e-12);
    // Hessian-vector products: forward over reverse, and reverse over reverse.
    expectClose(jvp(grad(sumOf(f)), [x], [v])[1], jvp(grad(sumOf(ref)), [x], [v])[1], 1e-10);
    const hvp = (g: Fn) => grad((y: ArrayBase) => np.sum(np.multiply(grad(sumOf(g))(y), v)));
    expectClose(hvp(f)(x), hvp(ref)(x), 1e-10);
  });

  it("every transform's IR typechecks", () => {
    typecheckTransforms(f, [x]);
    typecheck(makeJaxpr(grad(sumOf(f)))(x));
    typecheck(makeJaxpr(vmap(grad(sumOf(f))))(xs));
  });

  it("under checkpoint policies the packed buffers are saved or recomputed correctly", () => {
    const g = grad(sumOf(ref))(x);
    for (const policy of [checkpointPolicies.nothingSaveable, checkpointPolicies.everythingSaveable, checkpointPolicies.saveOnlyTheseNames("s")]) {
      const ck = checkpoint(f, { policy });
      expectClose(grad(sumOf(ck))(x), g, 1e-12);
      typecheck(makeJaxpr(grad(sumOf(ck)))(x));
    }
  });

  it("scan and cond nested alone, 24 deep", () => {
    for (const kind of ["scan1", "cond"]) {
      const kinds = new Array<string>(24).fill(kind);
      const deep = nest(kinds, levels);
      expectClose(grad(sumOf(deep))(x), grad(sumOf(plainNest(kinds)))(x), 1e-12);
      typecheck(makeJaxpr(grad(sumOf(deep)))(x));
    }
  });
});

describe("shallow nesting is left as it was", () => {
  it("a scan in a scan in a cond keeps every residual as it is", () => {
    const f = nest(["cond", "scan", "scan"], levels);
    expect(makeJaxpr(grad(sumOf(f)))(x).toString()).not.toMatch(/concatenate/);
    expect(savedResiduals(sumOf(f), x).map((r) => r.origin)).not.toContain("concatenate");
    // Through scans, savedResiduals still names the primitive that computed each one.
    const origins = savedResiduals(sumOf(nest(["scan", "scan"], levels)), x).map((r) => r.origin);
    expect(origins).toContain("argmax");
  });
});
