/**
 * Elementwise loops specialised per op at run time: the op's expression is inlined into a
 * loop over typed arrays, so the hot loop has no per-element closure call. Where the host
 * forbids `new Function` (a strict Content-Security-Policy), a closure-based loop is used.
 */

let canCompile: boolean | undefined;
const compileAllowed = (): boolean => {
  if (canCompile === undefined) {
    try {
      canCompile = new Function("return 1")() === 1;
    } catch {
      canCompile = false;
    }
  }
  return canCompile;
};

let compiled = 0;

/**
 * Compiles `body` with the given parameter names, or returns null when not allowed.
 *
 * Each function gets a unique trailing comment: V8 caches `new Function` by source text and
 * shares the type feedback of identical sources, so the float32, float64 and int32 copies of
 * one loop would make each other polymorphic (measured: a 1e6-element float32 add took 7.9 ms
 * after the same source had seen float64 and int32 arrays, 2.4 ms when it had not).
 */
export const compile = <F>(params: string[], body: string): F | null =>
  compileAllowed() ? (new Function(...params, `${body}\n// kernel ${++compiled}`) as F) : null;

/** Turns an expression in `x` (or `a`, `b`) into a closure, for the fallback path. */
export const exprClosure1 = (expr: string): ((x: number) => number) => new Function("x", `return (${expr});`) as any;
