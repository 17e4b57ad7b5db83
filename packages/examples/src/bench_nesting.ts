/**
 * `pnpm bench:nesting`: the cost of grad / jvp / vmap through control flow and checkpoint
 * nested d deep, per nesting level. Each level holds a few equations of its own and the
 * next level inside one branch or body (a loop runs one step), so the program grows
 * linearly with d and a transform that handles each sub-jaxpr once costs time linear in d:
 * the "ms per level" column stays flat.
 *
 *   pnpm bench:nesting [--depths 5,10,20,40] [--only cond,scan] [--repeats 3]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkpoint, grad, jvp, lax, np, vmap, type ArrayBase } from "@cotangent/core";

type Fn = (x: ArrayBase) => ArrayBase;

/** One level of nesting around `inner`, for each construct. */
export const nesters: Record<string, (inner: Fn) => Fn> = {
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

/** `f` nested `depth` levels deep with `nest`. */
export const nested = (nest: (inner: Fn) => Fn, depth: number): Fn => {
  let f: Fn = (x) => np.sin(x);
  for (let k = 0; k < depth; k++) f = nest(f);
  return f;
};

/** The transforms measured; whileLoop has no reverse mode (its trip count is dynamic). */
export const transforms: Record<string, (f: Fn, x: ArrayBase) => unknown> = {
  grad: (f, x) => grad((x: ArrayBase) => np.sum(f(x)))(x),
  jvp: (f, x) => jvp(f, [x], [np.onesLike(x)]),
  vmap: (f, x) => vmap(f)(np.stack([x, np.negative(x)])),
};

const gc = (globalThis as { gc?: () => void }).gc;

const main = () => {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const depths = (opt("depths") ?? "5,10,20,30,40").split(",").map(Number);
  const only = opt("only")?.split(",");
  const repeats = Number(opt("repeats") ?? 3);
  const x = np.array([0.3, 0.7, 1.1], { dtype: "float64" });
  console.log(`ms per nesting level (median of ${repeats}), depths ${depths.join(", ")}`);
  console.log(["construct", "transform", ...depths.map((d) => `d=${d}`)].map((s) => s.padEnd(10)).join(" "));
  for (const [name, nest] of Object.entries(nesters)) {
    if (only && !only.includes(name)) continue;
    for (const [tname, t] of Object.entries(transforms)) {
      if (name === "whileLoop" && tname === "grad") continue;
      const cells = depths.map((d) => {
        const f = nested(nest, d);
        t(f, x); // warm-up
        const times = Array.from({ length: repeats }, () => {
          // A collection of the garbage earlier samples left (run with --expose-gc) would
          // land in whichever sample triggers it, more often in the longer, deeper ones.
          gc?.();
          const t0 = performance.now();
          t(f, x);
          return performance.now() - t0;
        }).sort((a, b) => a - b);
        return (times[Math.floor(repeats / 2)]! / d).toFixed(2);
      });
      console.log([name, tname, ...cells].map((s) => s.padEnd(10)).join(" "));
    }
  }
};

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
