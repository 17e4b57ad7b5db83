/**
 * The `codecs` namespace: io-ts codecs for arrays and pytrees (see ./codecs.ts).
 *
 * ```ts
 * import { codecs } from "@cotangent/core";
 * const Params = codecs.tree({ w: codecs.array({ dtype: "float32", shape: [784, 10] }) });
 * const params = codecs.decodeOrThrow(Params, JSON.parse(body), "params");
 * ```
 */
import * as t from "io-ts";

import { describeValue } from "../api/args.js";
import { ValueError } from "../errors.js";
import * as C from "./codecs.js";

export { arrayCodec as array, DTypeCodec as dtype } from "./codecs.js";

// The public forms check their arguments (a typed error, not a TypeError inside io-ts) and
// hide the internal recursion depth parameter of tree and like.
const requireCodec = (op: string, c: unknown): void => {
  if (!(c instanceof t.Type)) throw new ValueError(`expects an io-ts codec (e.g. codecs.array(...) or codecs.tree(...)), got ${describeValue(c)}`, { op });
};

/** A codec for a pytree whose leaves are codecs (objects and lists of codecs). */
export const tree = <S extends C.TreeSpec>(spec: S): t.Type<C.TreeOf<S>, unknown, unknown> => C.treeCodec(spec);
/** A codec for values shaped like `template` (arrays by dtype and shape, numbers, strings, nested lists and objects). */
export const like = (template: unknown, options: C.ArrayEncoding = {}): t.Mixed => {
  if (options === null || typeof options !== "object") throw new ValueError(`options must be an object, got ${describeValue(options)}`, { op: "codecs.like" });
  return C.likeCodec(template, options);
};
/** Decodes `value` with `codec`: `Right(value)` or `Left(DecodeError)` listing every failure by path. */
export const decode = <A>(codec: t.Decoder<unknown, A>, value: unknown, root = ""): ReturnType<typeof C.decode<A>> => {
  requireCodec("codecs.decode", codec);
  return C.decode(codec, value, typeof root === "string" ? root : "");
};
/** Like {@link decode}, throwing the DecodeError. */
export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, value: unknown, root = ""): A => {
  requireCodec("codecs.decodeOrThrow", codec);
  return C.decodeOrThrow(codec, value, typeof root === "string" ? root : "");
};
/** Encodes `value` with `codec`. */
export const encode = <A, O>(codec: t.Encoder<A, O>, value: A): O => {
  requireCodec("codecs.encode", codec);
  return C.encode(codec, value);
};
/** The failures of an io-ts decoding, one per path. */
export const decodeFailures = (errors: t.Errors): C.DecodeFailure[] => {
  if (!Array.isArray(errors) || !errors.every((e) => typeof e === "object" && e !== null && Array.isArray((e as { context?: unknown }).context))) throw new ValueError(`expects io-ts errors (a list), got ${describeValue(errors)}`, { op: "codecs.decodeFailures" });
  return C.decodeFailures(errors);
};
/** A JS number (io-ts's own). */
export const number = t.number;
/** A string (io-ts's own). */
export const string = t.string;
/** A boolean (io-ts's own). */
export const boolean = t.boolean;
/** A list of any length whose every item matches `codec`. */
export const list = <K extends t.Mixed>(codec: K): t.ArrayC<K> => {
  requireCodec("codecs.list", codec);
  return t.array(codec);
};
