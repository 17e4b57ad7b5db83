/**
 * Errors as values: `attempt(fn)(...args)` and the `E` variants of the functions that take
 * untrusted input (`arrayE`, `deserializeE`, `loadE`, `saveE`), for code that handles a bad
 * payload without try/catch. The error in a `Left` is the very object the plain function
 * throws; only {@link CotangentError}s become values: any other exception is a bug and is
 * rethrown.
 */
import { describeValue } from "./api/args.js";
import { type Either, left, right } from "fp-ts/lib/Either.js";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { ArrayBase, ArrayLike } from "./array.js";
import type { DType } from "./dtype.js";
import { CotangentError, ValueError } from "./errors.js";
import { type LoadOptions, load, save } from "./io/save.js";
import { type DeserializeOptions, deserialize } from "./io/serialize.js";
import { array } from "./np/coerce.js";

/**
 * Wraps `fn` so that a {@link CotangentError} it throws is returned as `Left`, and its
 * result as `Right`.
 *
 * ```ts
 * const safeReshape = attempt(np.reshape);
 * const r = safeReshape(x, [5, 5]); // Left(ShapeError) when x does not have 25 elements
 * ```
 */
export const attempt =
  <A extends readonly unknown[], R>(fn: (...args: A) => R): ((...args: A) => Either<CotangentError, R>) =>
  (...args) => {
    if (typeof fn !== "function") return left(new ValueError(`fn must be a function, got ${describeValue(fn)}`, { op: "attempt" }));
    try {
      return right(fn(...args));
    } catch (e) {
      if (e instanceof CotangentError) return left(e);
      throw e;
    }
  };

/** The async form of {@link attempt}: a TaskEither that never rejects with a CotangentError. */
export const attemptTask =
  <A extends readonly unknown[], R>(fn: (...args: A) => Promise<R>): ((...args: A) => TaskEither<CotangentError, R>) =>
  (...args) =>
  () =>
    fn(...args).then(
      (r) => right(r),
      (e) => {
        if (e instanceof CotangentError) return left(e);
        throw e;
      },
    );

/** `np.array` as a value: `Right(array)` or `Left(ValueError)` for input that is not an array. */
export const arrayE: (x: ArrayLike, options?: { dtype?: DType; shape?: readonly number[] }) => Either<CotangentError, ArrayBase> = attempt(array);

/** `deserialize` as a value: `Right(tree)` or `Left(ValueError)` for truncated, corrupted or mismatched bytes. */
export const deserializeE = <T = any>(bytes: Uint8Array, options?: Omit<DeserializeOptions, "op">): Either<CotangentError, T> =>
  attempt((b: Uint8Array) => deserialize<T>(b, options))(bytes);

/** `load` as a TaskEither: it resolves to `Left(ValueError)` for a missing, unreadable or corrupted file. */
export const loadE = <T = any>(path: string, options?: LoadOptions): TaskEither<CotangentError, T> => attemptTask((p: string) => load<T>(p, options))(path);

/** `save` as a TaskEither: it resolves to `Left(ValueError)` for an unsavable tree or an unwritable path. */
export const saveE = (path: string, tree: unknown): TaskEither<CotangentError, void> => attemptTask(save)(path, tree);
