/**
 * The checks every fuzzed program must pass, in float64:
 *  - grad against central differences (all inputs, and a drawn subset with the rest closed over);
 *  - jvp against central differences where only forward mode applies;
 *  - the transposition identity <vjp(u), v> = <u, jvp(v)>;
 *  - vmap(f) against a loop of f, over a drawn subset of batched inputs and batch axes;
 *  - jacfwd(f) against jacrev(f);
 *  - checkpoint(f) and jit(f) against f, in value and gradient;
 *  - grad(sum of vmap(s∘f)) against vmap(grad(s∘f)), s a fixed weighting to a scalar;
 *  - typecheck of every jaxpr the transforms produce.
 * A failure throws an error carrying a reproducer: the program, its inputs and the check,
 * as TypeScript to paste next to `import { ... } from "@cotangent/core"`.
 */
import { transformSync } from "esbuild";
import * as core from "@cotangent/core";
import { type ArrayBase, type NDArray, checkpoint, grad, jacfwd, jit, jacrev, jvp, jvpJaxpr, linearizeJaxpr, makeJaxpr, np, transposeJaxpr, tree, typecheck, vjp, vmap } from "@cotangent/core";
import { type Program, argsSource } from "./program.js";

type F = (...a: any[]) => any;

/** Compiles the program's own text (TypeScript, through esbuild) into a function. */
export const compile = (p: Program): F => {
  const js = transformSync(`${p.source}\nreturn f;`, { loader: "ts" }).code;
  const names = Object.keys(core);
  return new Function(...names, js)(...names.map((n) => (core as any)[n])) as F;
};

export const inputsOf = (p: Program): NDArray[] =>
  p.inputs.map((x) => np.array(Float64Array.from(x.values), { dtype: "float64", shape: x.shape }) as NDArray);

const flat = (x: unknown): number[] => tree.leaves<ArrayBase>(x).flatMap((l) => Array.from(l.toTypedArray() as ArrayLike<number>));

/** The fixed weighting to a scalar, also printed in reproducers. */
export const SCALAR_SOURCE = `const scalar = (o: any) => np.sum(np.multiply(o, np.reshape(np.sin(np.arange(1, o.size + 1, { dtype: "float64" })), o.shape)));`;
const scalar = (o: ArrayBase) => np.sum(np.multiply(o, np.reshape(np.sin(np.arange(1, o.size + 1, { dtype: "float64" })), o.shape)));

export class FuzzFailure extends Error {}

/** Largest elementwise error relative to the larger magnitude, entries below `floor` judged against it. */
const relErr = (a: unknown, b: unknown, floor: number): number => {
  const fa = flat(a);
  const fb = flat(b);
  if (fa.length !== fb.length) return Infinity;
  let m = 0;
  fa.forEach((x, i) => {
    const y = fb[i]!;
    if (x === y) return;
    const e = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), floor);
    m = Math.max(m, Number.isNaN(e) ? Infinity : e);
  });
  return m;
};

interface Check {
  name: string;
  /** TypeScript that recomputes both sides of the failing comparison. */
  snippet: string;
  run: () => void;
}

/**
 * The reproducer printed on a failure: self-contained TypeScript.
 */
export const reproducer = (p: Program, check: string, snippet: string, message: string): string =>
  [
    `// Cotangent transform fuzzer: check "${check}" failed: ${message.split("\n")[0]}`,
    `import { checkpoint, checkpointPolicies, customJvp, customVjp, grad, jacfwd, jacrev, jit, jvp, lax, makeJaxpr, np, vjp, vmap } from "@cotangent/core";`,
    "",
    p.source,
    argsSource(p),
    SCALAR_SOURCE,
    "",
    snippet,
  ].join("\n");

const fail = (what: string, a: unknown, b: unknown, err: number, tol: number) => {
  throw new FuzzFailure(`${what}: relative error ${err} > ${tol}\n${String(a)}\nvs\n${String(b)}`);
};
const expectClose = (what: string, a: unknown, b: unknown, tol: number, floor = 1) => {
  const e = relErr(a, b, floor);
  if (!(e <= tol)) fail(what, a, b, e, tol);
};

/** Options drawn alongside the program: which inputs to close over, which to batch and where. */
export interface CheckChoices {
  subset: number[];
  batched: (number | null)[];
  batchSize: number;
}

export const checksFor = (p: Program, f: F, args: NDArray[], choice: CheckChoices): Check[] => {
  const n = args.length;
  const all = args.map((_, i) => i);
  const s = (...a: any[]) => scalar(f(...a));
  const eps = 1e-6;
  const tol = 1e-4;
  const out = f(...args) as ArrayBase;
  const scale = Math.max(1, ...flat(out).map(Math.abs));
  // Round-off of a central difference, over the tolerance: below this an entry is noise.
  const floor = (1e3 * Number.EPSILON * scale * Math.max(1, out.size)) / (2 * eps) / tol;
  const dir = (x: ArrayBase, ph: number) => np.reshape(np.cos(np.arange(x.size, { dtype: "float64" }).mul(1.3).add(ph)), x.shape);
  const checks: Check[] = [];

  checks.push({
    name: "typecheck",
    snippet: `console.log(makeJaxpr(f)(...args).toString());`,
    run: () => {
      const j = makeJaxpr(f)(...args);
      typecheck(j);
      typecheck(makeJaxpr(vmap(f))(...args.map((x) => np.stack([x, x]))));
      typecheck(makeJaxpr(checkpoint(f))(...args));
      if (p.forward) typecheck(jvpJaxpr(j, j.inAvals.map(() => true)));
      if (p.reverse) typecheck(makeJaxpr(grad(s, { argnums: all }))(...args));
      if (p.forward && p.reverse) {
        const lin = linearizeJaxpr(j);
        typecheck(lin.known);
        typecheck(lin.linear);
        typecheck(transposeJaxpr(lin.linear, lin.linear.invars.map((_, i) => i >= lin.numResiduals)));
      }
    },
  });

  if (p.reverse) {
    const fdGrad = (a: number): NDArray => {
      const base = args[a]!.toTypedArray() as Float64Array;
      const fd = new Float64Array(base.length);
      for (let i = 0; i < base.length; i++) {
        const at = (d: number) => {
          const b = Float64Array.from(base);
          b[i] += d;
          const as = args.slice();
          as[a] = np.array(b, { dtype: "float64", shape: args[a]!.shape }) as NDArray;
          return (s(...as) as ArrayBase).item();
        };
        fd[i] = (at(eps) - at(-eps)) / (2 * eps);
      }
      return np.array(fd, { dtype: "float64", shape: args[a]!.shape }) as NDArray;
    };
    for (const subset of [all, choice.subset]) {
      checks.push({
        name: `grad vs finite differences (arguments [${subset}])`,
        snippet: [
          `const g = grad((...a: any[]) => scalar(f(...args.map((x, i) => (${JSON.stringify(subset)}.includes(i) ? a[${JSON.stringify(subset)}.indexOf(i)] : x)))), { argnums: ${JSON.stringify(subset.map((_, k) => k))} })(...${JSON.stringify(subset)}.map((i) => args[i]));`,
          `// Central differences of scalar(f(...args)) in each differentiated argument (step 1e-6):`,
          `const fd = ${JSON.stringify(subset)}.map((a) => {`,
          `  const base = args[a].toTypedArray();`,
          `  return Array.from(base, (_: number, i: number) => {`,
          `    const at = (d: number) => {`,
          `      const b = Float64Array.from(base);`,
          `      b[i] += d;`,
          `      return scalar(f(...args.map((x, k) => (k === a ? np.array(b, { dtype: "float64", shape: x.shape }) : x)))).item();`,
          `    };`,
          `    return (at(1e-6) - at(-1e-6)) / 2e-6;`,
          `  });`,
          `});`,
          `console.log(g.map(String), fd);`,
        ].join("\n"),
        run: () => {
          const closed = (...free: any[]) => s(...args.map((x, i) => (subset.includes(i) ? free[subset.indexOf(i)] : x)));
          const gs = grad(closed, { argnums: subset.map((_, k) => k) })(...subset.map((i) => args[i]!)) as NDArray[];
          subset.forEach((a, k) => expectClose(`gradient of input ${a}`, gs[k], fdGrad(a), tol, floor));
        },
      });
      if (subset.length === n) continue;
    }
  } else if (p.forward) {
    checks.push({
      name: "jvp vs finite differences",
      snippet: `const vs = args.map((x) => np.onesLike(x));\nconsole.log(String(jvp(f, args, vs)[1]));`,
      run: () => {
        const vs = args.map((x) => dir(x, 0.3));
        const [, t] = jvp(f, args, vs);
        const sh = (d: number) => f(...args.map((x, i) => np.add(x, np.multiply(vs[i]!, d))));
        const fd = np.divide(np.subtract(sh(eps), sh(-eps)), 2 * eps);
        expectClose("jvp", t, fd, tol, floor);
      },
    });
  }

  if (p.forward && p.reverse) {
    checks.push({
      name: "transposition <vjp(u), v> = <u, jvp(v)>",
      snippet: [
        `const vs = args.map((x) => np.reshape(np.cos(np.arange(x.size, { dtype: "float64" })), x.shape));`,
        `const [out, back] = vjp(f, ...args);`,
        `const u = np.reshape(np.sin(np.arange(out.size, { dtype: "float64" })), out.shape);`,
        `const lhs = back(u).reduce((t: number, c: any, i: number) => t + np.sum(np.multiply(c, vs[i])).item(), 0);`,
        `const rhs = np.sum(np.multiply(u, jvp(f, args, vs)[1])).item();`,
        `console.log(lhs, rhs);`,
      ].join("\n"),
      run: () => {
        const vs = args.map((x) => dir(x, 0));
        const [o, back] = vjp(f, ...args);
        const u = dir(o as ArrayBase, 0.8);
        const cts = back(u) as ArrayBase[];
        const lhs = cts.reduce((t, c, i) => t + np.sum(np.multiply(c, vs[i]!)).item(), 0);
        const rhs = np.sum(np.multiply(u, jvp(f, args, vs)[1])).item();
        const e = Math.abs(lhs - rhs) / Math.max(1, Math.abs(lhs), Math.abs(rhs));
        if (!(e < 1e-9)) throw new FuzzFailure(`<vjp(u), v> = ${lhs} but <u, jvp(v)> = ${rhs}`);
      },
    });
    checks.push({
      name: "jacfwd vs jacrev",
      snippet: `const argnums = ${JSON.stringify(all)};\nconsole.log(jacfwd(f, { argnums })(...args).map(String), jacrev(f, { argnums })(...args).map(String));`,
      run: () => expectClose("jacobians", jacfwd(f, { argnums: all })(...args), jacrev(f, { argnums: all })(...args), 1e-9),
    });
  }

  const inAxes = choice.batched;
  if (inAxes.some((d) => d !== null)) {
    const B = choice.batchSize;
    const batchedArgs = args.map((x, i) => {
      const d = inAxes[i];
      if (d === null || d === undefined) return x;
      const copies = Array.from({ length: B }, (_, b) => np.add(np.multiply(x, 1 - 0.3 * b), 0.05 * b));
      return np.stack(copies, { axis: d });
    });
    const argsText = `const inAxes = ${JSON.stringify(inAxes)};\nconst xs = args.map((x, i) => (inAxes[i] === null ? x : np.stack(Array.from({ length: ${B} }, (_, b) => np.add(np.multiply(x, 1 - 0.3 * b), 0.05 * b)), { axis: inAxes[i] })));`;
    checks.push({
      name: "vmap vs loop",
      snippet: `${argsText}\nconsole.log(String(vmap(f, { inAxes })(...xs)));\nfor (let b = 0; b < ${B}; b++) console.log(String(f(...xs.map((x, i) => (inAxes[i] === null ? x : np.take(x, b, { axis: inAxes[i] }))))));`,
      run: () => {
        const got = vmap(f, { inAxes })(...batchedArgs);
        const loop = np.stack(
          Array.from({ length: B }, (_, b) => f(...batchedArgs.map((x, i) => (inAxes[i] === null ? x : np.take(x, b, { axis: inAxes[i]! }))))),
        );
        expectClose("vmap", got, loop, 1e-10);
      },
    });
    if (p.reverse) {
      const inAxes0 = inAxes.map((d) => (d === null ? null : 0));
      checks.push({
        name: "grad(vmap(f)) vs vmap(grad(f))",
        snippet: `${argsText}\nconst argnums = ${JSON.stringify(all)};\nconst ax = inAxes.map((d) => (d === null ? null : 0));\nconst xs0 = xs.map((x, i) => (inAxes[i] === null ? x : np.moveaxis(x, inAxes[i], 0)));\nconsole.log(grad((...a: any[]) => np.sum(vmap((...b: any[]) => scalar(f(...b)), { inAxes: ax })(...a)), { argnums })(...xs0).map(String));\nconsole.log(vmap(grad((...b: any[]) => scalar(f(...b)), { argnums }), { inAxes: ax })(...xs0).map(String));`,
        run: () => {
          const xs0 = batchedArgs.map((x, i) => (inAxes[i] === null ? x : np.moveaxis(x, inAxes[i]!, 0)));
          const lhs = grad((...a: any[]) => np.sum(vmap(s, { inAxes: inAxes0 })(...a)), { argnums: all })(...xs0) as ArrayBase[];
          const per = vmap(grad(s, { argnums: all }), { inAxes: inAxes0 })(...xs0) as ArrayBase[];
          // An unbatched input's gradient under grad(vmap) is the sum over the batch.
          const rhs = per.map((g, i) => (inAxes0[i] === null ? np.sum(g, { axis: 0 }) : g));
          expectClose("grad of vmap", lhs, rhs, 1e-9);
        },
      });
    }
  }

  checks.push({
    name: "jit(f) vs f",
    snippet: `console.log(String(jit(f)(...args)), String(f(...args)));${p.reverse ? `\nconst argnums = ${JSON.stringify(all)};\nconsole.log(jit(grad((...a: any[]) => scalar(f(...a)), { argnums }))(...args).map(String), grad((...a: any[]) => scalar(f(...a)), { argnums })(...args).map(String));` : ""}`,
    run: () => {
      expectClose("jit value", jit(f)(...args), out, 1e-10);
      if (p.reverse) expectClose("jit gradient", jit(grad(s, { argnums: all }))(...args), grad(s, { argnums: all })(...args), 1e-9);
    },
  });

  checks.push({
    name: "checkpoint(f) vs f",
    snippet: `console.log(String(checkpoint(f)(...args)), String(f(...args)));${p.reverse ? `\nconst argnums = ${JSON.stringify(all)};\nconsole.log(grad((...a: any[]) => scalar(checkpoint(f)(...a)), { argnums })(...args).map(String), grad((...a: any[]) => scalar(f(...a)), { argnums })(...args).map(String));` : ""}`,
    run: () => {
      expectClose("checkpoint value", checkpoint(f)(...args), out, 1e-12);
      if (p.reverse) {
        const gc = grad((...a: any[]) => scalar(checkpoint(f)(...a)), { argnums: all })(...args);
        expectClose("checkpoint gradient", gc, grad(s, { argnums: all })(...args), 1e-10);
      }
    },
  });
  return checks;
};

/** Runs every check; the first failure becomes a FuzzFailure whose message is the reproducer. */
export const runChecks = (p: Program, choice: CheckChoices): void => {
  const f = compile(p);
  const args = inputsOf(p);
  let checks: Check[];
  try {
    checks = checksFor(p, f, args, choice);
  } catch (e) {
    throw new FuzzFailure(reproducer(p, "evaluation", "console.log(String(f(...args)));", String(e)));
  }
  for (const c of checks) {
    try {
      c.run();
    } catch (e) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new FuzzFailure(`${reproducer(p, c.name, c.snippet, msg)}\n\n/* ${msg.replaceAll("*/", "* /")} */`);
    }
  }
};
