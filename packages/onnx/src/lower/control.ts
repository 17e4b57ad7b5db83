/**
 * Lowerings of the higher-order primitives: cond -> If, scan -> Loop, while -> Loop, and
 * the call-like ones (checkpoint, custom_jvp_call, custom_vjp_call, jit) inlined: their
 * derivative rules have already done their work by the time a jaxpr is exported.
 */
import type { Jaxpr } from "@cotangent/core";
import { GraphBuilder, valueInfo } from "../builder.js";
import { OnnxExportError } from "../errors.js";
import type { GraphProto } from "../proto/schema.js";

import type { LowerArgs, LoweringRule, LoweringTable } from "./rule.js";
import { reverse } from "./shape.js";

/** A subgraph: `body` emits into a fresh builder; inputs and outputs get full types, outputs are copied by Identity so each is produced inside. */
const subgraph = (
  parent: GraphBuilder,
  name: string,
  inputs: { name: string; dtype: Parameters<typeof valueInfo>[1] | "int64"; shape: readonly number[] }[],
  body: (g: GraphBuilder) => { name: string; dtype: Parameters<typeof valueInfo>[1]; shape: readonly number[] }[],
): GraphProto => {
  const g = new GraphBuilder(parent.model);
  g.docString = parent.docString;
  const outs = body(g).map((o) => ({ ...o, name: g.op("Identity", [o.name]) }));
  return {
    name: parent.model.fresh(name),
    node: g.nodes,
    input: inputs.map((i) =>
      i.dtype === "int64"
        ? { name: i.name, type: { tensorType: { elemType: 7, shape: { dim: i.shape.map((d) => ({ dimValue: d })) } } } }
        : valueInfo(i.name, i.dtype, i.shape),
    ),
    output: outs.map((o) => valueInfo(o.name, o.dtype, o.shape)),
  };
};

const avalsOut = (j: Jaxpr, names: string[]) => names.map((n, i) => ({ name: n, dtype: j.outAvals[i]!.dtype, shape: j.outAvals[i]!.shape }));

/** Inlines the one sub-jaxpr of a call-like primitive. */
const inline: LoweringRule = ({ g, inputs, params, eqn, lowerJaxpr }) => {
  const jaxpr = (params.jaxpr ?? params.call_jaxpr) as Jaxpr | undefined;
  if (!jaxpr) throw new OnnxExportError(`cannot find the sub-jaxpr of '${eqn.primitive.name}' to inline`, { op: eqn.primitive.name, source: eqn.source ?? null });
  return lowerJaxpr(g, jaxpr, inputs);
};

/** cond/switch: nested If on the clamped branch index (If k <= i: branch i, else the rest). */
const cond: LoweringRule<{ branches: readonly Jaxpr[] }> = (a) => {
  const { g, inputs: [index, ...ops], params: { branches }, outAvals } = a;
  const branchGraph = (k: number): GraphProto => subgraph(g, `branch${k}`, [], (sg) => avalsOut(branches[k]!, a.lowerJaxpr(sg, branches[k]!, ops)));
  const build = (k: number, gb: GraphBuilder): string[] => {
    if (k === branches.length - 1) return a.lowerJaxpr(gb, branches[k]!, ops);
    const pick = gb.op("LessOrEqual", [index!, gb.scalar(k, "int32")]);
    const elseGraph = k + 1 === branches.length - 1 ? branchGraph(k + 1) : subgraph(gb, `else${k}`, [], (sg) => build(k + 1, sg).map((n, i) => ({ name: n, dtype: outAvals[i]!.dtype, shape: outAvals[i]!.shape })));
    return gb.node("If", [pick], { then_branch: { graph: branchGraph(k) }, else_branch: { graph: elseGraph } }, { outputs: outAvals.length, hint: "if" });
  };
  return build(0, g);
};

/**
 * scan -> Loop over `length` iterations. The body reads x_t by Gather at the step (counted
 * down when reverse), returns (true, carry..., y_t...); Loop stacks the y_t on a new axis 0,
 * in step order, so a reverse scan flips them back.
 */
const scan: LoweringRule<{ jaxpr: Jaxpr; num_consts: number; num_carry: number; length: number; reverse: boolean }> = (a) => {
  const { g, inputs, params: p } = a;
  const consts = inputs.slice(0, p.num_consts);
  const init = inputs.slice(p.num_consts, p.num_consts + p.num_carry);
  const xs = inputs.slice(p.num_consts + p.num_carry);
  const carryAvals = p.jaxpr.inAvals.slice(p.num_consts, p.num_consts + p.num_carry);
  const iter = g.model.fresh("iter");
  const condIn = g.model.fresh("cond_in");
  const carryIn = carryAvals.map(() => g.model.fresh("carry_in"));
  const body = subgraph(
    g,
    "scan_body",
    [{ name: iter, dtype: "int64", shape: [] }, { name: condIn, dtype: "bool", shape: [] }, ...carryAvals.map((av, i) => ({ name: carryIn[i]!, dtype: av.dtype, shape: av.shape }))],
    (sg) => {
      const t = p.reverse ? sg.op("Sub", [sg.scalar(p.length - 1, "int64"), iter]) : iter;
      const xt = xs.map((x) => sg.op("Gather", [x, t], { axis: { int: 0 } }));
      const outs = a.lowerJaxpr(sg, p.jaxpr, [...consts, ...carryIn, ...xt]);
      return [{ name: sg.op("Identity", [condIn]), dtype: "bool", shape: [] }, ...avalsOut(p.jaxpr, outs)];
    },
  );
  const outs = g.node("Loop", [g.scalar(p.length, "int64"), g.scalar(1, "bool"), ...init], { body: { graph: body } }, { outputs: p.jaxpr.outvars.length, hint: "loop" });
  return outs.map((o, i) => (i >= p.num_carry && p.reverse ? reverse(g, o, [0]) : o));
};

/** while -> Loop with no trip count: the condition is evaluated before the loop and at the end of each body. */
const whileLoop: LoweringRule<{ cond_jaxpr: Jaxpr; body_jaxpr: Jaxpr; cond_nconsts: number; body_nconsts: number }> = (a) => {
  const { g, inputs, params: p } = a;
  const cc = inputs.slice(0, p.cond_nconsts);
  const bc = inputs.slice(p.cond_nconsts, p.cond_nconsts + p.body_nconsts);
  const init = inputs.slice(p.cond_nconsts + p.body_nconsts);
  const carryAvals = p.body_jaxpr.outAvals;
  const first = a.lowerJaxpr(g, p.cond_jaxpr, [...cc, ...init])[0]!;
  const iter = g.model.fresh("iter");
  const condIn = g.model.fresh("cond_in");
  const carryIn = carryAvals.map(() => g.model.fresh("carry_in"));
  const body = subgraph(
    g,
    "while_body",
    [{ name: iter, dtype: "int64", shape: [] }, { name: condIn, dtype: "bool", shape: [] }, ...carryAvals.map((av, i) => ({ name: carryIn[i]!, dtype: av.dtype, shape: av.shape }))],
    (sg) => {
      const next = a.lowerJaxpr(sg, p.body_jaxpr, [...bc, ...carryIn]);
      const c = a.lowerJaxpr(sg, p.cond_jaxpr, [...cc, ...next])[0]!;
      return [{ name: c, dtype: "bool", shape: [] }, ...avalsOut(p.body_jaxpr, next)];
    },
  );
  return g.node("Loop", ["", first, ...init], { body: { graph: body } }, { outputs: init.length, hint: "loop" });
};

export const controlLowerings: LoweringTable = {
  cond,
  scan,
  while: whileLoop,
  checkpoint: inline,
  custom_jvp_call: inline,
  custom_vjp_call: inline,
  closed_call: inline,
  jit: inline,
  pjit: inline,
  // debug.print / debug.callback run JS on the host: an exported model has no host to call,
  // so the callback is dropped (it has no outputs; nothing downstream changes).
  debug_callback: () => [],
};

/** Used by rules that must fail with the equation's context. */
export const refuse = (a: LowerArgs, why: string, hint?: string): never => {
  throw new OnnxExportError(why, { op: a.eqn.primitive.name, source: a.eqn.source ?? null, hint });
};
