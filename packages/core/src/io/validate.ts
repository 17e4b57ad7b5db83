/**
 * Reading saved state defensively: every check on the bytes (size, magic, version,
 * checksums, manifest shape via io-ts, each array's extent) and on the optional `like`
 * template happens before any value is built, so a bad file raises one clear ValueError
 * and never yields a partial tree.
 */
import { isLeft } from "fp-ts/lib/Either.js";
import { ArrayBase, fromBuffer } from "../array.js";
import { ShapedArray, bytesPerElement, typedArrayFor } from "../dtype.js";
import { ValueError } from "../errors.js";
import { type PathEntry, pathToString } from "../tree.js";
import { decodeFailures } from "./codecs.js";
import { crc32 } from "./crc32.js";
import { FORMAT_VERSION, HEADER_BYTES, LITTLE_ENDIAN, MAGIC, MAX_DEPTH, MAX_JSON_DEPTH, ManifestCodec, type NdNode, type Node, align, decodeNumber, swapBytes } from "./format.js";

export interface DeserializeOptions {
  /**
   * A template pytree (arrays, ShapedArrays, numbers, ... in the structure expected): the
   * saved tree must have the same structure and, leaf by leaf, the same kind of value and,
   * for arrays, the same dtype and shape.
   */
  like?: unknown;
  /** @internal The op named in errors (`load` passes its own). */
  op?: string;
}

const hex = (bytes: ArrayLike<number>): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;
const where = (path: readonly PathEntry[]): string => (path.length ? pathToString([...path]) : "the root");
const shapeText = (s: readonly number[]): string => `[${s.join(", ")}]`;

/** The first mismatch of a manifest, by its path: `tree.e[0][1].dtype: expected dtype, got "float16"`. */
const manifestPath = (errors: Parameters<typeof decodeFailures>[0]): string => {
  const f = decodeFailures(errors)[0]!;
  return `${f.path || "the top level"}: ${f.message}`;
};

const CORRUPT_HINT = "the bytes changed after they were written (a partial copy, disk or transfer error); use another copy of the file";

/**
 * Checks the header, size, checksums and manifest of `bytes`, and every array's extent in
 * the data section. Returns the manifest's tree and the data section.
 */
export const readManifest = (bytes: Uint8Array, op: string): { tree: Node; data: Uint8Array } => {
  const fail = (detail: string, hint?: string): never => {
    throw new ValueError(detail, { op, hint });
  };
  if (bytes.length < HEADER_BYTES) {
    fail(`truncated: ${bytes.length} bytes, but the header of a saved state alone is ${HEADER_BYTES} bytes`, CORRUPT_HINT);
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(`not a Cotangent saved state: it starts with ${hex(bytes.subarray(0, 8))}, expected ${hex(MAGIC)}`, "pass bytes made by serialize or a file written by save");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    fail(`unsupported format version ${version}; this build of Cotangent reads version ${FORMAT_VERSION}`, "the state was written by another version of Cotangent: load it with that version, or the file is corrupted");
  }
  const headerCrc = crc32(bytes.subarray(0, 28));
  if (headerCrc !== view.getUint32(28, true)) {
    fail(`corrupted: the header checksum does not match (computed CRC-32 ${hex32(headerCrc)}, stored ${hex32(view.getUint32(28, true))})`, CORRUPT_HINT);
  }
  const manifestLength = view.getUint32(12, true);
  const dataLength = view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32;
  const dataStart = HEADER_BYTES + align(manifestLength);
  const total = dataStart + dataLength;
  if (bytes.length < total) {
    fail(`truncated: the header announces ${total} bytes (a ${manifestLength}-byte manifest and ${dataLength} bytes of data) but only ${bytes.length} are present`, CORRUPT_HINT);
  }
  if (bytes.length > total) {
    fail(`${bytes.length - total} unexpected bytes after the end of the saved state (${total} bytes)`, CORRUPT_HINT);
  }
  const payloadCrc = crc32(bytes.subarray(HEADER_BYTES));
  if (payloadCrc !== view.getUint32(24, true)) {
    fail(`corrupted: the checksum of the manifest and data does not match (computed CRC-32 ${hex32(payloadCrc)}, stored ${hex32(view.getUint32(24, true))})`, CORRUPT_HINT);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + manifestLength)));
  } catch (e) {
    fail(`invalid manifest: not UTF-8 JSON (${(e as Error).message})`, "the file was not written by serialize or save");
  }
  // io-ts and the checks below recurse over the manifest: measure its depth without recursing first.
  if (jsonDepth(json, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) fail(`invalid manifest: nested more than ${MAX_DEPTH} levels deep`, "the file was not written by serialize or save");
  const decoded = ManifestCodec.decode(json);
  if (isLeft(decoded)) fail(`invalid manifest at ${manifestPath(decoded.left)}`, "the file was not written by serialize or save");
  const tree = (decoded as { right: { tree: Node } }).right.tree;
  const data = bytes.subarray(dataStart, total);
  checkExtents(tree, data, fail);
  return { tree, data };
};

/** The nesting depth of parsed JSON (a scalar is 0), counted without recursion and only up to just past `limit`. */
const jsonDepth = (json: unknown, limit: number): number => {
  let deepest = 0;
  const stack: [unknown, number][] = [[json, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > limit) break;
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (typeof c === "object" && c !== null) stack.push([c, d + 1]);
  }
  return deepest;
};

/** Every array must lie inside the data section, aligned, with as many bytes as its shape needs. */
const checkExtents = (tree: Node, data: Uint8Array, fail: (detail: string, hint?: string) => never): void => {
  const hint = "the file was not written by serialize or save";
  const go = (n: Node, path: PathEntry[]): void => {
    if ((n.t === "list" || n.t === "dict") && path.length >= MAX_DEPTH) fail(`invalid manifest: nested more than ${MAX_DEPTH} levels deep`, hint);
    if (n.t === "list") n.c.forEach((c, i) => go(c, [...path, i]));
    else if (n.t === "dict") {
      const seen = new Set<string>();
      for (const [k, c] of n.e) {
        if (seen.has(k)) fail(`invalid manifest: key ${JSON.stringify(k)} appears twice in the object at ${where(path)}`, hint);
        seen.add(k);
        go(c, [...path, k]);
      }
    } else if (n.t === "nd") {
      const size = n.shape.reduce((a, b) => a * b, 1);
      const want = size * bytesPerElement(n.dtype);
      const aval = new ShapedArray(n.shape, n.dtype);
      if (!Number.isSafeInteger(want) || n.nbytes !== want) fail(`invalid manifest: the array at ${where(path)} (${aval}) claims ${n.nbytes} bytes, but its shape needs ${want}`, hint);
      if (n.offset % 8 !== 0) fail(`invalid manifest: the array at ${where(path)} starts at offset ${n.offset}, which is not 8-byte aligned`, hint);
      if (n.offset + n.nbytes > data.length) fail(`invalid manifest: the array at ${where(path)} (bytes ${n.offset} to ${n.offset + n.nbytes}) ends beyond the ${data.length}-byte data section`, hint);
      if (n.dtype === "bool") {
        const bad = data.subarray(n.offset, n.offset + n.nbytes).findIndex((b) => b > 1);
        if (bad >= 0) fail(`invalid data: the bool array at ${where(path)} holds the byte ${data[n.offset + bad]} at element ${bad}; bools are stored as 0 or 1`, hint);
      }
    }
  };
  go(tree, []);
};

const kindOf = (n: Node): string => {
  switch (n.t) {
    case "nd":
      return `an array ${new ShapedArray(n.shape, n.dtype)}`;
    case "num":
      return "a number";
    case "bool":
      return "a boolean";
    case "str":
      return "a string";
    case "null":
    case "undef":
      return n.t === "null" ? "null" : "undefined";
    case "list":
      return `a list of ${n.c.length}`;
    case "dict":
      return "an object";
  }
};

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const templateKind = (x: unknown): string => {
  if (x instanceof ArrayBase || x instanceof ShapedArray) return `an array ${x instanceof ArrayBase ? x.aval : x}`;
  if (x === null || x === undefined) return String(x);
  if (typeof x === "number") return "a number";
  if (typeof x === "boolean") return "a boolean";
  if (typeof x === "string") return "a string";
  if (Array.isArray(x)) return `a list of ${x.length}`;
  return isPlainObject(x as object) ? "an object" : `a ${(x as object).constructor?.name ?? typeof x}`;
};

const MAX_LISTED = 8;

/**
 * Compares the saved tree with a template: same structure, same kind of leaf, and for
 * arrays the same dtype and shape. All differences are listed (up to a few) in one error.
 */
export const checkLike = (tree: Node, like: unknown, op: string): void => {
  const diffs: string[] = [];
  const go = (n: Node, x: unknown, path: PathEntry[]): void => {
    const at = where(path);
    if (x instanceof ArrayBase || x instanceof ShapedArray) {
      const a = x instanceof ArrayBase ? x.aval : x;
      if (n.t !== "nd") diffs.push(`${at}: found ${kindOf(n)}, expected ${templateKind(x)}`);
      else {
        if (n.dtype !== a.dtype) diffs.push(`${at}: dtype ${n.dtype}, expected ${a.dtype}`);
        if (shapeText(n.shape) !== shapeText(a.shape)) diffs.push(`${at}: shape ${shapeText(n.shape)}, expected ${shapeText(a.shape)}`);
      }
    } else if (x === null || x === undefined) {
      if (n.t !== "null" && n.t !== "undef") diffs.push(`${at}: found ${kindOf(n)}, expected ${templateKind(x)}`);
    } else if (typeof x === "number" || typeof x === "boolean" || typeof x === "string") {
      const want = typeof x === "number" ? "num" : typeof x === "boolean" ? "bool" : "str";
      if (n.t !== want) diffs.push(`${at}: found ${kindOf(n)}, expected ${templateKind(x)}`);
    } else if (Array.isArray(x)) {
      if (n.t !== "list") diffs.push(`${at}: found ${kindOf(n)}, expected ${templateKind(x)}`);
      else {
        if (n.c.length !== x.length) diffs.push(`${at}: a list of ${n.c.length} entries, expected ${x.length}`);
        for (let i = 0; i < Math.min(n.c.length, x.length); i++) go(n.c[i]!, x[i], [...path, i]);
      }
    } else if (typeof x === "object" && isPlainObject(x)) {
      if (n.t !== "dict") diffs.push(`${at}: found ${kindOf(n)}, expected ${templateKind(x)}`);
      else {
        const saved = new Map(n.e);
        const keys = Object.keys(x);
        const missing = keys.filter((k) => !saved.has(k));
        const extra = n.e.map(([k]) => k).filter((k) => !Object.prototype.hasOwnProperty.call(x, k));
        if (missing.length) diffs.push(`${at}: missing key${missing.length > 1 ? "s" : ""} ${missing.map((k) => JSON.stringify(k)).join(", ")}`);
        if (extra.length) diffs.push(`${at}: unexpected key${extra.length > 1 ? "s" : ""} ${extra.map((k) => JSON.stringify(k)).join(", ")}`);
        for (const k of keys) if (saved.has(k)) go(saved.get(k)!, (x as Record<string, unknown>)[k], [...path, k]);
      }
    } else {
      diffs.push(`${at}: the template holds ${templateKind(x)}, which saved state cannot hold`);
    }
  };
  go(tree, like, []);
  if (diffs.length) {
    const shown = diffs.slice(0, MAX_LISTED).map((d) => `  ${d}`);
    if (diffs.length > MAX_LISTED) shown.push(`  ... and ${diffs.length - MAX_LISTED} more`);
    throw new ValueError(`the saved state does not match the template (${diffs.length} difference${diffs.length > 1 ? "s" : ""}):\n${shown.join("\n")}`, {
      op,
      hint: "load the state into the model it was saved from, or leave out `like` to read it as it is",
    });
  }
};

/** Builds the values of a checked manifest tree: fresh arrays that share nothing with `data`. */
export const buildTree = (tree: Node, data: Uint8Array, _op: string): unknown => {
  const go = (n: Node): unknown => {
    switch (n.t) {
      case "nd":
        return buildArray(n, data);
      case "num":
        return decodeNumber(n.v);
      case "bool":
      case "str":
        return n.v;
      case "null":
        return null;
      case "undef":
        return undefined;
      case "list":
        return n.c.map(go);
      case "dict": {
        const o: Record<string, unknown> = {};
        // defineProperty, so a key named "__proto__" is an ordinary key and not the prototype.
        for (const [k, c] of n.e) Object.defineProperty(o, k, { value: go(c), enumerable: true, writable: true, configurable: true });
        return o;
      }
    }
  };
  return go(tree);
};

const buildArray = (n: NdNode, data: Uint8Array): ArrayBase => {
  const size = n.shape.reduce((a, b) => a * b, 1);
  const buf = typedArrayFor(n.dtype, size);
  const dst = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  // A byte copy: the bits of every element (NaN payloads, -0) arrive unchanged.
  dst.set(data.subarray(n.offset, n.offset + n.nbytes));
  if (!LITTLE_ENDIAN) swapBytes(dst, bytesPerElement(n.dtype));
  return fromBuffer(buf, n.shape, n.dtype);
};
