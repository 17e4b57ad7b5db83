/**
 * grad / jvp / vmap through control flow and checkpoint nested 40 deep finish quickly and
 * agree with the same function written without them. Before the rewrites were memoised,
 * grad through cond nested d deep cost 2^d (0.3 s at d = 10, 15 s at 16), as did jvp and
 * grad through nested scan; 40 deep could not finish. `pnpm bench:nesting` prints the cost
 * per level.
 */
import { describe, expect, it } from "vitest";
import { checkpoint, grad, jvp, lax, linearize, makeJaxpr, np, savedResiduals, vmap, type ArrayBase, type Jaxpr } from "@cotangent/core";
import { expectClose } from "./harness.js";

type Fn = (x: ArrayBase) => ArrayBase;

// Each level applies sin and then the next level (x stays positive, so cond and switch take
// the nesting branch); checkpoint's level also scales by 0.5.
const nesters: Record<string, (inner: Fn) => Fn> = {
  cond: (inner) => (x) => lax.cond(np.greater(np.sum(x), 0), (y: ArrayBase) => inner(np.sin(y)), (y: ArrayBase) => np.cos(y), x),
  switch: (inner) => (x) =>
    lax.switch(np.astype(np.greater(np.sum(x), 0), "int32"), [(y: ArrayBase) => np.cos(y), (y: ArrayBase) => inner(np.sin(y)), (y: ArrayBase) => np.tanh(y)], x),
  scan: (inner) => (x) => lax.scan((c: ArrayBase, _: null) => [inner(np.sin(c)), null], x, null, { length: 1 })[0],
  foriLoop: (inner) => (x) => lax.foriLoop(0, 1, (_i, c: ArrayBase) => inner(np.sin(c)), x),
  whileLoop: (inner) => (x) =>
    lax.whileLoop(
      ([i]: [ArrayBase, ArrayBase]) => np.less(i, 1),
      ([i, c]: [ArrayBase, ArrayBase]) => [np.add(i, 1), inner(np.sin(c))] as [ArrayBase, ArrayBase],
      [np.array(0, { dtype: "int32" }), x],
    )[1],
  checkpoint: (inner) => checkpoint((x: ArrayBase) => np.sin(inner(np.multiply(x, 0.5)))),
};
const plain: Record<string, (inner: Fn) => Fn> = {
  checkpoint: (inner) => (x) => np.sin(inner(np.multiply(x, 0.5))),
};
const plainLevel = (inner: Fn): Fn => (x) => inner(np.sin(x));

const nest = (level: (inner: Fn) => Fn, depth: number): Fn => {
  let f: Fn = (x) => np.sin(x);
  for (let k = 0; k < depth; k++) f = level(f);
  return f;
};

const depth = 40;
const x = np.array([0.3, 0.7, 1.1], { dtype: "float64" });
const xs = np.array([[0.3, 0.7, 1.1], [0.2, 0.4, 0.9]], { dtype: "float64" });
const t = np.array([1, -0.5, 2], { dtype: "float64" });
// Generous: each case takes well under a second; exponential cost would take hours.
const bound = 20_000;

const timed = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};

describe(`transforms through ${depth} nested levels`, () => {
  for (const name of Object.keys(nesters)) {
    it(name, () => {
      const f = nest(nesters[name]!, depth);
      const ref = nest(plain[name] ?? plainLevel, depth);
      const [[o, to], tJvp] = timed(() => jvp(f, [x], [t]));
      const [ro, rto] = jvp(ref, [x], [t]);
      expectClose(o, ro, 1e-12);
      expectClose(to, rto, 1e-12);
      const [v, tVmap] = timed(() => vmap(f)(xs));
      expectClose(v, vmap(ref)(xs), 1e-12);
      const times = [tJvp, tVmap];
      if (name !== "whileLoop") {
        const [g, tGrad] = timed(() => grad((x: ArrayBase) => np.sum(f(x)))(x));
        expectClose(g, grad((x: ArrayBase) => np.sum(ref(x)))(x), 1e-12);
        times.push(tGrad);
      }
      for (const ms of times) expect(ms).toBeLessThan(bound);
    });
  }
});

/**
 * The program a transform builds grows linearly with the depth: the number of variable
 * reads and writes (equation inputs and outputs, each distinct sub-jaxpr counted once) per
 * nesting level at depth 60 against depth 20. This is what the time of building,
 * transposing and running it follows, and unlike a timing it does not depend on the load of
 * the machine. Reverse mode once passed every inner level's residuals up through each level
 * around it (quadratic: the ratio was 2.0 to 2.2 for grad through scan, foriLoop, cond and
 * switch); now those travel packed (src/higher/control/residual_pack.ts) and it stays near 1.
 */
describe("program size per nesting level does not grow with depth", () => {
  const atoms = (j: Jaxpr, seen: Set<Jaxpr>): number => {
    let n = 0;
    for (const e of j.eqns) {
      n += e.inputs.length + e.outputs.length;
      for (const sub of e.primitive.subJaxprs?.(e.params) ?? []) {
        if (!seen.has(sub)) {
          seen.add(sub);
          n += atoms(sub, seen);
        }
      }
    }
    return n;
  };
  const programs: Record<string, (f: Fn) => Jaxpr> = {
    grad: (f) => makeJaxpr(grad((y: ArrayBase) => np.sum(f(y))))(x),
    jvp: (f) => makeJaxpr((y: ArrayBase) => jvp(f, [y], [t]))(x),
    vmap: (f) => makeJaxpr(vmap(f))(xs),
  };
  for (const name of Object.keys(nesters)) {
    for (const [tname, program] of Object.entries(programs)) {
      if (name === "whileLoop" && tname === "grad") continue;
      it(`${tname} through ${name}`, () => {
        const perLevel = (d: number) => atoms(program(nest(nesters[name]!, d)), new Set()) / d;
        const ratio = perLevel(60) / perLevel(20);
        expect(ratio, `atoms per level at depth 60 / depth 20 for ${tname} through ${name}`).toBeLessThan(1.2);
      });
    }
  }
});

/**
 * Cost per level must not grow with depth: the time per level at depth 40 against depth 10,
 * for grad, jvp and vmap together (best of five alternating samples of equal length, after a
 * warm-up, so that one GC pause or another process does not decide it). Linear cost gives a ratio near 1; a rewrite that
 * re-does the inner levels' work at each level (quadratic) gives about 4, exponential far
 * more. The bound leaves room for noise on a loaded machine: the deterministic test above
 * is the sharp one, this one catches a quadratic cost that does not show in the program.
 */
describe("cost per nesting level does not grow with depth", () => {
  const transforms: Record<string, (f: Fn) => unknown> = {
    grad: (f) => grad((y: ArrayBase) => np.sum(f(y)))(x),
    jvp: (f) => jvp(f, [x], [t]),
    vmap: (f) => vmap(f)(xs),
  };
  const runAll = (name: string, f: Fn) => {
    for (const [tname, transform] of Object.entries(transforms)) if (!(name === "whileLoop" && tname === "grad")) transform(f);
  };
  /** Per-level cost at depth 40 over depth 10. Samples alternate and last about as long (depth 10 runs four times), so load from other processes hits both alike. */
  const growth = (name: string): number => {
    const f10 = nest(nesters[name]!, 10);
    const f40 = nest(nesters[name]!, 40);
    runAll(name, f10);
    runAll(name, f40);
    let best10 = Infinity;
    let best40 = Infinity;
    for (let k = 0; k < 5; k++) {
      best10 = Math.min(best10, timed(() => [0, 1, 2, 3].forEach(() => runAll(name, f10)))[1]);
      best40 = Math.min(best40, timed(() => runAll(name, f40))[1]);
    }
    return best40 / best10;
  };
  for (const name of Object.keys(nesters)) {
    it(name, () => {
      const ratio = growth(name);
      console.log(`nesting ${name}: per-level cost at depth 40 / depth 10 = ${ratio.toFixed(2)}`);
      expect(ratio, `per-level cost at depth 40 / depth 10 for ${name}`).toBeLessThan(3.5);
    });
  }
});

describe("savedResiduals", () => {
  it("costs about one linearize on a long chain (it searched the program once per residual)", () => {
    const n = 1000;
    const chain = (x: ArrayBase) => {
      let y = x;
      for (let i = 0; i < n; i++) y = np.sin(y);
      return np.sum(y);
    };
    // The best of three runs each, against noise from other processes.
    const best = (f: () => unknown) => Math.min(timed(f)[1], timed(f)[1], timed(f)[1]);
    const tLin = best(() => linearize(chain, x));
    const tSaved = best(() => savedResiduals(chain, x));
    const saved = savedResiduals(chain, x);
    expect(saved.length).toBe(n);
    expect(saved[1]!.origin).toBe("cos");
    expect(saved[1]!.source).toMatch(/nesting_cost\.test\.ts:\d+/);
    // savedResiduals does what linearize does, less running the forward pass.
    expect(tSaved).toBeLessThan(1.5 * tLin + 100);
  });
});
