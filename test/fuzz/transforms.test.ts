/**
 * Transform fuzzing: random programs over the whole primitive set (program.ts) must pass
 * every transform check (checks.ts). `pnpm test` runs a few programs from the fixed seed;
 * `pnpm fuzz` runs for FUZZ_SECONDS (default 600) from a random seed and prints the
 * shrunk failing program as TypeScript to paste.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type CheckChoices, compile, inputsOf, runChecks } from "./checks.js";
import { type Program, genProgram } from "./program.js";

const long = process.env.FUZZ === "1";
const seconds = Number(process.env.FUZZ_SECONDS ?? 600);

const choices = (g: fc.GeneratorValue, p: Program): CheckChoices => {
  const n = p.inputs.length;
  const subset = p.inputs.map((_, i) => i).filter(() => g(fc.boolean));
  const batched = p.inputs.map((x): number | null => (g(fc.boolean) ? g(fc.integer, { min: 0, max: x.shape.length }) : null));
  if (!batched.some((d) => d !== null)) batched[g(fc.integer, { min: 0, max: n - 1 })] = 0;
  return { subset: subset.length > 0 ? subset : [n - 1], batched, batchSize: g(fc.integer, { min: 1, max: 3 }) };
};

describe("transform fuzzing", () => {
  it("generated programs compile from their own source and are deterministic", () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const p = genProgram(g);
        expect(p.inputs.length).toBeGreaterThan(0);
        const f = compile(p);
        const args = inputsOf(p);
        expect(f(...args).toArray()).toEqual(f(...args).toArray());
      }),
      { numRuns: 30 },
    );
  });

  it(
    "random programs pass grad/jvp/transposition/vmap/jacobian/checkpoint/jit/typecheck checks",
    () => {
      let count = 0;
      const started = Date.now();
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const p = genProgram(g);
          count++;
          runChecks(p, choices(g, p));
        }),
        long ? { numRuns: 1_000_000, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false } : { numRuns: 12 },
      );
      if (long) console.log(`transform fuzzing: ${count} programs passed every check in ${Math.round((Date.now() - started) / 1000)} s (seed ${fc.readConfigureGlobal().seed})`);
    },
    long ? (seconds + 600) * 1000 : 120_000,
  );
});
