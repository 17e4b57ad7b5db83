/**
 * Hyperparameter validation with io-ts codecs. Every optimizer, transform, schedule and loss
 * checks its options when it is built (never inside `update`), and a bad value is a
 * `ValueError` that names the function, the option, what was expected and what was given:
 *
 *     optim.adam: option b1 must be a number in [0, 1), got 1.5
 *
 * A scalar array is accepted wherever a number is, unchecked: it may be a tracer (under
 * grad or vmap) or a value injected by injectHyperparams, whose plain-number form was
 * checked when the optimizer was first built.
 */
import { ArrayBase, ValueError, closestName } from "@cotangent/core";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { GradientTransformation, Scalar, ScalarOrSchedule, Schedule } from "./base.js";

const isScalarArray = (u: unknown): u is ArrayBase => u instanceof ArrayBase && u.ndim === 0;

/** A codec that accepts what `is` accepts; `name` is the expectation shown in errors. */
const codec = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);

/** A scalar hyperparameter: a JS number for which `ok` holds, or a scalar array. */
export const scalarIn = (name: string, ok: (x: number) => boolean): t.Type<Scalar, Scalar, unknown> =>
  codec(`${name} (or a scalar array)`, (u): u is Scalar => (typeof u === "number" && ok(u)) || isScalarArray(u));

/** A JS number (never an array) for which `ok` holds: for sizes and counts fixed at build time. */
export const numberIn = (name: string, ok: (x: number) => boolean): t.Type<number, number, unknown> =>
  codec(name, (u): u is number => typeof u === "number" && ok(u));

export const finite = scalarIn("a finite number", Number.isFinite);
export const nonNegative = scalarIn("a finite number >= 0", (x) => Number.isFinite(x) && x >= 0);
export const positive = scalarIn("a finite number > 0", (x) => Number.isFinite(x) && x > 0);
/** Decay rates such as Adam's b1 and b2. */
export const decayRate = scalarIn("a number in [0, 1)", (x) => x >= 0 && x < 1);
export const unitInterval = scalarIn("a number in [0, 1]", (x) => x >= 0 && x <= 1);
export const positiveInt = numberIn("an integer >= 1", (x) => Number.isInteger(x) && x >= 1);
export const nonNegativeInt = numberIn("an integer >= 0", (x) => Number.isInteger(x) && x >= 0);
export const finiteNumber = numberIn("a finite number", Number.isFinite);
export const bool = codec("true or false", (u): u is boolean => typeof u === "boolean");
export const axis = numberIn("an integer axis", Number.isInteger);

export const plainObject = codec(
  "a plain object",
  (u): u is Record<string, unknown> => typeof u === "object" && u !== null && Object.getPrototypeOf(u) === Object.prototype,
);

export const schedule = codec("a schedule (a function step => value)", (u): u is Schedule => typeof u === "function");

/** A learning rate: non-negative and finite, a scalar array, or a schedule. */
export const learningRate = codec(
  "a finite number >= 0, a scalar array or a schedule (step => value)",
  (u): u is ScalarOrSchedule => nonNegative.is(u) || schedule.is(u),
);

/** A mask: a pytree (or pytree prefix) of booleans, or a function from params to one. */
export const mask = codec(
  "a pytree of booleans or a function params => pytree of booleans",
  (u): u is unknown => typeof u === "boolean" || typeof u === "function" || (typeof u === "object" && u !== null),
);

export const transform = codec(
  "a gradient transformation (an object with init and update functions)",
  (u): u is GradientTransformation<any> =>
    typeof u === "object" && u !== null && typeof (u as any).init === "function" && typeof (u as any).update === "function",
);

/** A short description of a value for error messages. */
export const describe = (u: unknown): string => {
  if (u instanceof ArrayBase) return `an array of shape [${u.shape.join(", ")}]`;
  if (typeof u === "number") return Object.is(u, -0) ? "-0" : String(u);
  if (typeof u === "string") return JSON.stringify(u);
  if (typeof u === "function") return "a function";
  if (Array.isArray(u)) return `an array of length ${u.length}`;
  if (u === null || u === undefined || typeof u === "boolean") return String(u);
  return typeof u;
};

const fail = (op: string, detail: string, hint?: string): never => {
  throw new ValueError(detail, { op, hint });
};

/** Decodes `value` with `c`, or throws a ValueError naming `what`. */
const decodeOr = <A>(op: string, what: string, c: t.Type<A, A, unknown>, value: unknown): A =>
  pipe(
    c.decode(value),
    E.getOrElse<t.Errors, A>(() => fail(op, `${what} must be ${c.name}, got ${describe(value)}`)),
  );

/** Checks one positional argument. */
export const checkArg = <A>(op: string, name: string, c: t.Type<A, A, unknown>, value: unknown): A =>
  decodeOr(op, `argument ${name}`, c, value);

type Decoded<R extends t.Props, P extends t.Props> = { [K in keyof R]: t.TypeOf<R[K]> } & {
  [K in keyof P]?: t.TypeOf<P[K]>;
};

/**
 * Checks an options object against codecs for its required and optional keys. Unknown keys
 * are errors too (a misspelt `learningrate` must not silently fall back to a default).
 */
export const parseOptions = <R extends t.Props, P extends t.Props>(
  op: string,
  input: unknown,
  required: R,
  optional: P,
  example?: string,
): Decoded<R, P> => {
  if (typeof input !== "object" || input === null || Array.isArray(input) || input instanceof ArrayBase) {
    fail(op, `expects an options object, got ${describe(input)}`, example ? `e.g. ${example}` : undefined);
  }
  const obj = input as Record<string, unknown>;
  const known = [...Object.keys(required), ...Object.keys(optional)];
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      const near = closestName(k, known);
      fail(op, `unknown option '${k}' (known options: ${known.join(", ") || "none"})`, near ? `did you mean '${near}'?` : undefined);
    }
  }
  for (const [k, c] of Object.entries(required)) {
    if (obj[k] === undefined) {
      fail(op, `option ${k} is required (${c.name})`, example ? `e.g. ${example}` : undefined);
    }
    decodeOr(op, `option ${k}`, c as t.Type<unknown>, obj[k]);
  }
  for (const [k, c] of Object.entries(optional)) {
    if (obj[k] !== undefined) decodeOr(op, `option ${k}`, c as t.Type<unknown>, obj[k]);
  }
  return obj as Decoded<R, P>;
};

/** Throws a ValueError unless `ok`: for constraints that tie several options together. */
export const ensure = (op: string, ok: boolean, detail: string, hint?: string): void => {
  if (!ok) fail(op, detail, hint);
};
