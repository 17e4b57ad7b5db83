/**
 * Gradient-flow diagnostics, as data: per layer (a subtree of the params, by default each
 * top-level entry), the norm of the parameters, of their gradient and of the update, the
 * update-to-parameter ratio, and flags for vanishing, exploding and non-finite gradients.
 *
 * Thresholds (all adjustable, all on L2 norms over a layer's float leaves):
 * - `vanishing` when ‖grad‖ < `vanishingNorm` (default 1e-7: below float32's relative
 *   precision ~1.2e-7, so steps of that size vanish into rounding of O(1) weights), or
 *   when ‖grad‖ < `vanishingRatio` (default 1e-4) × the largest layer's ‖grad‖: that
 *   layer learns ten thousand times slower than the strongest one, the signature of
 *   gradients dying on their way back through depth (Glorot & Bengio 2010);
 * - `exploding` when ‖grad‖ > `explodingNorm` (default 1e3), the regime where one step
 *   moves weights by orders of magnitude more than their typical size (Pascanu, Mikolov &
 *   Bengio 2013, who clip at norms of this order);
 * - `nonfinite` when any gradient entry is NaN or ±Infinity.
 * The update ratio ‖update‖ / ‖param‖ is reported but not flagged: about 1e-3 per step is
 * the usual healthy value (Karpathy, CS231n notes), far above means the step is too
 * large, far below too small.
 */
import { ArrayBase, ValueError, tree, describeValue } from "@cotangent/core";

export type Flag = "vanishing" | "exploding" | "nonfinite";

export interface Thresholds {
  /** ‖grad‖ below this is vanishing. Default 1e-7. */
  vanishingNorm: number;
  /** ‖grad‖ below this fraction of the largest layer's ‖grad‖ is vanishing. Default 1e-4. */
  vanishingRatio: number;
  /** ‖grad‖ above this is exploding. Default 1e3. */
  explodingNorm: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({ vanishingNorm: 1e-7, vanishingRatio: 1e-4, explodingNorm: 1e3 });

/** One layer's numbers. */
export interface LayerFlow {
  /** The layer's key path in the params, e.g. "[0]" or "encoder" (or "(root)"). */
  name: string;
  /** Number of parameters (elements of its float leaves). */
  size: number;
  paramNorm: number;
  gradNorm: number;
  /** ‖update‖, or null when no updates were given. */
  updateNorm: number | null;
  /** ‖update‖ / ‖param‖ (Infinity when the params are all zero and the update is not), or null without updates. */
  updateRatio: number | null;
  flags: Flag[];
}

export interface GradientFlow {
  layers: LayerFlow[];
  /** ‖grad‖ over all layers together (what clipByGlobalNorm compares to its limit). */
  globalGradNorm: number;
  thresholds: Thresholds;
}

export interface GradientFlowOptions {
  /** The optimizer's updates (same structure as params), for the update/param ratio. */
  updates?: unknown;
  /** How many levels of the key path name a layer. Default 1 (top-level entries). */
  depth?: number;
  thresholds?: Partial<Thresholds>;
}

interface Acc {
  name: string;
  size: number;
  p2: number;
  g2: number;
  u2: number;
  finite: boolean;
}

const sumSquares = (x: ArrayBase): [number, boolean] => {
  const v = x.toTypedArray();
  let s = 0;
  let finite = true;
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    if (!Number.isFinite(e)) finite = false;
    s += e * e;
  }
  return [s, finite];
};

const leavesWithPaths = (t: unknown): [tree.PathEntry[], unknown][] => {
  const out: [tree.PathEntry[], unknown][] = [];
  tree.mapWithPath((path, leaf) => {
    out.push([path, leaf]);
    return leaf;
  }, t);
  return out;
};

const isFloatArray = (x: unknown): x is ArrayBase => x instanceof ArrayBase && (x.dtype === "float32" || x.dtype === "float64");

/**
 * Measures gradient flow from `params` and `grads` (and optionally `updates`), grouped into
 * layers by the first `depth` entries of each leaf's key path. Non-float leaves (PRNG keys,
 * step counters, ...) are skipped. Works on concrete arrays (call it outside `grad`/`jit`).
 *
 * ```ts
 * const flow = nn.gradientFlow(params, grads, { updates });
 * console.log(nn.formatGradientFlow(flow));
 * ```
 */
export const gradientFlow = (params: unknown, grads: unknown, options: GradientFlowOptions = {}): GradientFlow => {
  const op = "nn.gradientFlow";
  const depth = options.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`depth must be a positive integer, got ${describeValue(depth)}`, { op });
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  for (const [k, v] of Object.entries(thresholds)) {
    if (!(typeof v === "number" && v >= 0)) throw new ValueError(`threshold ${k} must be a non-negative number, got ${describeValue(v)}`, { op });
  }
  const ps = leavesWithPaths(params);
  const sameStructure = (what: string, other: unknown) => {
    const a = tree.structure(params);
    const b = tree.structure(other);
    if (!tree.treedefEquals(a, b)) {
      throw new ValueError(`${what} have structure ${tree.treedefToString(b)}, which differs from the params' ${tree.treedefToString(a)}`, {
        op,
        hint: `pass the ${what} of these very params (as grad(loss)(params) returns them)`,
      });
    }
    return leavesWithPaths(other);
  };
  const gs = sameStructure("grads", grads);
  const us = options.updates === undefined ? null : sameStructure("updates", options.updates);

  const groups = new Map<string, Acc>();
  ps.forEach(([path, p], i) => {
    if (!isFloatArray(p)) return;
    const g = gs[i]![1];
    const u = us?.[i]![1];
    const name = path.length === 0 ? "(root)" : tree.pathToString(path.slice(0, depth));
    const check = (what: string, x: unknown) => {
      if (!(x instanceof ArrayBase) || x.shape.join() !== p.shape.join()) {
        throw new ValueError(`the ${what} at ${tree.pathToString(path) || "(root)"} ${x instanceof ArrayBase ? `has shape [${x.shape.join(", ")}]` : `is ${typeof x}`}, but the parameter has shape [${p.shape.join(", ")}]`, { op });
      }
      return x;
    };
    const acc = groups.get(name) ?? { name, size: 0, p2: 0, g2: 0, u2: 0, finite: true };
    const [p2] = sumSquares(p);
    const [g2, gFinite] = sumSquares(check("gradient", g));
    acc.size += p.size;
    acc.p2 += p2;
    acc.g2 += g2;
    acc.finite &&= gFinite;
    if (us) acc.u2 += sumSquares(check("update", u))[0];
    groups.set(name, acc);
  });

  const accs = [...groups.values()];
  const maxGrad = Math.max(0, ...accs.filter((a) => a.finite).map((a) => Math.sqrt(a.g2)));
  const layers = accs.map((a): LayerFlow => {
    const gradNorm = Math.sqrt(a.g2);
    const paramNorm = Math.sqrt(a.p2);
    const updateNorm = us ? Math.sqrt(a.u2) : null;
    const flags: Flag[] = [];
    if (!a.finite) flags.push("nonfinite");
    else {
      if (gradNorm < thresholds.vanishingNorm || gradNorm < thresholds.vanishingRatio * maxGrad) flags.push("vanishing");
      if (gradNorm > thresholds.explodingNorm) flags.push("exploding");
    }
    const updateRatio = updateNorm === null ? null : paramNorm > 0 ? updateNorm / paramNorm : updateNorm === 0 ? 0 : Infinity;
    return { name: a.name, size: a.size, paramNorm, gradNorm, updateNorm, updateRatio, flags };
  });
  return { layers, globalGradNorm: Math.sqrt(accs.reduce((s, a) => s + a.g2, 0)), thresholds };
};

/** Checks that `flow` is what gradientFlow returns (a typed error rather than a TypeError while formatting). */
export const checkFlow = (op: string, flow: unknown): void => {
  const f = flow as Partial<GradientFlow> | null;
  if (f === null || typeof f !== "object" || !Array.isArray(f.layers) || typeof f.thresholds !== "object" || f.thresholds === null) {
    throw new ValueError(`expects the result of nn.gradientFlow, got ${describeValue(flow)}`, { op });
  }
};
