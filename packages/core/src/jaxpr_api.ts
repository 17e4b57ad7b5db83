/**
 * The jaxpr-level functions as the package exports them: each checks that it was given a
 * Jaxpr and lists of the right length and kind before the transform runs, so junk is a
 * typed error naming the function. (Internal callers use the unchecked functions.)
 */
import { describeValue } from "./api/args.js";
import { ArrayBase } from "./array.js";
import { ValueError } from "./errors.js";
import { toDot as toDotImpl } from "./ir/dot.js";
import { Jaxpr } from "./ir/jaxpr.js";
import { typecheck as typecheckImpl } from "./ir/typecheck.js";
import { evalJaxpr as evalJaxprImpl } from "./interpreter.js";
import { jvpJaxpr as jvpJaxprImpl } from "./transforms/jvp.js";
import { partialEvalJaxpr as partialEvalJaxprImpl } from "./transforms/partial_eval.js";
import { transposeJaxpr as transposeJaxprImpl } from "./transforms/transpose.js";
import { batchJaxpr as batchJaxprImpl } from "./transforms/vmap.js";
import { linearizeJaxpr as linearizeJaxprImpl } from "./transforms/vjp.js";

const requireJaxpr = (op: string, j: unknown): Jaxpr => {
  if (!(j instanceof Jaxpr)) throw new ValueError(`expects a Jaxpr (e.g. from makeJaxpr(f)(...args)), got ${describeValue(j)}`, { op });
  return j;
};

/** A list with one entry per input of `j`, each accepted by `ok`. */
const perInput = (op: string, what: string, j: Jaxpr, xs: unknown, ok: (x: unknown) => boolean, expected: string): void => {
  if (!Array.isArray(xs) || xs.length !== j.invars.length || !xs.every(ok)) {
    throw new ValueError(`${what} must be a list of ${j.invars.length} ${expected} (one per input of the jaxpr), got ${describeValue(xs)}`, { op });
  }
};
const isBool = (x: unknown) => typeof x === "boolean";

export const evalJaxpr: typeof evalJaxprImpl = (jaxpr, args) => {
  const j = requireJaxpr("evalJaxpr", jaxpr);
  perInput("evalJaxpr", "args", j, args, (x) => x instanceof ArrayBase, "arrays");
  return evalJaxprImpl(j, args);
};

export const typecheck: typeof typecheckImpl = (jaxpr) => typecheckImpl(requireJaxpr("typecheck", jaxpr));

export const toDot: typeof toDotImpl = (jaxpr, options) => {
  if (options !== undefined && typeof options !== "string" && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new ValueError(`options must be a graph name (a string) or an options object, got ${describeValue(options)}`, { op: "toDot" });
  }
  return toDotImpl(requireJaxpr("toDot", jaxpr), options);
};

export const jvpJaxpr: typeof jvpJaxprImpl = (jaxpr, nonzeros) => {
  const j = requireJaxpr("jvpJaxpr", jaxpr);
  perInput("jvpJaxpr", "nonzeros", j, nonzeros, isBool, "booleans");
  return jvpJaxprImpl(j, nonzeros);
};

export const linearizeJaxpr: typeof linearizeJaxprImpl = (jaxpr) => linearizeJaxprImpl(requireJaxpr("linearizeJaxpr", jaxpr));

export const transposeJaxpr: typeof transposeJaxprImpl = (jaxpr, linear) => {
  const j = requireJaxpr("transposeJaxpr", jaxpr);
  perInput("transposeJaxpr", "linear", j, linear, isBool, "booleans");
  return transposeJaxprImpl(j, linear);
};

export const partialEvalJaxpr: typeof partialEvalJaxprImpl = (jaxpr, unknowns, instantiate = false) => {
  const j = requireJaxpr("partialEvalJaxpr", jaxpr);
  perInput("partialEvalJaxpr", "unknowns", j, unknowns, isBool, "booleans");
  if (typeof instantiate !== "boolean" && !(Array.isArray(instantiate) && instantiate.length === j.outvars.length && instantiate.every(isBool))) {
    throw new ValueError(`instantiate must be a boolean or one boolean per output, got ${describeValue(instantiate)}`, { op: "partialEvalJaxpr" });
  }
  return partialEvalJaxprImpl(j, unknowns, instantiate);
};

export const batchJaxpr: typeof batchJaxprImpl = (jaxpr, inDims, size, outDims) => {
  const op = "batchJaxpr";
  const j = requireJaxpr(op, jaxpr);
  const isDim = (d: unknown) => d === null || (typeof d === "number" && Number.isSafeInteger(d));
  perInput(op, "inDims", j, inDims, isDim, "batch axes (integers or null)");
  if (!Array.isArray(outDims) || outDims.length !== j.outvars.length || !outDims.every(isDim)) {
    throw new ValueError(`outDims must be a list of ${j.outvars.length} batch axes (integers or null), got ${describeValue(outDims)}`, { op });
  }
  if (!(typeof size === "number" && Number.isSafeInteger(size) && size >= 0)) throw new ValueError(`size must be a non-negative integer, got ${describeValue(size)}`, { op });
  return batchJaxprImpl(j, inDims, size, outDims);
};
