/**
 * io-ts codecs for arrays and pytrees: the untrusted boundary where JSON (a request body, a
 * message, a file) becomes arrays. Decoding checks everything (kinds, dtypes, shapes,
 * ragged nesting, integer ranges, base64 lengths, unknown keys) and reports each failure by
 * its path in the value (`params.layers[2].w: expected float32[784,128], got
 * float32[784,64]`); encoding gives JSON back.
 *
 * Two JSON forms of an array are read:
 * - nested numbers, `[[1, 2], [3, 4]]` (booleans for bool; the strings "NaN", "Infinity"
 *   and "-Infinity" for the values JSON cannot spell);
 * - `{ "dtype": "float32", "shape": [2, 2], "base64": "..." }`: the elements as raw
 *   little-endian bytes (bool: one byte 0 or 1), base64-encoded. Bit-exact, compact.
 */
import { type Either, isLeft, left, right } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { ArrayBase, fromBuffer } from "../array.js";
import { type DType, ShapedArray, type TypedArray, bytesPerElement, castTo, isDType, typedArrayFor } from "../dtype.js";
import { ValueError, type ErrorDetails } from "../errors.js";

/** A dtype name, as JSON spells it. */
export const DTypeCodec = t.keyof({ float32: null, float64: null, int32: null, bool: null }, "dtype");

/** One failure of a decode: where in the value, and what was wrong there. */
export interface DecodeFailure {
  /** The path in the decoded value, e.g. `layers[2].w` (empty at the root). */
  readonly path: string;
  /** What was expected and what was found there. */
  readonly message: string;
}

/** A value did not match its codec. `failures` lists every mismatch found, by path. */
export class DecodeError extends ValueError {
  readonly failures: readonly DecodeFailure[];
  constructor(failures: readonly DecodeFailure[], details: ErrorDetails) {
    const shown = failures.slice(0, 8).map((f) => `${f.path ? `${f.path}: ` : ""}${f.message}`);
    if (failures.length > 8) shown.push(`... and ${failures.length - 8} more`);
    super(failures.length === 1 ? shown[0]! : `${failures.length} mismatches:\n  ${shown.join("\n  ")}`, details);
    this.failures = failures;
  }
}

const describeJson = (u: unknown): string => {
  if (u instanceof ArrayBase) return `an array ${u.aval}`;
  if (u === undefined) return "nothing";
  if (typeof u === "symbol" || typeof u === "function" || typeof u === "bigint") return `a ${typeof u}`;
  let s: string | undefined;
  try {
    s = JSON.stringify(u);
  } catch {
    s = undefined;
  }
  if (s === undefined) return typeof u;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * The path of an io-ts error in the value: `a.b[2].c`. Unions and recursions insert the
 * index of the member tried as a key; those are not part of the value's path.
 */
export const ioTsPath = (context: t.Context): string => {
  let out = "";
  context.forEach((c, i) => {
    if (i === 0 || c.key === "") return;
    const parent = context[i - 1]!.type as { _tag?: string };
    if (parent._tag === "UnionType" || parent._tag === "RecursiveType" || parent._tag === "IntersectionType") return;
    out += /^\d+$/.test(c.key) ? `[${c.key}]` : out === "" ? c.key : `.${c.key}`;
  });
  return out;
};

/**
 * io-ts errors as {@link DecodeFailure}s. When several members of a union failed at one
 * place, the one that got furthest into the value is the most telling, so only the deepest
 * error per top-level path is kept.
 */
export const decodeFailures = (errors: t.Errors): DecodeFailure[] => {
  const byPath = new Map<string, { depth: number; failure: DecodeFailure }>();
  for (const e of errors) {
    const path = ioTsPath(e.context);
    const n = e.context.length;
    // A failed union reports its own name ("number value") rather than its last member's.
    const last = n > 1 && (e.context[n - 2]!.type as { _tag?: string })._tag === "UnionType" ? e.context[n - 2]! : e.context[n - 1]!;
    const message = e.message ?? `expected ${last.type.name}, got ${describeJson(e.value)}`;
    const prev = byPath.get(path);
    if (!prev || n > prev.depth) byPath.set(path, { depth: n, failure: { path, message } });
  }
  // A failure below another one's path explains it better: drop the shallower one.
  const paths = [...byPath.keys()];
  const below = (q: string, p: string): boolean => q !== p && (p === "" || q.startsWith(p + ".") || q.startsWith(p + "["));
  return paths.filter((p) => !paths.some((q) => below(q, p))).map((p) => byPath.get(p)!.failure);
};

/** `float32[784,?]`: a dtype and a shape with free axes shown as `?`. */
const specName = (dtype: DType | undefined, shape: readonly (number | null)[] | undefined): string =>
  `${dtype ?? "array"}${shape ? `[${shape.map((d) => (d === null || d === -1 ? "?" : String(d))).join(",")}]` : ""}`;

/** What an array spec asks for. */
export interface ArraySpec {
  /** The dtype; decoded nested numbers take it (default float32), a base64 array must have it. */
  dtype?: DType;
  /** The shape; `-1` or `null` marks an axis of any length. Any shape when absent. */
  shape?: readonly (number | null)[];
}

/** How an array codec encodes. */
export interface ArrayEncoding {
  /** `"nested"` (default): nested numbers; `"base64"`: `{dtype, shape, base64}`, bit-exact. */
  encoding?: "nested" | "base64";
}

/** Nested numbers (or booleans, or the strings "NaN", "Infinity", "-Infinity"). */
export type NestedJson = number | boolean | string | readonly NestedJson[];
/** An array's JSON: nested numbers, or the base64 form. */
export type ArrayJson = NestedJson | { dtype: DType; shape: number[]; base64: string };

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** Parses nested numbers into a typed array; a message (and the path inside the array) on failure. */
const parseNestedJson = (u: unknown, dtype: DType): { shape: number[]; flat: TypedArray } | { at: string; message: string } => {
  const shape: number[] = [];
  for (let v = u; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (shape.length > 64) return { at: "", message: "nested more than 64 levels deep" };
    if (v.length === 0) break;
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const flat = typedArrayFor(dtype, size);
  const cast = castTo(dtype);
  let k = 0;
  const walk = (v: unknown, depth: number, at: string): { at: string; message: string } | null => {
    if (depth < shape.length) {
      if (!Array.isArray(v)) return { at, message: `ragged: expected a list of ${shape[depth]} here, got ${describeJson(v)}` };
      if (v.length !== shape[depth]) return { at, message: `ragged: expected a list of ${shape[depth]} here, got a list of ${v.length}` };
      for (let i = 0; i < v.length; i++) {
        const bad = walk(v[i], depth + 1, `${at}[${i}]`);
        if (bad) return bad;
      }
      return null;
    }
    let x: number;
    if (typeof v === "number") x = v;
    else if (typeof v === "boolean" && dtype === "bool") x = v ? 1 : 0;
    else if (typeof v === "string" && v in NON_FINITE && (dtype === "float32" || dtype === "float64")) x = NON_FINITE[v]!;
    else return { at, message: `expected ${dtype === "int32" ? "an" : "a"} ${dtype} element, got ${describeJson(v)}` };
    if (dtype === "int32" && !(Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31)) return { at, message: `expected an int32 element, got ${describeJson(v)}` };
    if (dtype === "bool" && x !== 0 && x !== 1) return { at, message: `expected a bool element (true/false or 0/1), got ${describeJson(v)}` };
    flat[k++] = cast(x);
    return null;
  };
  const bad = walk(u, 0, "");
  return bad ?? { shape, flat };
};

const base64ToBytes = (s: string): Uint8Array | null => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

const bytesToBase64 = (bytes: Uint8Array): string => {
  let bin = "";
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const swap = (bytes: Uint8Array, width: number): void => {
  if (LITTLE_ENDIAN || width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
};

const Base64Array = t.type({ dtype: DTypeCodec, shape: t.array(t.number), base64: t.string });

const checkShape = (got: readonly number[], want: readonly (number | null)[] | undefined): boolean =>
  want === undefined || (got.length === want.length && want.every((d, i) => d === null || d === -1 || d === got[i]));

/**
 * A codec between JSON and an array of the given dtype and shape.
 *
 * ```ts
 * const Image = codecs.array({ dtype: "float32", shape: [-1, 784] });
 * const x = codecs.decodeOrThrow(Image, JSON.parse(body).images);
 * ```
 */
export const arrayCodec = (spec: ArraySpec = {}, options: ArrayEncoding = {}): t.Type<ArrayBase, ArrayJson, unknown> => {
  if (spec.dtype !== undefined && !isDType(spec.dtype)) {
    throw new ValueError(`dtype must be one of float32, float64, int32, bool; got ${describeJson(spec.dtype)}`, { op: "codecs.array" });
  }
  if (spec.shape !== undefined && !(Array.isArray(spec.shape) && spec.shape.every((d) => d === null || (Number.isSafeInteger(d) && d >= -1)))) {
    throw new ValueError(`shape must be a list of lengths (-1 or null for any length); got ${describeJson(spec.shape)}`, { op: "codecs.array" });
  }
  const name = specName(spec.dtype, spec.shape);
  const encoding = options.encoding ?? "nested";
  const mismatch = (a: ShapedArray): string | null =>
    (spec.dtype !== undefined && a.dtype !== spec.dtype) || !checkShape(a.shape, spec.shape) ? `expected ${name}, got ${specName(a.dtype, a.shape)}` : null;
  return new t.Type<ArrayBase, ArrayJson, unknown>(
    name,
    (u): u is ArrayBase => u instanceof ArrayBase && mismatch(u.aval) === null,
    (u, c) => {
      if (u instanceof ArrayBase) {
        const bad = mismatch(u.aval);
        return bad ? t.failure(u, c, bad) : t.success(u);
      }
      if (typeof u === "object" && u !== null && !Array.isArray(u)) {
        const d = Base64Array.decode(u);
        if (isLeft(d)) return t.failure(u, c, `expected ${name} as nested numbers or {dtype, shape, base64}, got ${describeJson(u)}`);
        const { dtype, shape, base64 } = d.right;
        if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0)) return t.failure(u, c, `shape must hold non-negative integers, got ${describeJson(shape)}`);
        const aval = new ShapedArray(shape, dtype);
        const bad = mismatch(aval);
        if (bad) return t.failure(u, c, bad);
        const bytes = base64ToBytes(base64);
        if (!bytes) return t.failure(u, c, "base64 is not valid base64 text");
        const want = aval.size * bytesPerElement(dtype);
        if (bytes.length !== want) return t.failure(u, c, `base64 holds ${bytes.length} bytes, but ${specName(dtype, shape)} needs ${want}`);
        if (dtype === "bool") {
          const i = bytes.findIndex((b) => b > 1);
          if (i >= 0) return t.failure(u, c, `a bool array holds the byte ${bytes[i]} at element ${i}; bools are 0 or 1`);
        }
        swap(bytes, bytesPerElement(dtype));
        const buf = typedArrayFor(dtype, aval.size);
        new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).set(bytes);
        return t.success(fromBuffer(buf, shape, dtype));
      }
      const dtype = spec.dtype ?? "float32";
      const parsed = parseNestedJson(u, dtype);
      if ("message" in parsed) return t.failure(u, c, parsed.at ? `${parsed.message} (at element ${parsed.at})` : parsed.message);
      let shape = parsed.shape;
      // Nested lists cannot spell the axes after an empty one ([] is float32[0], and also [0,0]): the spec's shape fills them in.
      if (spec.shape && shape[shape.length - 1] === 0 && spec.shape.length > shape.length) shape = [...shape, ...spec.shape.slice(shape.length).map((d) => (d === null || d === -1 ? 0 : d))];
      if (!checkShape(shape, spec.shape)) return t.failure(u, c, `expected ${name}, got ${specName(dtype, shape)}`);
      return t.success(fromBuffer(parsed.flat, shape, dtype));
    },
    (a) => {
      if (encoding === "base64") {
        const data = a.toTypedArray();
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        swap(bytes, bytesPerElement(a.dtype));
        return { dtype: a.dtype, shape: a.shape, base64: bytesToBase64(bytes) };
      }
      const spell = (v: unknown): NestedJson =>
        Array.isArray(v) ? v.map(spell) : typeof v === "number" && !Number.isFinite(v) ? String(v) : (v as NestedJson);
      return spell(a.toArray());
    },
  );
};

/** Like t.type, but an unknown key is a failure (silently dropping a misspelled key hides a bug). */
const strictObject = (props: Record<string, t.Mixed>, name: string): t.Type<Record<string, unknown>, Record<string, unknown>, unknown> => {
  const inner = t.type(props, name);
  return new t.Type<Record<string, unknown>, Record<string, unknown>, unknown>(
    name,
    (u): u is Record<string, unknown> => inner.is(u) && Object.keys(u as object).every((k) => k in props),
    (u, c) => {
      if (typeof u !== "object" || u === null || Array.isArray(u) || u instanceof ArrayBase) return t.failure(u, c, `expected an object with keys ${Object.keys(props).join(", ")}, got ${describeJson(u)}`);
      const extra = Object.keys(u).filter((k) => !Object.prototype.hasOwnProperty.call(props, k));
      const decoded = inner.validate(u, c);
      const extraErrors = extra.map((k) => ({ value: (u as Record<string, unknown>)[k], context: [...c, { key: k, type: t.never, actual: u }], message: "unexpected key" }) as t.ValidationError);
      if (isLeft(decoded)) return t.failures([...decoded.left, ...extraErrors]);
      return extraErrors.length ? t.failures(extraErrors) : t.success(decoded.right as Record<string, unknown>);
    },
    (a) => inner.encode(a as never),
  );
};

/** A list of exactly `items.length` values, item i matching `items[i]`. */
const fixedList = (items: readonly t.Mixed[]): t.Type<unknown[], unknown[], unknown> => {
  const name = `[${items.map((c) => c.name).join(", ")}]`;
  return new t.Type<unknown[], unknown[], unknown>(
    name,
    (u): u is unknown[] => Array.isArray(u) && u.length === items.length && items.every((c, i) => c.is(u[i])),
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c, `expected a list of ${items.length}, got ${describeJson(u)}`);
      if (u.length !== items.length) return t.failure(u, c, `expected a list of ${items.length}, got a list of ${u.length}`);
      const errors: t.ValidationError[] = [];
      const out: unknown[] = [];
      items.forEach((codec, i) => {
        const r = codec.validate(u[i], [...c, { key: String(i), type: codec, actual: u[i] }]);
        if (isLeft(r)) errors.push(...r.left);
        else out.push(r.right);
      });
      return errors.length ? t.failures(errors) : t.success(out);
    },
    (a) => a.map((v, i) => items[i]!.encode(v)),
  );
};

/** A tree spec: codecs at the leaves, in plain objects (keys checked) and lists (fixed length). */
export type TreeSpec = t.Mixed | readonly TreeSpec[] | { readonly [key: string]: TreeSpec };

/** The value type a tree spec decodes to. */
export type TreeOf<S> = S extends t.Type<infer A, any, any> ? A : S extends readonly unknown[] ? { -readonly [K in keyof S]: TreeOf<S[K]> } : { -readonly [K in keyof S]: TreeOf<S[K]> };

/**
 * A codec for a pytree from a spec of codecs: objects of codecs decode objects (unknown
 * keys are failures), lists of codecs decode lists of that length.
 *
 * ```ts
 * const Params = codecs.tree({ w: codecs.array({ shape: [784, 10] }), b: codecs.array({ shape: [10] }) });
 * ```
 */
export const treeCodec = <S extends TreeSpec>(spec: S, depth = 0): t.Type<TreeOf<S>, unknown, unknown> => treeCodecOf(spec, depth) as never;

const treeCodecOf = (spec: TreeSpec, depth: number): t.Mixed => {
  if (depth > 256) throw new ValueError("the spec nests more than 256 levels deep", { op: "codecs.tree" });
  if (spec instanceof t.Type) return spec;
  if (Array.isArray(spec)) return fixedList(spec.map((s) => treeCodecOf(s, depth + 1)));
  if (typeof spec === "object" && spec !== null) {
    const props: Record<string, t.Mixed> = {};
    for (const [k, s] of Object.entries(spec)) props[k] = treeCodecOf(s as TreeSpec, depth + 1);
    return strictObject(props, `{ ${Object.entries(props).map(([k, c]) => `${k}: ${c.name}`).join(", ")} }`);
  }
  throw new ValueError(`a tree spec holds codecs in objects and lists; got ${describeJson(spec)}`, { op: "codecs.tree" });
};

/**
 * A codec for values shaped like `template` (e.g. a model's params): each array leaf must
 * decode to that dtype and shape, numbers to numbers, and the structure must match.
 */
export const likeCodec = (template: unknown, options: ArrayEncoding = {}, depth = 0): t.Mixed => {
  if (depth > 256) throw new ValueError("the template nests more than 256 levels deep", { op: "codecs.like" });
  if (template instanceof ArrayBase || template instanceof ShapedArray) {
    const a = template instanceof ArrayBase ? template.aval : template;
    return arrayCodec({ dtype: a.dtype, shape: a.shape }, options);
  }
  if (typeof template === "number") return t.number;
  if (typeof template === "boolean") return t.boolean;
  if (typeof template === "string") return t.string;
  if (template === null) return t.null;
  if (Array.isArray(template)) return fixedList(template.map((x) => likeCodec(x, options, depth + 1)));
  if (typeof template === "object" && template !== null) {
    const spec: Record<string, t.Mixed> = {};
    for (const [k, v] of Object.entries(template)) spec[k] = likeCodec(v, options, depth + 1);
    return treeCodecOf(spec, depth);
  }
  throw new ValueError(`cannot make a codec for ${describeJson(template)}`, { op: "codecs.like", hint: "the template holds arrays, numbers, booleans, strings, null, lists and plain objects" });
};

/** Decodes `value` with `codec`: the value, or a {@link DecodeError} listing every mismatch by path under `root`. */
export const decode = <A>(codec: t.Decoder<unknown, A>, value: unknown, root = ""): Either<DecodeError, A> => {
  const r = codec.decode(value);
  if (!isLeft(r)) return right(r.right);
  const failures = decodeFailures(r.left).map((f) => ({
    path: root && f.path ? (f.path.startsWith("[") ? `${root}${f.path}` : `${root}.${f.path}`) : root || f.path,
    message: f.message,
  }));
  return left(new DecodeError(failures, { op: "codecs.decode" }));
};

/** {@link decode}, throwing the DecodeError. */
export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, value: unknown, root = ""): A => {
  const r = decode(codec, value, root);
  if (isLeft(r)) throw r.left;
  return r.right;
};

/** Encodes a value with a codec: arrays become JSON (nested numbers or base64 as the codec says). */
export const encode = <A, O>(codec: t.Encoder<A, O>, value: A): O => codec.encode(value);
