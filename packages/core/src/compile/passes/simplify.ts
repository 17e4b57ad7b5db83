/**
 * Algebraic simplification: multiplying by one, adding or subtracting zero (including the
 * instantiated zeros of symbolic-zero tangents), dividing by one, double negation,
 * transpose of a transpose, chains of reshapes and of broadcasts, a scalar dot_general
 * (a multiplication), and conversions and
 * reductions that change nothing. Each rewrite keeps the output's type, so `typecheck`
 * stays green. Rules sit in a table keyed by primitive; multiplying by zero is *not*
 * simplified (it would turn an inf or NaN input into 0, which eager evaluation does not).
 */
import { NDArray, bufferOf } from "../../array.js";
import { type Atom, Eqn, Jaxpr, type Var } from "../../ir/jaxpr.js";
import type { Primitive } from "../../ir/primitive.js";
import { addP, divP, mulP, subP } from "../../primitives/binary.js";
import { selectNP } from "../../primitives/compare.js";
import { type DotGeneralParams, dotGeneralP } from "../../primitives/dot.js";
import { reduceSumP } from "../../primitives/reduce.js";
import { broadcastInDimP, convertElementTypeP, reshapeP, transposeP } from "../../primitives/structural.js";
import { negP } from "../../primitives/unary.js";
import { Renamer, isVar, mapEqnsSubJaxprs } from "./rewrite.js";

/** What a rule can ask about the jaxpr being simplified. */
export interface SimplifyContext {
  /** The equation producing `a`, if any. */
  producer(a: Atom): Eqn | undefined;
  /** The single value every element of `a` holds, when known at compile time. */
  constantValue(a: Atom): number | undefined;
}

/** A rule returns the atom the equation's single output equals, a replacement equation, or null. */
export type SimplifyRule = (e: Eqn, cx: SimplifyContext) => Atom | Eqn | null;

export const simplifyRules = new Map<Primitive, SimplifyRule[]>();
const rule = (p: Primitive, r: SimplifyRule) => simplifyRules.set(p, [...(simplifyRules.get(p) ?? []), r]);

const same = (e: Eqn, a: Atom): Atom | null => (a.aval.equals(e.outputs[0]!.aval) ? a : null);

/**
 * `op(x, c)` or `op(c, x)` -> x when the constant operand is `unit` (on the given sides),
 * compared with Object.is for floats: only -0 is an identity of float addition (-0 + 0 is
 * +0, so `x + 0 -> x` would turn a -0 input's +0 result into -0) and only +0 of subtraction;
 * integers have one zero.
 */
const identityOperand =
  (unit: number, sides: "both" | "right"): SimplifyRule =>
  (e, cx) => {
    const [a, b] = e.inputs as [Atom, Atom];
    const isUnit = (x: Atom) => {
      const c = cx.constantValue(x);
      return c !== undefined && (e.outputs[0]!.aval.dtype.startsWith("float") ? Object.is(c, unit) : c === unit);
    };
    if (isUnit(b)) return same(e, a);
    if (sides === "both" && isUnit(a)) return same(e, b);
    return null;
  };

rule(mulP, identityOperand(1, "both"));
rule(addP, identityOperand(-0, "both"));
rule(subP, identityOperand(0, "right"));
rule(divP, identityOperand(1, "right"));

rule(negP, (e, cx) => {
  const p = cx.producer(e.inputs[0]!);
  return p && p.primitive === negP ? p.inputs[0]! : null;
});

rule(transposeP, (e, cx) => {
  const perm = (e.params as { permutation: readonly number[] }).permutation;
  if (perm.every((a, i) => a === i)) return e.inputs[0]!;
  const p = cx.producer(e.inputs[0]!);
  if (!p || p.primitive !== transposeP) return null;
  const inner = (p.params as { permutation: readonly number[] }).permutation;
  const composed = perm.map((a) => inner[a]!);
  if (composed.every((a, i) => a === i)) return p.inputs[0]!;
  return new Eqn(transposeP, [p.inputs[0]!], { permutation: composed }, e.outputs, e.source, e.derivedFrom);
});

rule(reshapeP, (e, cx) => {
  const x = e.inputs[0]!;
  if (same(e, x)) return x;
  const p = cx.producer(x);
  if (!p || p.primitive !== reshapeP) return null;
  const src = p.inputs[0]!;
  if (same(e, src)) return src;
  return new Eqn(reshapeP, [src], e.params, e.outputs, e.source, e.derivedFrom);
});

rule(broadcastInDimP, (e, cx) => {
  const { shape, broadcast_dimensions: dims } = e.params as { shape: readonly number[]; broadcast_dimensions: readonly number[] };
  const x = e.inputs[0]!;
  if (dims.every((d, i) => d === i) && same(e, x)) return x;
  const p = cx.producer(x);
  if (!p || p.primitive !== broadcastInDimP) return null;
  const inner = (p.params as { broadcast_dimensions: readonly number[] }).broadcast_dimensions;
  return new Eqn(broadcastInDimP, [p.inputs[0]!], { shape, broadcast_dimensions: inner.map((d) => dims[d]!) }, e.outputs, e.source, e.derivedFrom);
});

// A dot_general with nothing contracted or batched and a scalar operand (what the transpose
// of a vdot leaves: 1.0 times the other vector) is a multiplication, which fuses.
rule(dotGeneralP, (e) => {
  const { dimension_numbers: dn } = e.params as unknown as DotGeneralParams;
  const [a, b] = e.inputs as [Atom, Atom];
  const d = e.outputs[0]!.aval.dtype;
  if (dn[0][0].length || dn[0][1].length || dn[1][0].length || dn[1][1].length) return null;
  if (a.aval.dtype !== d || b.aval.dtype !== d || (a.aval.shape.length !== 0 && b.aval.shape.length !== 0)) return null;
  return new Eqn(mulP, [a, b], {}, e.outputs, e.source, e.derivedFrom);
});

rule(convertElementTypeP, (e) => same(e, e.inputs[0]!));
rule(reduceSumP, (e) => ((e.params as { axes: readonly number[] }).axes.length === 0 ? same(e, e.inputs[0]!) : null));
rule(selectNP, (e) => {
  const cases = e.inputs.slice(1);
  return cases.every((c) => c === cases[0]) ? same(e, cases[0]!) : null;
});

/** The simplification pass: applies the rules until none fires (each rewrite is local and shrinks or keeps the program). */
export const simplify = (jaxpr: Jaxpr): Jaxpr => {
  const inner = mapEqnsSubJaxprs(jaxpr, simplify);
  const ren = new Renamer();
  const producers = new Map<Var, Eqn>();
  const consts = new Map<Var, NDArray>();
  inner.constvars.forEach((v, i) => {
    const c = inner.consts[i];
    if (c instanceof NDArray) consts.set(v, c);
  });
  const cache = new Map<Atom, number | undefined>();
  const cx: SimplifyContext = {
    producer: (a) => (isVar(a) ? producers.get(a) : undefined),
    constantValue(a) {
      if (!isVar(a)) return a.value;
      if (cache.has(a)) return cache.get(a);
      let v: number | undefined;
      const c = consts.get(a);
      if (c) {
        const b = bufferOf(c);
        v = b.length > 0 && b.every((x) => x === b[0]) ? b[0] : undefined;
      } else {
        const p = producers.get(a);
        if (p && p.primitive === broadcastInDimP) v = cx.constantValue(p.inputs[0]!);
      }
      cache.set(a, v);
      return v;
    },
  };
  const eqns: Eqn[] = [];
  let changed = false;
  for (const e0 of inner.eqns) {
    let e = ren.eqn(e0);
    let replaced: Atom | null = null;
    for (let round = 0; round < 8 && !replaced; round++) {
      const rules = e.outputs.length === 1 ? simplifyRules.get(e.primitive) : undefined;
      let next: Atom | Eqn | null = null;
      for (const r of rules ?? []) {
        next = r(e, cx);
        if (next) break;
      }
      if (!next) break;
      changed = true;
      if (next instanceof Eqn) e = next;
      else replaced = next;
    }
    if (replaced) {
      ren.set(e.outputs[0]!, replaced);
      continue;
    }
    eqns.push(e);
    e.outputs.forEach((v) => producers.set(v, e));
  }
  if (!changed && inner === jaxpr) return jaxpr;
  // Producers bypassed by a rewrite may now be dead; DCE (run after) removes them.
  return new Jaxpr(inner.constvars, inner.consts, inner.invars, eqns, inner.outvars.map(ren.read));
};
