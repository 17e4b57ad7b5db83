/**
 * `serialize(tree) -> Uint8Array` and `deserialize(bytes, {like}) -> tree`: the in-memory
 * half of saved state. Browser-safe: no Node imports here (save.ts adds the files).
 * The byte layout is documented in format.ts; validation of what is read lives in
 * validate.ts, so that nothing is built before everything has been checked.
 */
import { ArrayBase, NDArray, bufferOf } from "../array.js";
import { bytesPerElement } from "../dtype.js";
import { ValueError } from "../errors.js";
import { Tracer } from "../trace.js";
import { type PathEntry, pathToString } from "../tree.js";
import { crc32 } from "./crc32.js";
import { FORMAT_VERSION, HEADER_BYTES, LITTLE_ENDIAN, MAGIC, MAX_DEPTH, type Manifest, type Node, align, encodeNumber, swapBytes } from "./format.js";
import { type DeserializeOptions, buildTree, checkLike, readManifest } from "./validate.js";

export type { DeserializeOptions } from "./validate.js";

const describe = (x: unknown): string => {
  if (typeof x === "object" && x !== null) return (x as object).constructor?.name ?? "object";
  return typeof x;
};

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/** The manifest tree of `x`, with each array's buffer queued in `arrays` at its data offset. */
const encodeTree = (x: unknown, arrays: { array: NDArray; offset: number }[], size: { data: number }): Node => {
  // Containers on the current path: meeting one again means the tree refers to itself.
  const open = new Set<object>();
  const container = (v: object, path: PathEntry[], encode: () => Node): Node => {
    if (open.has(v)) {
      throw new ValueError(`the tree contains itself at ${pathToString(path)}`, { op: "serialize", hint: "saved state is a tree: remove the cycle" });
    }
    if (path.length >= MAX_DEPTH) {
      throw new ValueError(`the tree nests lists and objects more than ${MAX_DEPTH} levels deep (at ${pathToString(path.slice(0, 4))}...)`, {
        op: "serialize",
        hint: "saved state is limited in depth so that reading it cannot overflow the stack: store long chains as a list (e.g. of layers) instead of nesting them",
      });
    }
    open.add(v);
    try {
      return encode();
    } finally {
      open.delete(v);
    }
  };
  const go = (v: unknown, path: PathEntry[]): Node => {
    const at = () => (path.length ? ` at ${pathToString(path)}` : "");
    if (v === null) return { t: "null" };
    if (v === undefined) return { t: "undef" };
    if (typeof v === "number") return encodeNumber(v);
    if (typeof v === "boolean") return { t: "bool", v };
    if (typeof v === "string") return { t: "str", v };
    if (v instanceof Tracer) {
      throw new ValueError(`cannot save a traced value${at()} (${v.aval})`, {
        op: "serialize",
        hint: "serialize concrete values, outside of grad, vmap, jit or makeJaxpr",
      });
    }
    if (v instanceof NDArray) {
      const nbytes = v.size * bytesPerElement(v.dtype);
      const offset = size.data;
      arrays.push({ array: v, offset });
      size.data = align(offset + nbytes);
      return { t: "nd", dtype: v.dtype, shape: v.shape, offset, nbytes };
    }
    if (Array.isArray(v)) {
      return container(v, path, () => {
        const c: Node[] = [];
        for (let i = 0; i < v.length; i++) c.push(go(v[i], [...path, i]));
        return { t: "list", c };
      });
    }
    if (typeof v === "object" && isPlainObject(v) && !(v instanceof ArrayBase)) {
      return container(v, path, () => ({ t: "dict", e: Object.keys(v).map((k) => [k, go((v as Record<string, unknown>)[k], [...path, k])]) }));
    }
    throw new ValueError(`cannot save a ${describe(v)}${at()}`, {
      op: "serialize",
      hint: "saved state holds arrays, numbers, booleans, strings, null/undefined and plain arrays and objects of them; turn other values (registered classes, Maps, Dates, ...) into plain objects first",
    });
  };
  return go(x, []);
};

/**
 * Encodes a pytree as bytes: arrays of every dtype (bit for bit: NaN payloads and -0
 * included), JS numbers (NaN, ±Infinity and -0 included), booleans, strings, `null`,
 * `undefined`, and nested plain arrays and objects of them. The format (a header, a JSON
 * manifest of the tree and each array's dtype, shape and offset, then the raw
 * little-endian buffers, 8-byte aligned, with CRC-32 checksums) is described in
 * `docs/saved-state.md`. The same tree always gives the same bytes.
 *
 * ```ts
 * const bytes = serialize({ params, optState, key, step: 100 });
 * const back = deserialize(bytes); // equal, bit for bit
 * ```
 */
export const serialize = (tree: unknown): Uint8Array => {
  const arrays: { array: NDArray; offset: number }[] = [];
  const size = { data: 0 };
  const manifest: Manifest = { format: "cotangent-state", endianness: "little", tree: encodeTree(tree, arrays, size) };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  if (json.length > 0xffffffff) throw new ValueError(`the manifest is ${json.length} bytes, more than the format's 4 GiB limit`, { op: "serialize" });
  const dataStart = HEADER_BYTES + align(json.length);
  const out = new Uint8Array(dataStart + size.data);
  out.set(json, HEADER_BYTES);
  for (const { array, offset } of arrays) {
    const src = bufferOf(array);
    const bytes = new Uint8Array(src.buffer, src.byteOffset, array.size * bytesPerElement(array.dtype));
    const dst = out.subarray(dataStart + offset, dataStart + offset + bytes.length);
    dst.set(bytes);
    if (!LITTLE_ENDIAN) swapBytes(dst, bytesPerElement(array.dtype));
  }
  const view = new DataView(out.buffer);
  MAGIC.forEach((b, i) => view.setUint8(i, b));
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  view.setUint32(16, size.data % 2 ** 32, true);
  view.setUint32(20, Math.floor(size.data / 2 ** 32), true);
  view.setUint32(24, crc32(out.subarray(HEADER_BYTES)), true);
  view.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
};

/**
 * Decodes bytes made by {@link serialize} back into the pytree, with fresh arrays that
 * share nothing with `bytes`. Everything is checked before anything is built: a truncated
 * or corrupted buffer (CRC-32 mismatch), a wrong magic number or format version, or a
 * manifest that does not fit the format raises a ValueError that says which, and with
 * `like` (a template pytree of arrays, ShapedArrays or values) the result must also have
 * the template's structure, dtypes and shapes, or a ValueError lists what differs. There
 * is never a partial result.
 */
export const deserialize = <T = any>(bytes: Uint8Array, options: DeserializeOptions = {}): T => {
  const op = options.op ?? "deserialize";
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`expected a Uint8Array, got ${describe(bytes)}`, { op, hint: "pass the bytes that serialize returned (a Buffer works too)" });
  }
  const { tree, data } = readManifest(bytes, op);
  if (options.like !== undefined) checkLike(tree, options.like, op);
  return buildTree(tree, data, op) as T;
};
