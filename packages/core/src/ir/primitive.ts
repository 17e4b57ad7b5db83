/**
 * The primitive record: everything about one primitive lives in one object. Transforms
 * look rules up here and never switch on primitive names. A missing rule is an error
 * naming the primitive and the transform (see `requireRule`).
 */
import type { ArrayBase, NDArray } from "../array.js";
import type { ShapedArray, TypedArray } from "../dtype.js";
import { type SourceInfo, TransformError } from "../errors.js";
import type { Eqn, Jaxpr } from "./jaxpr.js";

/** A primitive's parameters as an equation carries them (static values: axes, dtypes, sub-jaxprs). */
export type Params = Readonly<Record<string, unknown>>;
/** The constraint on a primitive's params type: any object of named values. */
export type ParamsObject = object;

/** A tangent or cotangent: an array, or `null` for a symbolic zero. */
export type MaybeZero = ArrayBase | null;

/** Forward mode: primal and tangent outputs from primal and tangent inputs. */
export type JvpRule<P = any> = (
  primals: ArrayBase[],
  tangents: MaybeZero[],
  params: P,
) => [ArrayBase[], MaybeZero[]];

/** Marks a linear input in a transpose rule: only its aval is known. */
export class UndefinedPrimal {
  constructor(readonly aval: ShapedArray) {}
}

/**
 * Reverse mode, for linear primitives: cotangents of the inputs from cotangents of the
 * outputs. `inputs[i]` is an {@link UndefinedPrimal} for a linear input and the value of
 * a non-linear one; returns `null` (zero) for non-linear inputs.
 */
export type TransposeRule<P = any> = (
  cts: MaybeZero[],
  inputs: (ArrayBase | UndefinedPrimal)[],
  params: P,
) => MaybeZero[];

/** vmap: where each input's batch axis is (`null` = unbatched) -> outputs and their axes. */
export type BatchRule<P = any> = (
  args: ArrayBase[],
  dims: (number | null)[],
  params: P,
  axisSize: number,
) => [ArrayBase[], (number | null)[]];

/**
 * Partial evaluation of one equation whose inputs are partly known. The default treats the
 * equation as unknown when any input is. Higher-order primitives (checkpoint, custom_vjp,
 * cond, scan) override it. Returns the known equations and the unknown equations, with
 * the residual vars the unknown part reads from the known part. Inside a checkpoint,
 * `saveable` is its policy: a rule that splits sub-jaxprs applies it to them too.
 */
export type PartialEvalRule = (eqn: Eqn, unknowns: boolean[], saveable?: (e: Eqn) => boolean) => PartialEvalResult | null;

/** What a {@link PartialEvalRule} returns for one equation. */
export interface PartialEvalResult {
  /** Equations that compute from known values only, including the known outputs of `eqn`. */
  known: Eqn[];
  /** Equations of the unknown part. */
  unknown: Eqn[];
  /** Which outputs of `eqn` are unknown. */
  outUnknowns: boolean[];
  /** Vars computed by `known` that `unknown` reads. */
  residuals: import("./jaxpr.js").Var[];
  /**
   * Inside a checkpoint: the residuals that the policy itself chose to save (e.g. a named
   * value of every scan step); the others follow the policy applied to their equation.
   */
  policySaved?: import("./jaxpr.js").Var[];
}

/** A primitive: its name and its rules (see `DESIGN.md`, "Primitives"). */
export interface Primitive<P = any> {
  readonly name: string;
  /** Output avals from input avals; throws a typed error for bad shapes, dtypes or params. */
  abstractEval(avals: ShapedArray[], params: P): ShapedArray[];
  /** Concrete evaluation (the kernel layer). */
  impl(inputs: NDArray[], params: P): NDArray[];
  jvp?: JvpRule<P>;
  transpose?: TransposeRule<P>;
  batch?: BatchRule<P>;
  partialEval?: PartialEvalRule;
  /** Sub-jaxprs carried in params, for typecheck and printing. */
  subJaxprs?(params: P): Jaxpr[];
  /** True when the op has effects and must never be removed by dead-code elimination. */
  readonly effectful?: boolean;
  /**
   * `impl` keeps none of its inputs and returns arrays nothing else holds, other than its
   * inputs themselves or views of them: a result whose memory is no input's is new. The
   * interpreter may then let a later equation write into that result once it is dead
   * ({@link implInPlace}), or reuse its memory once it has died ({@link implInto}). Leave it
   * unset for anything that runs user code (callbacks, custom rules) or may return arrays it
   * keeps elsewhere (the constants of a sub-program).
   */
  readonly freshResults?: boolean;
  /**
   * `impl` writing its one output into the memory of input `into`, which the interpreter
   * owns and which is dead after this equation (see interpreter.ts); null, having written
   * nothing, when that input's shape or dtype is not the output's.
   */
  implInPlace?(inputs: NDArray[], params: P, into: number): NDArray[] | null;
  /**
   * `impl` writing output i into `outs[i]` (of its size and dtype, memory no one else holds):
   * the compiled program keeps the memory of a result that never leaves it and hands it back
   * on the next call, and the interpreter hands out the memory of its own dead results. Null,
   * having written nothing, when the kernel cannot; `impl` then runs. It must compute exactly
   * what `impl` does.
   */
  implInto?(inputs: NDArray[], params: P, outs: TypedArray[]): NDArray[] | null;
}

const registry = new Map<string, Primitive>();

/** Registers a primitive record (names are unique) and returns it. */
export const definePrimitive = <P extends ParamsObject>(p: Primitive<P>): Primitive<P> => {
  if (registry.has(p.name)) throw new Error(`primitive '${p.name}' is defined twice`);
  registry.set(p.name, p as Primitive);
  return p;
};

/** Looks a primitive up by name (used by deserialisation of jaxprs and by tests). */
export const primitiveByName = (name: string): Primitive | undefined => registry.get(name);

export const allPrimitives = (): Primitive[] => [...registry.values()];

type RuleName = "jvp" | "transpose" | "batch";
const transformName: Record<RuleName, string> = {
  jvp: "jvp (forward-mode differentiation)",
  transpose: "transpose (reverse-mode differentiation)",
  batch: "vmap (batching)",
};

/** The rule, or a TransformError naming the primitive and the transform. */
export const requireRule = <K extends RuleName>(p: Primitive, rule: K, source?: SourceInfo | null): NonNullable<Primitive[K]> => {
  const r = p[rule];
  if (!r) {
    throw new TransformError(`primitive '${p.name}' has no ${rule} rule, so ${transformName[rule]} cannot pass through it`, {
      op: p.name,
      source,
      hint: rule === "transpose" ? `'${p.name}' is not linear in its differentiated inputs` : undefined,
    });
  }
  return r as NonNullable<Primitive[K]>;
};
