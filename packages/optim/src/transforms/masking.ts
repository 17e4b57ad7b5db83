/**
 * Applying transforms to part of a pytree: `masked` (a transform where a boolean mask is
 * true, identity elsewhere) and `partition` (one transform per label). Masks and labels are
 * pytrees of the params' structure, or prefixes of it (a single `false` masks a whole
 * subtree), or functions from the params to one.
 *
 * Masked-out leaves become `null` (empty pytree nodes) in what the inner transform sees, so
 * its state only holds arrays for the leaves it handles and stays plain data.
 */
import { ValueError, tree } from "@cotangent/core";
import { type GradientTransformation, type PyTree, transformation } from "../base.js";
import { checkArg, describe, mask as maskCodec, transform as transformCodec } from "../validate.js";

/** A pytree (or prefix) of booleans, or a function from params (or updates) to one. */
export type Mask = PyTree | ((params: PyTree) => PyTree);

/** A pytree (or prefix) of string labels, or a function from params (or updates) to one. */
export type Labels = PyTree | ((params: PyTree) => PyTree);

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

/**
 * The values of `prefix`, a pytree prefix of `full`, one per leaf of `full` in tree.leaves
 * order: a leaf of the prefix applies to every leaf below the matching node of `full`.
 */
export const prefixLeaves = (op: string, what: string, prefix: unknown, full: unknown): unknown[] => {
  const out: unknown[] = [];
  const mismatch = (path: string, detail: string): never => {
    throw new ValueError(`the ${what} does not match the updates' structure at ${path || "the root"}: ${detail}`, {
      op,
      hint: `give the ${what} the params' structure (or a prefix of it), or a function params => ${what}`,
    });
  };
  const go = (p: unknown, f: unknown, path: string): void => {
    if (Array.isArray(p)) {
      if (!Array.isArray(f) || f.length !== p.length) {
        mismatch(path, `the ${what} has an array of length ${p.length}, the updates have ${describe(f)}`);
      }
      p.forEach((c, i) => go(c, (f as unknown[])[i], `${path}[${i}]`));
    } else if (isPlainObject(p)) {
      const keys = Object.keys(p).sort();
      const fkeys = isPlainObject(f) ? Object.keys(f).sort() : null;
      if (!fkeys || fkeys.join() !== keys.join()) {
        mismatch(path, `the ${what} has keys {${keys.join(", ")}}, the updates have ${fkeys ? `keys {${fkeys.join(", ")}}` : describe(f)}`);
      }
      for (const k of keys) go(p[k], (f as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else {
      for (let i = tree.leaves(f).length; i > 0; i--) out.push(p);
    }
  };
  go(prefix, full, "");
  return out;
};

/** `t` with the leaves whose flag is false replaced by `null`. */
const keepWhere = (t: PyTree, flags: readonly boolean[]): PyTree => {
  const [leaves, def] = tree.flatten(t);
  return tree.unflatten(def, leaves.map((x, i) => (flags[i] ? x : null)));
};

/** The boolean mask of `t`, one flag per leaf. */
const maskFlags = (op: string, mask: Mask, t: PyTree): boolean[] => {
  const flags = prefixLeaves(op, "mask", typeof mask === "function" ? mask(t) : mask, t);
  flags.forEach((m) => {
    if (typeof m !== "boolean") throw new ValueError(`mask leaves must be booleans, got ${describe(m)}`, { op });
  });
  return flags as boolean[];
};

/** State of {@link masked}: the inner state, with `null` at masked-out leaves. */
export interface MaskedState<S = unknown> {
  innerState: S;
}

/**
 * Applies `inner` to the leaves where `mask` is true and passes the other updates through
 * unchanged. A function mask is called with the params in `init` and the updates in
 * `update` (they share a structure).
 *
 * @example
 * // weight decay on matrices only
 * masked(addDecayedWeights(1e-4), (p) => tree.map((x) => x.ndim > 1, p))
 */
export const masked = <S>(inner: GradientTransformation<S>, mask: Mask): GradientTransformation<MaskedState<S>> => {
  const op = "optim.masked";
  checkArg(op, "inner", transformCodec, inner);
  checkArg(op, "mask", maskCodec, mask);
  return transformation(
    (params) => ({ innerState: inner.init(keepWhere(params, maskFlags(op, mask, params))) }),
    (updates, state, params) => {
      const flags = maskFlags(op, mask, updates);
      const [leaves, def] = tree.flatten(updates);
      const sub = params === undefined ? undefined : keepWhere(params, flags);
      const [innerUpdates, innerState] = inner.update(keepWhere(updates, flags), state.innerState, sub);
      const done = tree.leaves(innerUpdates);
      let j = 0;
      return [tree.unflatten(def, leaves.map((x, i) => (flags[i] ? done[j++] : x))), { innerState }];
    },
  );
};

/** State of {@link partition}: one masked state per label. */
export interface PartitionState {
  innerStates: Record<string, MaskedState>;
}

/**
 * Applies a different transform to each group of leaves: `labels` gives each leaf a label,
 * and `transforms[label]` handles the leaves with that label.
 *
 * @example
 * partition({ adam: adam({ learningRate: 1e-3 }), frozen: setToZero() }, { w: "adam", b: "frozen" })
 */
export const partition = (transforms: Record<string, GradientTransformation<any>>, labels: Labels): GradientTransformation<PartitionState> => {
  const op = "optim.partition";
  if (!isPlainObject(transforms)) throw new ValueError(`transforms must be an object of label: transformation, got ${describe(transforms)}`, { op });
  for (const [k, t] of Object.entries(transforms)) checkArg(op, `transforms.${k}`, transformCodec, t);
  const names = Object.keys(transforms);
  const labelsOf = (t: PyTree): string[] => {
    const ls = prefixLeaves(op, "labels", typeof labels === "function" ? labels(t) : labels, t);
    for (const l of ls) {
      if (typeof l !== "string" || !names.includes(l)) {
        throw new ValueError(`the label ${describe(l)} has no transform (labels with transforms: ${names.join(", ")})`, {
          op,
          hint: "every leaf needs a label that is a key of the transforms object",
        });
      }
    }
    return ls as string[];
  };
  const parts = names.map((name) => {
    const maskOf = (t: PyTree): PyTree => {
      const ls = labelsOf(t);
      return tree.unflatten(tree.structure(t), ls.map((l) => l === name));
    };
    return [name, masked(transforms[name]!, maskOf)] as const;
  });
  return transformation(
    (params) => ({ innerStates: Object.fromEntries(parts.map(([name, t]) => [name, t.init(params)])) }),
    (updates, state, params) => {
      const innerStates: Record<string, MaskedState> = {};
      for (const [name, t] of parts) {
        const [u, s] = t.update(updates, state.innerStates[name]!, params);
        updates = u;
        innerStates[name] = s;
      }
      return [updates, { innerStates }];
    },
  );
};
