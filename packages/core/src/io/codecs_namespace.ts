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

export { arrayCodec as array, treeCodec as tree, likeCodec as like, decode, decodeOrThrow, encode, DTypeCodec as dtype, decodeFailures } from "./codecs.js";
/** A JS number (io-ts's own). */
export const number = t.number;
/** A string (io-ts's own). */
export const string = t.string;
/** A boolean (io-ts's own). */
export const boolean = t.boolean;
/** A list of any length whose every item matches `codec`. */
export const list = <C extends t.Mixed>(codec: C): t.ArrayC<C> => t.array(codec);
