/**
 * Fusion: groups chains of elementwise equations over one shape (the group's *domain*),
 * with the broadcasts and transposes that feed them from outside and the reductions that
 * consume them, so that each group runs as one generated loop and none of its
 * intermediates is ever allocated. Equations are visited in order; an equation joins the
 * group producing one of its inputs when it has the same domain. A group is *sealed* as
 * soon as anything outside it reads one of its values, so running each group at the place
 * of its last member keeps every dependency in order.
 */
import type { DType } from "../dtype.js";
import type { Atom, Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import type { Primitive } from "../ir/primitive.js";
import { elementwiseExpr } from "../primitives/elementwise.js";
import { selectNP } from "../primitives/compare.js";
import { reduceMaxP, reduceMinP, reduceSumP } from "../primitives/reduce.js";
import { broadcastInDimP, convertElementTypeP, transposeP } from "../primitives/structural.js";
import { integerPowP } from "../primitives/unary.js";
import { isVar } from "./passes/rewrite.js";
import { kernelPath } from "../kernels/wasm/runtime.js";
import { SIMD_UNARY_OPS, WASM_UNARY_MIN } from "../kernels/wasm/unary.js";

/** How a member of a fused group is computed. */
export type Member =
  /** `out = code(inputs)`: a statement assigning `out` from the input names. */
  | { kind: "map"; eqn: Eqn; code: (out: string, ins: string[]) => string }
  /** A value read from outside the group with a stride per domain axis (a broadcast or transpose). */
  | { kind: "load"; eqn: Eqn; strides: number[] }
  | { kind: "reduce"; eqn: Eqn; op: "sum" | "max" | "min" };

export interface FusionGroup {
  domain: number[];
  members: Member[];
  /** Axes of the domain that the group's reductions reduce (all its reductions share them). */
  reduceAxes: number[] | null;
  /** Values computed in the group that are read outside it (or are outputs of the jaxpr). */
  outputs: Var[];
  sealed: boolean;
}

/** A scalar expression of a JS number into a dtype's storage, as storing into its typed array does. */
export const storeAs = (dtype: DType, expr: string): string =>
  dtype === "float32" ? `Math.fround(${expr})` : dtype === "int32" ? `((${expr}) | 0)` : dtype === "bool" ? `((${expr}) & 255)` : expr;

type CodeRule = (e: Eqn) => ((out: string, ins: string[]) => string) | null;
/** Code generators for fusible primitives that are not plain `elementwiseExpr`s. */
export const fusionCode = new Map<Primitive, CodeRule>();

fusionCode.set(convertElementTypeP, (e) => {
  const to = e.outputs[0]!.aval.dtype;
  const cast =
    to === "bool"
      ? (x: string) => `(${x} !== 0 ? 1 : 0)`
      : to === "int32"
        ? (x: string) => `(${x} !== ${x} ? 0 : ${x} <= -2147483648 ? -2147483648 : ${x} >= 2147483647 ? 2147483647 : Math.trunc(${x}))`
        : to === "float32"
          ? (x: string) => `Math.fround(${x})`
          : (x: string) => x;
  return (out, [x]) => `${out} = ${cast(x!)};`;
});

fusionCode.set(selectNP, (e) => {
  const n = e.inputs.length - 1;
  const d = e.outputs[0]!.aval.dtype;
  if (n === 2) return (out, [w, c0, c1]) => `${out} = ${w} ? ${c1} : ${c0};`;
  return (out, [w, ...cs]) => `{ const j = ${w} < 0 ? 0 : ${w} > ${n - 1} ? ${n - 1} : ${w}; ${out} = ${cs.map((c, k) => (k < n - 1 ? `j === ${k} ? ${c} : ` : c)).join("")}; }` + (d ? "" : "");
});

fusionCode.set(integerPowP, (e) => {
  const y = (e.params as { y: number }).y;
  const d = e.outputs[0]!.aval.dtype;
  const n0 = Math.abs(y);
  if (n0 > 64) return null;
  // The kernel's repeated squaring, unrolled: the same operations in the same order.
  const mul = d === "int32" ? (p: string, q: string) => `Math.imul(${p}, ${q})` : (p: string, q: string) => `${p} * ${q}`;
  return (out, [x]) => {
    const lines = [`let base = ${x}, acc = 1;`];
    for (let n = n0; n > 0; n >>>= 1) {
      if (n & 1) lines.push(`acc = ${mul("acc", "base")};`);
      if (n >>> 1 > 0) lines.push(`base = ${mul("base", "base")};`);
    }
    return `{ ${lines.join(" ")} ${out} = ${storeAs(d, y < 0 ? "1 / acc" : "acc")}; }`;
  };
});

const reduceOps = new Map<Primitive, "sum" | "max" | "min">([
  [reduceSumP, "sum"],
  [reduceMaxP, "max"],
  [reduceMinP, "min"],
]);

/**
 * Large float32 exp/log/tanh/logistic run faster in the kernel layer's Wasm SIMD kernels
 * (about 1 ns per element against 5-20 for the JS Math functions a JS fused loop calls).
 * Fused groups that compile to Wasm run the same math; a group that does not (another member
 * or operand outside the Wasm backend) is planned again with these equations left out
 * (`keepOut`), so they run as their own SIMD kernels and the chains around them still fuse.
 */
export const simdFaster = (e: Eqn): boolean =>
  e.inputs[0]?.aval.dtype === "float32" &&
  (SIMD_UNARY_OPS as readonly string[]).includes(e.primitive.name) &&
  e.outputs[0]!.aval.size >= WASM_UNARY_MIN &&
  kernelPath() !== "js";

/** The code of an elementwise member, or null when the equation is not fusible as one. */
const mapCode = (e: Eqn, keepOut: ReadonlySet<Eqn>): ((out: string, ins: string[]) => string) | null => {
  if (e.outputs.length !== 1 || e.primitive.effectful || keepOut.has(e)) return null;
  const special = fusionCode.get(e.primitive);
  if (special) return special(e);
  const inDtype = e.inputs[0]?.aval.dtype;
  if (!inDtype) return null;
  const expr = elementwiseExpr(e.primitive, inDtype, e.params);
  if (expr === null) return null;
  const out = e.outputs[0]!.aval.dtype;
  if (e.inputs.length === 1) return (o, [x]) => `{ const x = ${x}; ${o} = ${storeAs(out, expr)}; }`;
  if (e.inputs.length === 2) return (o, [a, b]) => `{ const a = ${a}, b = ${b}; ${o} = ${storeAs(out, expr)}; }`;
  return null;
};

const rowMajorStrides = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return st;
};

/** Strides (per domain axis) reading an array of `shape` broadcast NumPy-style to `domain`. */
export const broadcastStrides = (shape: readonly number[], domain: readonly number[]): number[] => {
  const own = rowMajorStrides(shape);
  const off = domain.length - shape.length;
  return domain.map((d, j) => (j < off ? 0 : shape[j - off] === 1 && d !== 1 ? 0 : own[j - off]!));
};

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The plan of a jaxpr: its equations and fused groups, in an order that runs correctly. */
export type PlanItem = { kind: "eqn"; eqn: Eqn } | { kind: "group"; group: FusionGroup };

/** Plans the fusion groups; equations in `keepOut` stay out of every group. */
export const planFusion = (jaxpr: Jaxpr, keepOut: ReadonlySet<Eqn> = new Set()): PlanItem[] => {
  const groupOf = new Map<Var, FusionGroup>();
  const memberOf = new Map<Eqn, FusionGroup>();
  const groups: FusionGroup[] = [];
  const readOutside = (a: Atom, reader: FusionGroup | null) => {
    if (!isVar(a)) return;
    const g = groupOf.get(a);
    if (g && g !== reader) {
      g.sealed = true;
      if (!g.outputs.includes(a)) g.outputs.push(a);
    }
  };
  const join = (g: FusionGroup, m: Member) => {
    g.members.push(m);
    memberOf.set(m.eqn, g);
    m.eqn.outputs.forEach((v) => groupOf.set(v, g));
    m.eqn.inputs.forEach((a) => readOutside(a, g));
  };
  // Values a group's reductions produce are complete only after its loop: no member may read them.
  const reduced = new Set<Var>();
  const openGroupAmong = (e: Eqn, domain: readonly number[]): FusionGroup | null => {
    for (const a of e.inputs) {
      const g = isVar(a) ? groupOf.get(a) : undefined;
      if (g && !g.sealed && sameShape(g.domain, domain) && !e.inputs.some((b) => isVar(b) && reduced.has(b) && groupOf.get(b) === g)) return g;
    }
    return null;
  };
  const fresh = (domain: readonly number[]): FusionGroup => {
    const g: FusionGroup = { domain: domain.slice(), members: [], reduceAxes: null, outputs: [], sealed: false };
    groups.push(g);
    return g;
  };

  for (const e of jaxpr.eqns) {
    const out = e.outputs[0];
    const op = reduceOps.get(e.primitive);
    if (op && out && isVar(e.inputs[0]!)) {
      const x = e.inputs[0] as Var;
      const axes = [...(e.params as { axes: readonly number[] }).axes].sort((p, q) => p - q);
      const g = groupOf.get(x);
      if (g && !g.sealed && sameShape(g.domain, x.aval.shape) && x.aval.dtype !== "bool" && (g.reduceAxes === null || g.reduceAxes.join() === axes.join())) {
        g.reduceAxes = axes;
        join(g, { kind: "reduce", eqn: e, op });
        reduced.add(out);
        continue;
      }
    }
    if (out && e.outputs.length === 1 && (e.primitive === broadcastInDimP || e.primitive === transposeP) && isVar(e.inputs[0]!)) {
      const x = e.inputs[0] as Var;
      const inner = groupOf.get(x);
      // Only a value from outside the group can be re-indexed (a group computes one element per domain index).
      if (!inner || inner.sealed || !sameShape(inner.domain, out.aval.shape)) {
        const own = rowMajorStrides(x.aval.shape);
        const strides =
          e.primitive === transposeP
            ? (e.params as { permutation: readonly number[] }).permutation.map((a) => own[a]!)
            : (() => {
                const dims = (e.params as { broadcast_dimensions: readonly number[] }).broadcast_dimensions;
                const st = out.aval.shape.map(() => 0);
                dims.forEach((d, k) => (st[d] = x.aval.shape[k] === 1 ? 0 : own[k]!));
                return st;
              })();
        const g = fresh(out.aval.shape);
        join(g, { kind: "load", eqn: e, strides });
        continue;
      }
    }
    const code = out ? mapCode(e, keepOut) : null;
    if (code && out) {
      const g = openGroupAmong(e, out.aval.shape) ?? fresh(out.aval.shape);
      // Other open groups of this domain that feed `e` merge into `g`: none is sealed, so
      // all their inputs exist before `e`, and running them together at `e` keeps order.
      for (const a of e.inputs) {
        const h = isVar(a) ? groupOf.get(a) : undefined;
        if (!h || h === g || h.sealed || !sameShape(h.domain, g.domain) || h.reduceAxes !== null) continue;
        if (e.inputs.some((b) => isVar(b) && reduced.has(b) && groupOf.get(b) === h)) continue;
        for (const m of h.members) {
          memberOf.set(m.eqn, g);
          m.eqn.outputs.forEach((v) => groupOf.set(v, g));
        }
        g.members.push(...h.members);
        g.outputs.push(...h.outputs.filter((v) => !g.outputs.includes(v)));
        h.members = [];
        h.sealed = true;
      }
      join(g, { kind: "map", eqn: e, code });
      continue;
    }
    e.inputs.forEach((a) => readOutside(a, null));
  }
  jaxpr.outvars.forEach((a) => readOutside(a, null));

  // A group worth a kernel computes at least two things, or one thing from a re-indexed load.
  const worth = (g: FusionGroup) => g.members.length >= 2;
  const lastOf = new Map<Eqn, FusionGroup>();
  for (const g of groups) if (worth(g)) lastOf.set(g.members[g.members.length - 1]!.eqn, g);
  const plan: PlanItem[] = [];
  for (const e of jaxpr.eqns) {
    const g = memberOf.get(e);
    if (g && worth(g)) {
      if (lastOf.get(e) === g) plan.push({ kind: "group", group: g });
    } else plan.push({ kind: "eqn", eqn: e });
  }
  return plan;
};
