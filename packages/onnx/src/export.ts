/**
 * `toOnnx`: a function (traced at example arguments) or a jaxpr -> the bytes of an ONNX
 * model. Each equation is lowered by its primitive's rule in the lowering table; inputs
 * and outputs are named by their pytree paths, constants become initializers, and each
 * node carries the user's source line as its doc_string.
 */
import { ArrayBase, Jaxpr, Literal, NDArray, Var, makeJaxpr, tree } from "@cotangent/core";
import { GraphBuilder, ModelContext, valueInfo } from "./builder.js";
import { OnnxExportError } from "./errors.js";
import { loweringRules } from "./lower/index.js";
import type { LowerArgs } from "./lower/rule.js";
import { type ModelProto, encodeModel } from "./proto/schema.js";

/** The opset written when none is asked for (raised automatically where an operator needs more). */
export const DEFAULT_OPSET = 17;

export interface ToOnnxOptions {
  /** The ONNX opset to target. Default 17, raised where an operator needs a later one; an explicit opset is never raised (a typed error says what needs more). */
  opset?: number;
  /** The graph's name. Default "cotangent". */
  name?: string;
  /**
   * Symbolic sizes for input axes, by input name (see `inputNames`) or flat input index:
   * `{ x: { 0: "batch" } }`. Written as dim_params on the graph's inputs; every op must
   * then accept any size there (see docs/onnx.md for what does).
   */
  dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
  /** Names of the flat inputs, replacing the pytree-path names. */
  inputNames?: readonly string[];
  /** Names of the flat outputs, replacing the pytree-path names. */
  outputNames?: readonly string[];
  /** The model's doc_string. */
  docString?: string;
}

const OPTION_KEYS = new Set(["opset", "name", "dynamicAxes", "inputNames", "outputNames", "docString"]);

/** Is the last argument an options object (a plain object of option keys only) rather than an example argument? */
const isOptions = (x: unknown): x is ToOnnxOptions =>
  x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype && Object.keys(x).length > 0 && Object.keys(x).every((k) => OPTION_KEYS.has(k));

/** The IR versions that go with each opset (ONNX's docs/Versioning.md table). */
const irVersionFor = (opset: number): number => (opset <= 16 ? 8 : opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 21 ? 10 : 11);

const IDENT = /[^A-Za-z0-9_]/g;
/** `params.w[0]` -> `params_w_0`: ONNX names should be C identifiers. */
const pathName = (prefix: string, path: readonly (string | number)[]): string =>
  [prefix, ...path.map(String)].join("_").replace(IDENT, "_");

const uniqueNames = (names: string[]): string[] => {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
};

const leafPaths = (x: unknown, prefix: string): string[] => {
  const out: string[] = [];
  tree.mapWithPath((path: (string | number)[]) => out.push(pathName(prefix, path)), x);
  return out;
};

/** Lowers `jaxpr`'s equations into `g`, reading its inputs from `inputs`; returns the output names. */
const lowerJaxpr = (g: GraphBuilder, jaxpr: Jaxpr, inputs: readonly string[]): string[] => {
  const env = new Map<Var, string>();
  const read = (a: Var | Literal): string => {
    if (a instanceof Literal) return g.scalar(a.value, a.aval.dtype);
    const n = env.get(a);
    if (n === undefined) throw new OnnxExportError("a jaxpr variable is read before it is bound (the jaxpr is malformed)", { op: "toOnnx", source: null });
    return n;
  };
  jaxpr.constvars.forEach((v, i) => {
    const c = jaxpr.consts[i]!;
    if (!(c instanceof NDArray)) {
      throw new OnnxExportError("the jaxpr closes over a traced value; export a closed jaxpr (from makeJaxpr) or the function itself", { op: "toOnnx", source: null });
    }
    env.set(v, g.array(c, "weight"));
  });
  jaxpr.invars.forEach((v, i) => env.set(v, inputs[i]!));
  const saved = g.docString;
  for (const eqn of jaxpr.eqns) {
    const name = eqn.primitive.name;
    const rule = loweringRules[name];
    const where = eqn.source?.location ?? null;
    if (!rule) {
      throw new OnnxExportError(`primitive '${name}' has no ONNX lowering (opset ${g.model.opset})`, {
        op: name,
        source: where,
        hint: eqn.primitive.effectful ? "effectful primitives (debug callbacks) do not export: remove them from the exported function" : "rewrite the function with other ops, or file an issue asking for this lowering",
      });
    }
    g.docString = where ?? saved;
    const args: LowerArgs = {
      g,
      eqn,
      params: eqn.params,
      inputs: eqn.inputs.map(read),
      inAvals: eqn.inputs.map((a) => a.aval),
      outAvals: eqn.outputs.map((v) => v.aval),
      lowerJaxpr,
    };
    let outs: string[];
    try {
      outs = rule(args);
    } catch (e) {
      if (e instanceof OnnxExportError) throw e;
      throw new OnnxExportError(`lowering '${name}' failed: ${(e as Error).message}`, { op: name, source: where });
    }
    eqn.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  g.docString = saved;
  return jaxpr.outvars.map(read);
};

interface Signature {
  jaxpr: Jaxpr;
  inputNames: string[];
  outputNames: string[];
}

const traceSignature = (fn: (...args: any[]) => unknown, args: unknown[]): Signature => {
  let outNames: string[] = [];
  const jaxpr = makeJaxpr((...xs: unknown[]) => {
    const out = fn(...xs);
    outNames = out instanceof ArrayBase ? ["output"] : leafPaths(out, "output");
    return tree.leaves(out);
  })(...args);
  const inputNames = args.length === 1 && args[0] instanceof ArrayBase ? ["input"] : args.flatMap((a, i) => (a instanceof ArrayBase ? [`input_${i}`] : leafPaths(a, `input_${i}`)));
  return { jaxpr, inputNames, outputNames: outNames };
};

const buildModel = (sig: Signature, opts: ToOnnxOptions, opset: number, fixed: boolean): { model: ModelProto; opset: number } => {
  const ctx = new ModelContext(opset, fixed);
  const g = new GraphBuilder(ctx);
  const { jaxpr } = sig;
  const inNames = uniqueNames([...(opts.inputNames ?? sig.inputNames)]);
  const outNames = uniqueNames([...(opts.outputNames ?? sig.outputNames)]);
  if (inNames.length !== jaxpr.invars.length) {
    throw new OnnxExportError(`inputNames has ${inNames.length} names for ${jaxpr.invars.length} inputs`, { op: "toOnnx" });
  }
  if (outNames.length !== jaxpr.outvars.length) {
    throw new OnnxExportError(`outputNames has ${outNames.length} names for ${jaxpr.outvars.length} outputs`, { op: "toOnnx" });
  }
  const outs = lowerJaxpr(g, jaxpr, inNames);
  // Each output is its own node's result, under its own name (an output may repeat an input or another output).
  outs.forEach((o, i) => g.nodes.push({ input: [o], output: [outNames[i]!], name: ctx.fresh("n_Identity"), opType: "Identity" }));
  const dynamic = opts.dynamicAxes ?? {};
  for (const key of Object.keys(dynamic)) {
    if (!inNames.includes(key) && !(/^\d+$/.test(key) && Number(key) < inNames.length)) {
      throw new OnnxExportError(`dynamicAxes names input '${key}', which is not one of ${inNames.join(", ")}`, { op: "toOnnx" });
    }
  }
  const dimsOf = (i: number, shape: readonly number[]): (number | string)[] => {
    const spec = dynamic[inNames[i]!] ?? dynamic[String(i)] ?? {};
    return shape.map((d, k) => spec[k] ?? d);
  };
  const model: ModelProto = {
    irVersion: irVersionFor(ctx.opset),
    opsetImport: [{ domain: "", version: ctx.opset }],
    producerName: "cotangent",
    producerVersion: "0.1.0",
    ...(opts.docString ? { docString: opts.docString } : {}),
    graph: {
      name: opts.name ?? "cotangent",
      node: g.nodes,
      initializer: ctx.initializers,
      input: jaxpr.invars.map((v, i) => valueInfo(inNames[i]!, v.aval.dtype, dimsOf(i, v.aval.shape))),
      output: jaxpr.outvars.map((v, i) => valueInfo(outNames[i]!, v.aval.dtype, v.aval.shape)),
    },
  };
  return { model, opset: ctx.opset };
};

/**
 * Exports to ONNX and returns the model's bytes.
 *
 * - `toOnnx(fn, ...exampleArgs, options?)` traces `fn` at the example arguments' shapes and
 *   dtypes (any pytrees of arrays); inputs are named from their pytree paths
 *   (`input_0_w`, ...), outputs likewise (`output`, `output_0`, `output_loss`, ...).
 * - `toOnnx(jaxpr, options?)` exports a closed jaxpr (e.g. from `makeJaxpr`).
 *
 * The last argument is taken as options when it is a plain object whose keys are all option
 * names (`opset`, `name`, `dynamicAxes`, `inputNames`, `outputNames`, `docString`).
 */
export function toOnnx(jaxpr: Jaxpr, options?: ToOnnxOptions): Uint8Array;
export function toOnnx(fn: (...args: any[]) => unknown, ...exampleArgs: unknown[]): Uint8Array;
export function toOnnx(target: Jaxpr | ((...args: any[]) => unknown), ...rest: unknown[]): Uint8Array {
  const last = rest[rest.length - 1];
  const opts: ToOnnxOptions = isOptions(last) ? last : {};
  const args = isOptions(last) ? rest.slice(0, -1) : rest;
  let sig: Signature;
  if (target instanceof Jaxpr) {
    if (args.length > 0) throw new OnnxExportError("a jaxpr is exported without example arguments: its avals are already known", { op: "toOnnx" });
    sig = {
      jaxpr: target,
      inputNames: target.invars.map((_, i) => `input_${i}`),
      outputNames: target.outvars.length === 1 ? ["output"] : target.outvars.map((_, i) => `output_${i}`),
    };
  } else if (typeof target === "function") {
    sig = traceSignature(target, args);
  } else {
    throw new OnnxExportError(`expects a function or a Jaxpr, got ${target === null ? "null" : typeof target}`, { op: "toOnnx" });
  }
  const requested = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(requested) || requested < 13 || requested > 23) {
    throw new OnnxExportError(`opset must be an integer from 13 to 23, got ${String(opts.opset)}`, { op: "toOnnx", hint: "the default, 17, is read by every current ONNX runtime" });
  }
  const fixed = opts.opset !== undefined;
  let built = buildModel(sig, opts, requested, fixed);
  // A node that raised the opset may come after nodes written for the lower one (e.g. ReduceMax's axes): lower again at the final opset.
  if (built.opset !== requested) built = buildModel(sig, opts, built.opset, true);
  return encodeModel(built.model);
}
