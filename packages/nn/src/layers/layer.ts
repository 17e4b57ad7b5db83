/**
 * What a layer is: a pure pair `{init(key) -> params, apply(params, x, options) -> y}`
 * over pytrees, as in stax and Haiku's transformed functions. A layer holds only its
 * configuration (sizes, initializers, dtype); parameters are plain data the caller
 * keeps (and may save, differentiate, vmap, or update with an optimizer).
 */
import { ArrayBase, type DType, DTypeError, ShapeError, ValueError, describeValue, np } from "@cotangent/core";
import type { Key } from "../initializers.js";

export interface ApplyOptions {
  /** Training mode: turns dropout on. Default false (evaluation). */
  train?: boolean;
  /** Randomness for layers that need it in training (dropout); `sequential` derives one per layer. */
  key?: Key | null;
}

/** A layer: configuration plus two pure functions. */
export interface Layer<P = unknown> {
  /** A short name such as "dense" or "conv2d" (used in messages). */
  readonly name: string;
  /** Fresh parameters, all drawn from `key`. */
  init(key: Key): P;
  /** The layer's output for the input `x`. Pure: same params, input and options, same output. */
  apply(params: P, x: ArrayBase, options?: ApplyOptions): ArrayBase;
}

/** The params type of a layer. */
export type ParamsOf<L> = L extends Layer<infer P> ? P : never;

/** A layer with no parameters (its params are `null`) from a function of the input. */
export const fromFunction = (name: string, f: (x: ArrayBase, options: ApplyOptions) => ArrayBase): Layer<null> => {
  if (typeof f !== "function") throw new ValueError(`f must be a function, got ${describeValue(f)}`, { op: "nn.fromFunction" });
  return {
    name,
    init: () => null,
    apply: (_params, x, options = {}) => f(checkInput(`nn.${name}`, x), options),
  };
};

/** A layer's input: an array or tracer (JS numbers and nested lists become arrays, as np takes them). */
export const checkInput = (op: string, x: unknown): ArrayBase => {
  if (x instanceof ArrayBase) return x;
  if (typeof x === "number" || typeof x === "boolean" || Array.isArray(x) || ArrayBuffer.isView(x)) return np.asArray(x as np.ArrayLike);
  throw new ValueError(`the input must be an array, got ${describeValue(x)}`, { op });
};

// ---------------------------------------------------------------- argument checks shared by layers

export const checkSize = (op: string, what: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0) {
    throw new ValueError(`${what} must be a positive integer, got ${describeValue(n)}`, { op });
  }
  return n;
};

export const checkParamDType = (op: string, dtype: DType | undefined): DType => {
  const d = dtype ?? "float32";
  if (d !== "float32" && d !== "float64") throw new DTypeError(`parameter dtype must be float32 or float64, got ${String(d)}`, { op });
  return d;
};

/** A float input (ints are rejected: a layer that silently casts hides a bug). */
export const checkFloatInput = (op: string, x: ArrayBase): void => {
  if (!(x instanceof ArrayBase)) throw new ValueError(`the input must be an array, got ${describeValue(x)}`, { op });
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new DTypeError(`expects a float input, got ${x.aval}`, { op, hint: "convert with np.astype(x, \"float32\")" });
  }
};

/** The input's last axis must have `n` entries. */
export const checkLastAxis = (op: string, x: ArrayBase, n: number, what = "features"): void => {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== n) {
    throw new ShapeError(`input of shape [${x.shape.join(", ")}] has ${x.ndim === 0 ? "no axes" : `${x.shape[x.ndim - 1]} ${what} on its last axis`}, but the layer expects ${n}`, {
      op,
      hint: x.ndim === 0 ? "pass an array whose last axis holds the features" : undefined,
    });
  }
};


/**
 * A layer with state besides its parameters (batch norm's running statistics), as Haiku's
 * `transform_with_state`: the state is plain data the caller keeps and threads through, and
 * `apply` returns the output with the next state. `init` still gives only the params, so an
 * optimizer sees exactly what it should update.
 */
export interface StatefulLayer<P = unknown, S = unknown> {
  readonly name: string;
  /** Fresh parameters, all drawn from `key`. */
  init(key: Key): P;
  /** The initial state (needs no randomness). */
  initState(): S;
  /** The output for `x`, and the next state. Pure: same params, state, input and options, same result. */
  apply(params: P, state: S, x: ArrayBase, options?: ApplyOptions): [ArrayBase, S];
}

/** A params entry must be an array of `shape` (a typed error naming the layer and the entry otherwise). */
export const checkParam = (op: string, what: string, p: unknown, shape: readonly number[], hint = "use the params (and state) this layer's init returned"): ArrayBase => {
  if (!(p instanceof ArrayBase)) {
    throw new ValueError(`${what} must be an array of shape [${shape.join(", ")}], got ${describeValue(p)}`, { op, hint });
  }
  if (p.shape.join() !== shape.join()) {
    throw new ShapeError(`${what} has shape [${p.shape.join(", ")}], but the layer expects [${shape.join(", ")}]`, { op, hint });
  }
  return p;
};

/** A params (or state) object: a plain object, or a typed error. */
export const checkParamsObject = (op: string, what: string, p: unknown): Record<string, unknown> => {
  if (typeof p !== "object" || p === null || Array.isArray(p) || p instanceof ArrayBase) {
    throw new ValueError(`${what} must be an object, got ${describeValue(p)}`, { op, hint: "use what this layer's init returned" });
  }
  return p as Record<string, unknown>;
};

/** A number option in [lo, hi] (a typed error naming the option otherwise). */
export const checkRange = (op: string, what: string, v: number, lo: number, hi: number): number => {
  if (typeof v !== "number" || !(v >= lo && v <= hi)) throw new ValueError(`${what} must be a number in [${lo}, ${hi}], got ${describeValue(v)}`, { op });
  return v;
};
