/**
 * Data-last forms of a module's functions, for `pipe` and `flow`: a function of one array
 * stays as it is (`fp.tanh`), and any other takes its arguments after the first and returns
 * the function of the first (`fp.sum({ axis: 1 })`, `fp.multiply(2)`, `fp.matmul(w)`).
 * The forms are made from the module's own functions at load time, so they validate
 * exactly as the originals do and there is no second copy to keep in step.
 */

/** Any function (the constraint of the type-level helpers below). */
export type AnyFunction = (...args: any[]) => any;

/** The keys of `M` whose values are functions. */
export type FunctionKeys<M> = { [K in keyof M]: M[K] extends AnyFunction ? K : never }[keyof M] & string;

/** True when `F` takes exactly one parameter (not `(x, options?)`, not `(x, ...rest)`). */
export type IsUnary<F> = F extends (...args: infer P) => any ? ([P["length"]] extends [1] ? ([1] extends [P["length"]] ? true : false) : false) : false;

/** `(x, ...rest) => out` as `(...rest) => (x) => out`. */
export type DataLast<F> = F extends (x: infer X, ...rest: infer R) => infer O ? (...rest: R) => (x: X) => O : never;

/** The data-last forms of the functions `Names` of module `M`. */
export type Pipeable<M, Names extends keyof M> = { [K in Names]: IsUnary<M[K]> extends true ? M[K] : DataLast<M[K]> };

/** The function keys of `M` whose type takes exactly one parameter. */
export type UnaryKeys<M> = { [K in keyof M]: M[K] extends AnyFunction ? (IsUnary<M[K]> extends true ? K : never) : never }[keyof M];

/**
 * Builds the data-last forms of `names` from `module`. `unary` lists the functions that
 * take one array and nothing else; they are used as they are. (The lists are checked
 * against the functions' types where they are declared, so they cannot drift.)
 */
export const pipeable = <M, Names extends keyof M & string>(module: M, names: readonly Names[], unary: ReadonlySet<string>): Pipeable<M, Names> => {
  const out: Record<string, AnyFunction> = {};
  for (const name of names) {
    const f = module[name] as unknown as AnyFunction;
    if (unary.has(name)) out[name] = f;
    else {
      const curried = (...rest: unknown[]) => (x: unknown) => f(x, ...rest);
      Object.defineProperty(curried, "name", { value: name });
      out[name] = curried;
    }
  }
  return out as Pipeable<M, Names>;
};
