/**
 * The one argument validator of the public API. Each function declares its signature as
 * data (its name and JAX's positional parameter list, each parameter with a kind), and
 * {@link parseArgs} turns the arguments of a call into named values:
 *
 *     np.sum(x, 1)                          // positional, as in JAX
 *     np.sum(x, 1, null, null, true)        // JAX's full positional list (dtype, out, keepdims)
 *     np.sum(x, { axis: 1, keepdims: true }) // or one options object, last
 *     np.sum(x, 1, { keepdims: true })       // or both
 *
 * An unknown option key, a parameter given twice, too many positional arguments or a value
 * of the wrong kind is a typed error naming the function and the parameter (with "did you
 * mean" for near-miss keys): AxisError for axes, DTypeError for dtypes, ValueError otherwise.
 * Axis *ranges* depend on the array's rank and are checked by the function itself
 * (`normalizeAxis`), which names the axis and the rank.
 *
 * Signatures are registered, so they can be enumerated ({@link signatures}): the docs, the
 * junk-argument tests and generated APIs read the same data the parser uses.
 *
 * The kinds are io-ts codecs (as optim's hyperparameter checks are), so they compose with
 * other codecs; the parser around them is hand-written because io-ts has no notion of
 * "a prefix of positional arguments followed by an options object".
 */
import * as t from "io-ts";
import { ArrayBase } from "../array.js";
import { isDType } from "../dtype.js";
import { AxisError, DTypeError, ValueError } from "../errors.js";
import { closestName } from "../did_you_mean.js";

export type { Prefixes, PositionalOr, Axis, Axes } from "./arg_types.js";

/** A codec that accepts what `is` accepts; `name` is the expectation shown in errors. */
const codec = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);

const isInt = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u);
const isCount = (u: unknown): u is number => isInt(u) && u >= 0;
const isList = (u: unknown): u is readonly unknown[] => Array.isArray(u);

/** What `np` accepts as an array: an array or tracer, a JS number or boolean, nested lists, a typed array. */
const isArrayLike = (u: unknown): boolean =>
  u instanceof ArrayBase ||
  typeof u === "number" ||
  typeof u === "boolean" ||
  Array.isArray(u) ||
  (ArrayBuffer.isView(u) && !(u instanceof DataView));

/** The kinds a parameter may have. Each is an io-ts codec; `name` is what errors say was expected. */
export const kinds = {
  /** An array argument (array, tracer, number, boolean, nested list or typed array). */
  array: codec("an array, a number, a boolean or a nested list of numbers", (u): u is unknown => isArrayLike(u)),
  /** A list of array arguments. */
  arrays: codec("a list of arrays", (u): u is readonly unknown[] => isList(u) && u.every(isArrayLike)),
  /** One integer axis, or null. */
  axis: codec("an integer axis or null", (u): u is number | null => u === null || isInt(u)),
  /** An integer axis, a list of distinct integer axes, or null for all axes. */
  axes: codec("an integer axis, a list of integer axes or null", (u): u is number | readonly number[] | null => u === null || isInt(u) || (isList(u) && u.every(isInt))),
  /** An integer axis (never null). */
  requiredAxis: codec("an integer axis", (u): u is number => isInt(u)),
  /** A list of integer axes (or one). */
  axisList: codec("an integer axis or a list of integer axes", (u): u is number | readonly number[] => isInt(u) || (isList(u) && u.every(isInt))),
  /** An integer or a list of integers (repeats, reps, split points). */
  ints: codec("an integer or a list of integers", (u): u is number | readonly number[] => isInt(u) || (isList(u) && u.every(isInt))),
  /** Pad widths: an integer, or a list of integers or [before, after] pairs of integers. */
  padWidths: codec("an integer or a list of integers or [before, after] pairs", (u): u is number | readonly unknown[] =>
    isInt(u) || (isList(u) && u.every((v) => isInt(v) || (isList(v) && v.length === 2 && v.every(isInt))))),
  /** A lax operand: an array or tracer, or a JS number or boolean (lax takes no nested lists). */
  operand: codec("an array or a JS number", (u): u is unknown => u instanceof ArrayBase || typeof u === "number" || typeof u === "boolean"),
  /** An array or tracer (no JS number or list). */
  arrayValue: codec("an array", (u): u is ArrayBase => u instanceof ArrayBase),
  /** A list of lax operands. */
  operands: codec("a list of arrays", (u): u is readonly unknown[] => isList(u) && u.every((v) => v instanceof ArrayBase || typeof v === "number" || typeof v === "boolean")),
  /** A list of integers (axes, dimensions, start indices, ...). */
  intList: codec("a list of integers", (u): u is readonly number[] => isList(u) && u.every(isInt)),
  /** A list of non-negative integers (a shape, sizes, ...). */
  countList: codec("a list of non-negative integers", (u): u is readonly number[] => isList(u) && u.every(isCount)),
  /** Start indices of a dynamic slice: integers or scalar arrays. */
  startIndices: codec("a list of integers or scalar arrays", (u): u is readonly unknown[] => isList(u) && u.every((v) => isInt(v) || v instanceof ArrayBase)),
  /** lax.pad's config: one [low, high, interior] triple of integers per axis. */
  padConfig: codec("a list of [low, high, interior] integer triples", (u): u is readonly unknown[] =>
    isList(u) && u.every((v) => isList(v) && v.length === 3 && v.every(isInt))),
  /** dot_general's dimension numbers: [[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]]. */
  dotDims: codec("[[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]] (lists of integer axes)", (u): u is readonly unknown[] =>
    isList(u) && u.length === 2 && u.every((pair) => isList(pair) && pair.length === 2 && pair.every((axes) => isList(axes) && axes.every(isInt)))),
  /** Convolution padding: "SAME", "SAME_LOWER", "VALID" or [low, high] integer pairs per spatial axis. */
  convPadding: codec('"SAME", "SAME_LOWER", "VALID" or a list of [low, high] integer pairs', (u): u is unknown =>
    u === "SAME" || u === "SAME_LOWER" || u === "VALID" || (isList(u) && u.every((v) => isList(v) && v.length === 2 && v.every(isInt)))),
  /** Convolution layouts: null, three layout strings, or {lhs_spec, rhs_spec, out_spec}. */
  convDims: codec("null, three layout strings such as ['NHWC', 'HWIO', 'NHWC'], or {lhs_spec, rhs_spec, out_spec}", (u): u is unknown =>
    u === null ||
    (isList(u) && u.length === 3 && u.every((v) => typeof v === "string")) ||
    (isPlainObject(u) && ["lhs_spec", "rhs_spec", "out_spec"].every((k) => isList(u[k]) && (u[k] as unknown[]).every(isInt)))),
  /** A dtype name (never null). */
  dtypeName: codec("a dtype ('float32', 'float64', 'int32' or 'bool')", (u): u is string => isDType(u)),
  /** A plain object (params). */
  object: codec("an object", (u): u is Record<string, unknown> => isPlainObject(u)),
  /** Any safe integer. */
  int: codec("an integer", (u): u is number => isInt(u)),
  /** A non-negative integer (a size or count). */
  count: codec("a non-negative integer", (u): u is number => isCount(u)),
  /** Any JS number (NaN and infinities included). */
  number: codec("a number", (u): u is number => typeof u === "number"),
  /** A finite JS number. */
  finite: codec("a finite number", (u): u is number => typeof u === "number" && Number.isFinite(u)),
  /** A JS boolean. */
  bool: codec("true or false", (u): u is boolean => typeof u === "boolean"),
  /** A dtype name, or null for the default. */
  dtype: codec("a dtype ('float32', 'float64', 'int32' or 'bool') or null", (u): u is string | null => u === null || isDType(u)),
  /** A shape: a non-negative integer or a list of them. */
  shape: codec("a shape (a non-negative integer or a list of them)", (u): u is number | readonly number[] => isCount(u) || (isList(u) && u.every(isCount))),
  /** A shape that may hold one -1 (to infer it), as `reshape` takes. */
  newShape: codec("a shape (an integer or a list of integers; one may be -1)", (u): u is number | readonly number[] => isInt(u) || (isList(u) && u.every(isInt))),
  /** JAX's `out`: arrays are immutable, so only null is accepted. */
  out: codec("null (arrays are immutable: use the returned array)", (u): u is null => u === null),
  /** A JS function. */
  function: codec("a function", (u): u is (...a: unknown[]) => unknown => typeof u === "function"),
  /** A string (checked against the parameter's choices when it lists them). */
  string: codec("a string", (u): u is string => typeof u === "string"),
  /** An array argument or a string mode (e.g. `np.interp`'s left: a value or 'extrapolate'); the function checks the string. */
  arrayOrString: codec("an array, a number or a string", (u): u is unknown => isArrayLike(u) || typeof u === "string"),
  /** tensordot's axes: a count of axes, or a pair [xAxes, yAxes] of integer axes or lists of them. */
  tensordotAxes: codec("a non-negative integer or a pair [xAxes, yAxes] of integer axes or lists of them", (u): u is unknown =>
    isCount(u) || (isList(u) && u.length === 2 && u.every((v) => isInt(v) || (isList(v) && v.every(isInt))))),
  /** A norm's order (`np.linalg.norm`): a number, 'fro' or 'nuc'. */
  normOrd: codec("a number, 'fro' or 'nuc'", (u): u is number | string => typeof u === "number" || u === "fro" || u === "nuc"),
  /** Anything (pytrees, keys checked by the function itself, ...). */
  any: codec("any value", (u): u is unknown => true),
} as const;

export type ParamKind = keyof typeof kinds;

/** One parameter of a public function. */
export interface Param {
  /** The name used in errors and as the option key. */
  readonly name: string;
  readonly kind: ParamKind;
  /**
   * How it may be passed: `positional` only (the leading arrays), `keyword` only (in the
   * options object), or `both` (the default for everything but required arrays).
   */
  readonly pass?: "positional" | "keyword" | "both";
  /** It must be given (and not be undefined). */
  readonly required?: boolean;
  /** For `string` parameters: the accepted values. */
  readonly choices?: readonly string[];
  /** Null is accepted (and means "absent") even if the kind does not list it. */
  readonly nullable?: boolean;
}

/** A public function's signature: its name and its parameters in JAX's positional order, then keyword-only ones. */
export interface Signature {
  /** The qualified name, e.g. `np.sum`; errors carry it as their op. */
  readonly name: string;
  readonly params: readonly Param[];
}

const registry = new Map<string, Signature>();

/**
 * Declares (and registers) a signature. Shorthand: a parameter given as a string is
 * `"name:kind"`, `"name:kind!"` (required), `"name:kind?"` (nullable) or `"name:kind="`
 * (keyword only).
 */
export const signature = (name: string, params: readonly (Param | string)[]): Signature => {
  if (typeof name !== "string" || !Array.isArray(params)) throw new ValueError("expects a name and a list of parameters", { op: "signature" });
  const sig: Signature = { name, params: params.map(parseParam) };
  registry.set(name, sig);
  return sig;
};

const parseParam = (p: Param | string): Param => {
  if (typeof p !== "string") {
    if (typeof p !== "object" || p === null || typeof p.name !== "string" || !Object.hasOwn(kinds, p.kind)) {
      throw new ValueError(`a parameter must be "name:kind" or {name, kind} with a known kind, got ${describeValue(p)}`, { op: "signature" });
    }
    return p;
  }
  const m = /^(\w+):(\w+)([!?=]*)$/.exec(p);
  if (!m || !Object.hasOwn(kinds, m[2]!)) throw new ValueError(`bad parameter spec ${JSON.stringify(p)} (expected "name:kind" with a known kind)`, { op: "signature" });
  const flags = m[3]!;
  const kind = m[2] as ParamKind;
  const required = flags.includes("!");
  return {
    name: m[1]!,
    kind,
    required,
    nullable: flags.includes("?"),
    pass: flags.includes("=") ? "keyword" : required && (kind === "array" || kind === "arrays") ? "positional" : "both",
  };
};

/** Every registered signature (for docs, tests and generated APIs). */
export const signatures = (): readonly Signature[] => [...registry.values()];

/** The registered signature of `name`, if any. */
export const signatureOf = (name: string): Signature | undefined => registry.get(name);

/** A short description of a value for error messages (never throws, even for Symbols). */
export const describeValue = (u: unknown): string => {
  if (u instanceof ArrayBase) return `an array of shape [${u.shape.join(", ")}] and dtype ${u.dtype}`;
  if (typeof u === "number") return Object.is(u, -0) ? "-0" : String(u);
  if (typeof u === "string") return JSON.stringify(u.length > 40 ? u.slice(0, 37) + "..." : u);
  if (typeof u === "symbol") return u.toString();
  if (typeof u === "bigint") return `${u.toString()}n`;
  if (typeof u === "function") return "a function";
  if (Array.isArray(u)) {
    const simple = u.length <= 8 && u.every((v) => v === null || v === undefined || ["number", "boolean", "string", "symbol", "bigint"].includes(typeof v));
    return simple ? `[${u.map(describeValue).join(", ")}]` : `a list of length ${u.length}`;
  }
  if (ArrayBuffer.isView(u)) return `a ${u.constructor.name}`;
  if (u === null || u === undefined || typeof u === "boolean") return String(u);
  return isPlainObject(u) ? "an object" : `an object (${safeConstructorName(u)})`;
};

const safeConstructorName = (u: object): string => {
  try {
    const c = (u as { constructor?: { name?: unknown } }).constructor;
    return typeof c?.name === "string" ? c.name : "no constructor";
  } catch {
    return "unknown";
  }
};

/** An object literal (not an array, array, typed array, class instance or function). */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null) return false;
  const proto = Object.getPrototypeOf(u);
  return proto === Object.prototype || proto === null;
};

/** The known key closest to `key`, for "did you mean" (the shared helper of `did_you_mean.ts`). */
export const closestKey = (key: string, known: readonly string[]): string | undefined => closestName(key, known);

const errorFor = (kind: ParamKind): typeof ValueError => (kind.toLowerCase().includes("axis") || kind === "axes" ? AxisError : kind === "dtype" || kind === "dtypeName" ? DTypeError : ValueError);

/** Checks one value against its parameter; throws the typed error naming `op` and the parameter. */
export const checkParam = (op: string, p: Param, value: unknown): void => {
  if (typeof p !== "object" || p === null || !Object.hasOwn(kinds, p.kind)) throw new ValueError(`expects a parameter {name, kind}, got ${describeValue(p)}`, { op: "checkParam" });
  if (value === null && p.nullable) return;
  const c = kinds[p.kind];
  if (!c.is(value)) {
    const Err = errorFor(p.kind);
    throw new Err(`${p.name} must be ${c.name}${p.nullable ? " (or null)" : ""}, got ${describeValue(value)}`, {
      op,
      hint: p.kind === "out" ? "drop the out argument and use the returned array" : undefined,
    });
  }
  if (p.choices && !p.choices.includes(value as string)) {
    const near = closestKey(value as string, p.choices);
    throw new ValueError(`${p.name} must be one of ${p.choices.map((s) => `'${s}'`).join(", ")}, got ${describeValue(value)}`, {
      op,
      hint: near ? `did you mean '${near}'?` : undefined,
    });
  }
};

const positionalParams = (sig: Signature): Param[] => sig.params.filter((p) => p.pass !== "keyword");
const keywordParams = (sig: Signature): Param[] => sig.params.filter((p) => p.pass !== "positional");

/**
 * Parses the arguments of a call to the function of `sig`: a prefix of its positional
 * parameters, then optionally one options object (a plain object in last position where the
 * parameter there is not itself allowed to be one). Returns the values by name; absent
 * parameters (and `undefined` ones) are missing from the result.
 */
export const parseArgs = <T = Record<string, any>>(sig: Signature, args: readonly unknown[]): T => {
  if (typeof sig !== "object" || sig === null || !Array.isArray(sig.params) || !Array.isArray(args)) {
    throw new ValueError("expects a signature and a list of arguments", { op: "parseArgs" });
  }
  const op = sig.name;
  const positional = positionalParams(sig);
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  let options: Record<string, unknown> | undefined;
  if (n > 0 && isPlainObject(args[n - 1])) {
    const p = positional[n - 1];
    if (p === undefined || (p.kind !== "any" && p.kind !== "object")) {
      options = args[n - 1] as Record<string, unknown>;
      n--;
    }
  }
  if (n > positional.length) {
    const names = positional.map((p) => p.name).join(", ");
    throw new ValueError(`takes at most ${positional.length} positional argument${positional.length === 1 ? "" : "s"} (${names}), got ${n}`, {
      op,
      hint: keywordParams(sig).length ? `pass the others in an options object, e.g. { ${keywordParams(sig)[0]!.name}: ... }` : undefined,
    });
  }
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    if (args[i] !== undefined) out[positional[i]!.name] = args[i];
  }
  if (options) {
    const known = keywordParams(sig);
    for (const key of Object.keys(options)) {
      const p = known.find((q) => q.name === key);
      if (!p) {
        const names = known.map((q) => q.name);
        const near = closestKey(key, names);
        throw new ValueError(`unknown option '${key}' (known options: ${names.join(", ") || "none"})`, {
          op,
          hint: near ? `did you mean '${near}'?` : undefined,
        });
      }
      const v = options[key];
      if (v === undefined) continue;
      if (key in out) throw new ValueError(`${key} is given twice: positionally and in the options object`, { op });
      out[key] = v;
    }
  }
  for (const p of sig.params as readonly Param[]) {
    const v = out[p.name];
    if (v === undefined) {
      if (p.required) throw new ValueError(`${p.name} is required (${kinds[p.kind].name})`, { op });
      continue;
    }
    checkParam(op, p, v);
  }
  return out as T;
};

/** Throws a ValueError naming `op` and `name` unless `f` is a function (transforms, control flow, callbacks). */
export const requireFunction = (op: string, name: string, f: unknown): void => {
  if (typeof f !== "function") throw new ValueError(`${name} must be a function, got ${describeValue(f)}`, { op });
};

/**
 * `fn` with its arguments checked against `sig` first, then passed on by position (JAX's
 * order; keyword-only parameters, if any, as a final options object): for thin public
 * wrappers such as `lax.*`, whose internal callers skip the check.
 */
export const checked = <F extends (...args: any[]) => any>(sig: Signature, fn: F): F & { readonly signature: Signature } => {
  const positional = positionalParams(sig);
  const hasKeywords = sig.params.some((p) => p.pass === "keyword");
  return withSignature(sig, ((...args: unknown[]) => {
    const o = parseArgs<Record<string, unknown>>(sig, args);
    // Passed on by position, so that the options form (`lax.cumsum(x, { axis: 1 })`) reaches fn too.
    const values = positional.map((p) => o[p.name]);
    while (values.length > 0 && values[values.length - 1] === undefined) values.pop();
    if (hasKeywords) {
      const kw: Record<string, unknown> = {};
      for (const p of sig.params) if (p.pass === "keyword" && o[p.name] !== undefined) kw[p.name] = o[p.name];
      values.length = positional.length;
      values.push(kw);
    }
    return fn(...values);
  }) as F);
};

/**
 * `fn`, which takes exactly the leading required parameters of `sig` (its arrays), made
 * strict at no cost on the usual path: a call with more arguments than that (an options
 * object, a surplus positional) is parsed against `sig`, so an unknown option key or a
 * surplus positional is a typed error naming the function instead of being ignored. The
 * arrays themselves are checked by `fn` (through `asArray` and the primitives).
 */
export const fixedArgs = <F extends (...args: any[]) => any>(sig: Signature, fn: F): F & { readonly signature: Signature } => {
  if (typeof sig !== "object" || sig === null || !Array.isArray(sig.params)) throw new ValueError(`expects a signature, got ${describeValue(sig)}`, { op: "fixedArgs" });
  requireFunction("fixedArgs", "fn", fn);
  const n = sig.params.length;
  const strict = (...args: unknown[]) => {
    if (args.length > n) parseArgs(sig, args);
    return n === 1 ? fn(args[0]) : n === 2 ? fn(args[0], args[1]) : fn(...args.slice(0, n));
  };
  // Keeps the function's own name (nn.sequential labels layers by it).
  Object.defineProperty(strict, "name", { value: fn.name || sig.name.split(".").pop() });
  return withSignature(sig, strict as F);
};

/** {@link fixedArgs} with its signature declared here: `arrayFn("np.add", ["x:array!", "y:array!"], fn)`. */
export const arrayFn = <F extends (...args: any[]) => any>(name: string, params: readonly (Param | string)[], fn: F): F & { readonly signature: Signature } =>
  fixedArgs(signature(name, params), fn);

/**
 * Attaches `sig` to `fn` (as a non-enumerable `signature` property), so a function object
 * tells what it accepts.
 */
export const withSignature = <F extends (...args: any[]) => any>(sig: Signature, fn: F): F & { readonly signature: Signature } => {
  requireFunction("withSignature", "fn", fn);
  Object.defineProperty(fn, "signature", { value: sig, enumerable: false });
  return fn as F & { readonly signature: Signature };
};
