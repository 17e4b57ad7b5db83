/**
 * Residuals that nested control flow passes up, packed so that nesting costs linear time.
 *
 * Under reverse mode a cond branch or scan body that holds another cond or scan returns that
 * inner equation's residuals as residuals of its own, so they travel up through every level
 * around it: nested d deep, level k would hand on the residuals of all d - k levels inside it,
 * and the program (and the time to build, transpose and run it) would grow as d². When a
 * level passes on more than {@link PACK_ABOVE} residuals that inner higher-order equations
 * produced, they travel as one flat buffer per dtype instead: the known side reshapes and
 * concatenates them, the unknown side slices them back out. The next level out then sees
 * one residual per dtype from this level, and the count stays bounded at any depth.
 *
 * Residuals a level computes itself are never packed, so `savedResiduals` still names each
 * of them, and a program that nests a few loops or conds is unchanged: only deep nesting
 * (many residuals passed up) is packed. Packing copies those residuals once more per level
 * they pass through; at the depth where it starts, that costs less than the bookkeeping of
 * one more variable per residual per level.
 */
import type { ArrayBase } from "../../array.js";
import { type DType, ShapedArray } from "../../dtype.js";
import type { SourceInfo } from "../../errors.js";
import type { Jaxpr, Var } from "../../ir/jaxpr.js";
import { concatenate, slice } from "../../primitives/shape.js";
import { reshape } from "../../primitives/structural.js";
import { withSource } from "../../trace.js";

/** Residuals from inner higher-order equations passed on as they are, at most. */
export const PACK_ABOVE = 16;

/** How a level's residuals travel: some as they are, the rest in one flat buffer per dtype. */
export interface ResidualPacking {
  /** Types of the residuals before packing, in their order. */
  readonly avals: readonly ShapedArray[];
  /** For each value that travels: the residuals it holds (one index, or a buffer's members in order). */
  readonly slots: readonly (readonly number[])[];
  /** Types of the values that travel: kept residuals as they are, then the buffers. */
  readonly slotAvals: readonly ShapedArray[];
  /** Whether slot j is a packed buffer (sliced apart on the unknown side). */
  readonly packed: readonly boolean[];
}

/**
 * Which of `residuals` (vars of the known jaxpr `known`) an equation carrying sub-jaxprs
 * produced: the residuals an inner cond, scan or checkpoint hands on.
 */
export const fromHigherOrder = (known: Jaxpr, residuals: readonly Var[]): boolean[] => {
  const inner = new Set<Var>();
  for (const e of known.eqns) if ((e.primitive.subJaxprs?.(e.params).length ?? 0) > 0) for (const v of e.outputs) inner.add(v);
  return residuals.map((v) => inner.has(v));
};

/** The packing of residuals with types `avals`, of which `passedUp` came from inner higher-order equations. */
export const planPacking = (avals: readonly ShapedArray[], passedUp: readonly boolean[]): ResidualPacking => {
  const slots: number[][] = [];
  const packed: boolean[] = [];
  const nPassed = passedUp.filter(Boolean).length;
  const groups = new Map<DType, number[]>();
  avals.forEach((a, i) => {
    if (nPassed > PACK_ABOVE && passedUp[i]) {
      let g = groups.get(a.dtype);
      if (!g) groups.set(a.dtype, (g = []));
      g.push(i);
    } else {
      slots.push([i]);
      packed.push(false);
    }
  });
  for (const g of groups.values()) {
    slots.push(g);
    packed.push(g.length > 1);
  }
  const slotAvals = slots.map((members, j) =>
    packed[j] ? new ShapedArray([members.reduce((s, i) => s + avals[i]!.size, 0)], avals[members[0]!]!.dtype) : avals[members[0]!]!,
  );
  return { avals, slots, slotAvals, packed };
};

/** The values that travel, from the residuals' values (on the known side); ops attributed to `source`. */
export const packResiduals = (p: ResidualPacking, values: readonly ArrayBase[], source: SourceInfo | null): ArrayBase[] =>
  withSource(source, () => p.slots.map((members, j) => (p.packed[j] ? concatenate(members.map((i) => reshape(values[i]!, [p.avals[i]!.size])), 0) : values[members[0]!]!)));

/** The residuals' values, in their order, from the values that travelled (on the unknown side). */
export const unpackResiduals = (p: ResidualPacking, slotValues: readonly ArrayBase[], source: SourceInfo | null): ArrayBase[] =>
  withSource(source, () => {
    const out = new Array<ArrayBase>(p.avals.length);
    p.slots.forEach((members, j) => {
      if (!p.packed[j]) {
        out[members[0]!] = slotValues[j]!;
        return;
      }
      let at = 0;
      for (const i of members) {
        const a = p.avals[i]!;
        out[i] = reshape(slice(slotValues[j]!, [at], [at + a.size]), a.shape);
        at += a.size;
      }
    });
    return out;
  });
