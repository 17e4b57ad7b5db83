/**
 * `toOnnx`: a function (traced at example arguments) or a jaxpr -> the bytes of an ONNX
 * model. Each equation is lowered by its primitive's rule in the lowering table; inputs
 * and outputs are named by their pytree paths, constants become initializers, and each
 * node carries the user's source line as its doc_string.
 */
import { ArrayBase, type Eqn, Jaxpr, Literal, NDArray, type ShapedArray, Var, makeJaxpr, np, tree } from "@cotangent/core";
import { GraphBuilder, ModelContext, valueInfo } from "./builder.js";
import { OnnxExportError } from "./errors.js";
import { elementwiseLowerings } from "./lower/elementwise.js";
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

/** A named dynamic axis: its size in the main trace (n1) and in the second trace (n2), and where to read it at run time. */
interface DynamicSymbol {
  name: string;
  n1: number;
  n2: number;
  input: string;
  axis: number;
}

/** Primitives whose lowering holds for any size of a dynamic axis (no static shape in their nodes). */
const SHAPE_POLYMORPHIC = new Set([
  ...Object.keys(elementwiseLowerings),
  ...["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or", "argmax", "argmin", "cumsum"],
  ...["dot_general", "transpose", "concatenate", "broadcast_in_dim", "reshape"],
]);
/** Of those, the ones whose params may differ between the traces (they read shapes at run time). */
const READS_SHAPES_AT_RUN_TIME = new Set(["broadcast_in_dim", "reshape"]);

const polymorphic = (e: Eqn): boolean => {
  if (SHAPE_POLYMORPHIC.has(e.primitive.name)) return true;
  if (e.primitive.name !== "conv_general_dilated") return false;
  const p = e.params as { lhs_dilation: number[]; batch_group_count: number };
  return p.lhs_dilation.every((d) => d === 1) && p.batch_group_count === 1;
};

const differs = (a: ShapedArray, b: ShapedArray) => a.shape.some((d, i) => d !== b.shape[i]);

const paramsKey = (p: object): string => JSON.stringify(p, (_k, v) => (v instanceof Jaxpr ? v.toString() : typeof v === "function" ? "<fn>" : v));

/** Refuses an equation that the second trace shows would be wrong at other sizes of a dynamic axis. */
const checkPolymorphic = (eqn: Eqn, alt: Eqn | undefined, symbols: readonly DynamicSymbol[]): void => {
  const where = eqn.source?.location ?? null;
  const names = symbols.map((s) => `'${s.name}'`).join(", ");
  const fail = (why: string, hint?: string): never => {
    throw new OnnxExportError(`cannot export with dynamic axes ${names}: ${why}`, { op: eqn.primitive.name, source: where, hint: hint ?? "export with static shapes (one model per size), or rewrite the function so this op does not depend on the axis' size" });
  };
  if (!alt || alt.primitive !== eqn.primitive || alt.inputs.length !== eqn.inputs.length || alt.outputs.length !== eqn.outputs.length) {
    fail("the function traces to different programs at different sizes of the axis");
  }
  if (eqn.inputs.some((x, i) => x instanceof Literal && (!(alt!.inputs[i] instanceof Literal) || (alt!.inputs[i] as Literal).value !== x.value))) {
    fail(`'${eqn.primitive.name}' uses a constant that depends on the axis' size (as a mean's 1/n does)`, "use a sum, or pass the size as an input");
  }
  const touches = eqn.inputs.some((x, i) => differs(x.aval, alt!.inputs[i]!.aval)) || eqn.outputs.some((v, i) => differs(v.aval, alt!.outputs[i]!.aval));
  if (!touches) return;
  if (!polymorphic(eqn)) fail(`'${eqn.primitive.name}' is lowered with static shapes, so it cannot take any size of the axis`);
  if (!READS_SHAPES_AT_RUN_TIME.has(eqn.primitive.name) && paramsKey(eqn.params) !== paramsKey(alt!.params)) {
    fail(`the params of '${eqn.primitive.name}' depend on the axis' size`);
  }
};

/** Lowers `jaxpr`'s equations into `g`, reading its inputs from `inputs`; returns the output names. */
const lowerJaxpr = (g: GraphBuilder, jaxpr: Jaxpr, inputs: readonly string[], alt?: Jaxpr, symbols: readonly DynamicSymbol[] = []): string[] => {
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
  if (alt && alt.eqns.length !== jaxpr.eqns.length) {
    throw new OnnxExportError(`cannot export with dynamic axes: the function traces to different programs at different sizes of the axis`, { op: "toOnnx", source: null });
  }
  const runtimeDims = new Map<string, string>();
  const shapeTensor = (dims: readonly number[], altDims?: readonly number[]): string => {
    if (!altDims || dims.every((d, i) => d === altDims[i])) return g.int64s(dims);
    const parts = dims.map((d, i) => {
      if (d === altDims[i]) return g.int64s([d]);
      const sym = symbols.find((s) => s.n1 === d && s.n2 === altDims[i]);
      if (!sym) throw new OnnxExportError(`a shape [${dims.join(", ")}] has a size that is not one of the dynamic axes`, { op: "toOnnx", source: g.docString, hint: "only sizes equal to a dynamic axis can vary (not products or sums of them)" });
      let dim = runtimeDims.get(sym.name);
      if (!dim) runtimeDims.set(sym.name, (dim = g.node("Shape", [sym.input], { start: { int: sym.axis }, end: { int: sym.axis + 1 } }, { since: 15, hint: sym.name })[0]!));
      return dim;
    });
    return g.op("Concat", parts, { axis: { int: 0 } });
  };
  jaxpr.eqns.forEach((eqn, k) => {
    const altEqn = alt ? alt.eqns[k] : undefined;
    if (alt) checkPolymorphic(eqn, altEqn, symbols);
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
      lowerJaxpr: (sg, j, ins) => lowerJaxpr(sg, j, ins),
      shapeTensor,
      alt: altEqn ?? null,
    };
    let outs: string[];
    try {
      outs = rule(args);
    } catch (e) {
      if (e instanceof OnnxExportError) throw e;
      throw new OnnxExportError(`lowering '${name}' failed: ${(e as Error).message}`, { op: name, source: where });
    }
    eqn.outputs.forEach((v, i) => env.set(v, outs[i]!));
  });
  g.docString = saved;
  return jaxpr.outvars.map(read);
};

interface Signature {
  jaxpr: Jaxpr;
  inputNames: string[];
  outputNames: string[];
  /** With dynamic axes: the function traced again with other sizes for them. */
  alt?: Jaxpr;
  symbols?: DynamicSymbol[];
}

/** Traces `fn` a second time with every dynamic axis grown (by a different amount per name), to see which sizes follow them. */
const traceDynamic = (fn: (...args: any[]) => unknown, args: unknown[], inNames: readonly string[], spec: NonNullable<ToOnnxOptions["dynamicAxes"]>): { alt: Jaxpr; symbols: DynamicSymbol[] } => {
  const [leaves, def] = tree.flatten(args);
  const symbols: DynamicSymbol[] = [];
  const order: string[] = [];
  const altLeaves = leaves.map((leaf, i) => {
    const axes = spec[inNames[i]!] ?? spec[String(i)];
    if (!axes) return leaf;
    if (!(leaf instanceof ArrayBase)) throw new OnnxExportError(`dynamicAxes names input '${inNames[i]}', which is not an array`, { op: "toOnnx" });
    const shape = leaf.shape.slice();
    for (const [axisText, name] of Object.entries(axes)) {
      const axis = Number(axisText);
      if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
        throw new OnnxExportError(`dynamicAxes gives axis ${axisText} of input '${inNames[i]}', which has shape [${leaf.shape.join(", ")}]`, { op: "toOnnx" });
      }
      let k = order.indexOf(name);
      if (k < 0) k = order.push(name) - 1;
      const n1 = leaf.shape[axis]!;
      const prior = symbols.find((s) => s.name === name);
      if (prior && prior.n1 !== n1) {
        throw new OnnxExportError(`dynamic axis '${name}' has size ${prior.n1} in input '${prior.input}' but ${n1} in input '${inNames[i]}'`, { op: "toOnnx", hint: "give axes that share a name the same size in the example arguments" });
      }
      // Distinct growth per name, so that two axes of equal example size stay told apart.
      const n2 = n1 + 1 + 7 * k;
      if (!prior) symbols.push({ name, n1, n2, input: inNames[i]!, axis });
      shape[axis] = n2;
    }
    return np.zeros(shape, { dtype: leaf.dtype });
  });
  const alt = makeJaxpr((...xs: unknown[]) => tree.leaves(fn(...xs)))(...tree.unflatten<unknown[]>(def, altLeaves));
  return { alt, symbols };
};

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
  const outs = lowerJaxpr(g, jaxpr, inNames, sig.alt, sig.symbols);
  // Each output is its own node's result, under its own name (an output may repeat an input or another output).
  outs.forEach((o, i) => g.nodes.push({ input: [o], output: [outNames[i]!], name: ctx.fresh("n_Identity"), opType: "Identity" }));
  const dynamic = opts.dynamicAxes ?? {};
  for (const key of Object.keys(dynamic)) {
    if (!inNames.includes(key) && !(/^\d+$/.test(key) && Number(key) < inNames.length)) {
      throw new OnnxExportError(`dynamicAxes names input '${key}', which is not one of ${inNames.join(", ")}`, { op: "toOnnx" });
    }
  }
  const outDims = (shape: readonly number[], alt?: readonly number[]): (number | string)[] =>
    shape.map((d, k) => (alt && alt[k] !== d ? (sig.symbols?.find((s) => s.n1 === d && s.n2 === alt[k])?.name ?? `dim_${k}`) : d));
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
      output: jaxpr.outvars.map((v, i) => valueInfo(outNames[i]!, v.aval.dtype, outDims(v.aval.shape, sig.alt?.outvars[i]?.aval.shape))),
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
    if (opts.dynamicAxes && Object.keys(opts.dynamicAxes).length > 0) {
      throw new OnnxExportError("dynamicAxes needs the function (it is traced again at other sizes), not a jaxpr", { op: "toOnnx", hint: "call toOnnx(fn, ...exampleArgs, { dynamicAxes })" });
    }
    sig = {
      jaxpr: target,
      inputNames: target.invars.map((_, i) => `input_${i}`),
      outputNames: target.outvars.length === 1 ? ["output"] : target.outvars.map((_, i) => `output_${i}`),
    };
  } else if (typeof target === "function") {
    sig = traceSignature(target, args);
    if (opts.dynamicAxes && Object.keys(opts.dynamicAxes).length > 0) {
      Object.assign(sig, traceDynamic(target, args, uniqueNames([...(opts.inputNames ?? sig.inputNames)]), opts.dynamicAxes));
    }
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
