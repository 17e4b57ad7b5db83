/**
 * The saved-state file format, version 1. One file (or one Uint8Array) holds a whole pytree:
 *
 * ```
 * offset  size  field (all integers little-endian)
 *      0     8  magic: 89 43 54 47 0D 0A 1A 0A  ("\x89CTG\r\n\x1a\n", PNG's trick: a
 *               text-mode transfer or a 7-bit channel visibly breaks it)
 *      8     4  format version (uint32) = 1
 *     12     4  manifest length M in bytes (uint32)
 *     16     8  data length D in bytes (uint64)
 *     24     4  CRC-32 of everything after the header (bytes 32 .. end)
 *     28     4  CRC-32 of the header bytes 0 .. 27
 *     32     M  manifest: UTF-8 JSON, see {@link ManifestCodec}
 *   32+M     P  zero padding so the data section starts on an 8-byte boundary
 * 32+M+P     D  data: each array's elements as raw little-endian bytes (bool: one byte
 *               0 or 1), each at an 8-byte-aligned offset from the start of the data
 * ```
 *
 * The manifest is `{"format": "cotangent-state", "endianness": "little", "tree": Node}`
 * where a Node is one of
 * - `{"t": "nd", "dtype", "shape", "offset", "nbytes"}`: an array leaf (offset into data),
 * - `{"t": "num", "v"}`: a JS number; `v` is a JSON number, or one of the strings
 *   "NaN", "Infinity", "-Infinity", "-0" (which JSON numbers cannot spell),
 * - `{"t": "bool", "v"}`, `{"t": "str", "v"}`, `{"t": "null"}`, `{"t": "undef"}`,
 * - `{"t": "list", "c": [Node, ...]}` and `{"t": "dict", "e": [[key, Node], ...]}`
 *   (keys in the order the object had them).
 *
 * Lists and dicts nest at most {@link MAX_DEPTH} levels deep, so that writing and reading
 * (both recursive) never run out of stack.
 */
import * as t from "io-ts";
import { DTypeCodec } from "./codecs.js";

/** The first 8 bytes of every saved state. */
export const MAGIC: readonly number[] = [0x89, 0x43, 0x54, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The version this build writes and reads. */
export const FORMAT_VERSION = 1;
/** Bytes before the manifest. */
export const HEADER_BYTES = 32;
/** Alignment of the data section and of every array in it. */
export const ALIGN = 8;

/** The most lists and dicts a saved tree nests inside each other. */
export const MAX_DEPTH = 256;
/**
 * The most JSON nesting a manifest within {@link MAX_DEPTH} can have: the manifest object,
 * three levels per dict (its entries, an entry, the node), the leaf node and an array's shape.
 */
export const MAX_JSON_DEPTH = 3 * MAX_DEPTH + 3;

/** Rounds `n` up to a multiple of {@link ALIGN}. */
export const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** A non-negative safe integer (sizes, offsets, axis lengths). */
const Count = new t.Type<number, number, unknown>(
  "non-negative integer",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0,
  (u, c) => (typeof u === "number" && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);


/** The JSON spellings of a JS number: finite numbers as themselves, the rest as strings. */
const NumberValue = t.union([t.number, t.keyof({ NaN: null, Infinity: null, "-Infinity": null, "-0": null })], "number value");

/** An array leaf of the manifest. */
export interface NdNode {
  t: "nd";
  dtype: "float32" | "float64" | "int32" | "bool";
  shape: number[];
  offset: number;
  nbytes: number;
}
/** A node of the manifest's tree (see the module comment). */
export type Node =
  | NdNode
  | { t: "num"; v: number | "NaN" | "Infinity" | "-Infinity" | "-0" }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "null" }
  | { t: "undef" }
  | { t: "list"; c: Node[] }
  | { t: "dict"; e: [string, Node][] };

export const NodeCodec: t.Type<Node> = t.recursion("Node", () =>
  t.union([
    t.type({ t: t.literal("nd"), dtype: DTypeCodec, shape: t.array(Count), offset: Count, nbytes: Count }),
    t.type({ t: t.literal("num"), v: NumberValue }),
    t.type({ t: t.literal("bool"), v: t.boolean }),
    t.type({ t: t.literal("str"), v: t.string }),
    t.type({ t: t.literal("null") }),
    t.type({ t: t.literal("undef") }),
    t.type({ t: t.literal("list"), c: t.array(NodeCodec) }),
    t.type({ t: t.literal("dict"), e: t.array(t.tuple([t.string, NodeCodec])) }),
  ]),
);

export const ManifestCodec = t.type({
  format: t.literal("cotangent-state"),
  endianness: t.literal("little"),
  tree: NodeCodec,
});
export type Manifest = t.TypeOf<typeof ManifestCodec>;

/** True when this machine stores multi-byte numbers least significant byte first (all common ones do). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the bytes of every `width`-byte element in place (big-endian hosts only). */
export const swapBytes = (bytes: Uint8Array, width: number): void => {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
};

/** A number as the manifest spells it. */
export const encodeNumber = (x: number): Node & { t: "num" } => {
  if (Number.isNaN(x)) return { t: "num", v: "NaN" };
  if (x === Infinity) return { t: "num", v: "Infinity" };
  if (x === -Infinity) return { t: "num", v: "-Infinity" };
  if (Object.is(x, -0)) return { t: "num", v: "-0" };
  return { t: "num", v: x };
};

/** Inverse of {@link encodeNumber}. */
export const decodeNumber = (v: number | string): number => (typeof v === "number" ? v : v === "-0" ? -0 : Number(v));
