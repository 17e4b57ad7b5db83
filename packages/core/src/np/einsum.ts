/**
 * `np.einsum`: Einstein summation lowered to dot_general (plus diagonal gathers, transpose,
 * broadcast and reduce_sum), so every transform handles it.
 *
 * Subscripts are letters a-z, A-Z; `...` stands for the leading (broadcast) axes an operand
 * has beyond its letters, right-aligned across operands as in NumPy. A letter repeated within
 * one operand takes that operand's diagonal first (`ii->i`, `iij->j`); in the implicit form
 * it then counts as used twice, so `einsum("ii", a)` is the trace.
 */
import { describeValue, isPlainObject, parseArgs, signature, withSignature } from "../api/args.js";
import type { ArrayBase } from "../array.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { dotGeneral } from "../primitives/dot.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastTo, transpose } from "../primitives/structural.js";
import { shapeStr } from "../shape.js";
import { type ArrayLike, promoteArgs } from "./coerce.js";
import { diagonal } from "./matrix.js";

/** An operand during einsum evaluation: an array and the label of each axis. */
interface Labelled {
  x: ArrayBase;
  labels: string[];
}

const LETTER = /^[a-zA-Z]$/;
/** The internal label of the ellipsis axis `k` places from the right (never a letter). */
const ellipsisLabel = (k: number) => `...${k}`;
const showLabels = (labels: readonly string[]) => labels.map((l) => (l.startsWith("...") ? "…" : l)).join("");

/** Splits one term into letters and at most one "...". */
const tokenize = (op: string, term: string, subscripts: string, where: string): string[] => {
  const tokens: string[] = [];
  for (let i = 0; i < term.length; ) {
    if (term.startsWith("...", i)) {
      if (tokens.includes("...")) throw new ValueError(`${where} '${term}' of '${subscripts}' has more than one ellipsis`, { op });
      tokens.push("...");
      i += 3;
      continue;
    }
    const ch = term[i]!;
    if (!LETTER.test(ch)) {
      throw new ValueError(`invalid subscript character '${ch}' in ${where} '${term}' of '${subscripts}'; use letters a-z, A-Z and '...'`, { op });
    }
    tokens.push(ch);
    i++;
  }
  return tokens;
};

/** The labels of each input axis, the output labels and each label's size. */
const parseEinsum = (op: string, subscripts: string, xs: readonly ArrayBase[]): { inputs: string[][]; output: string[]; sizes: Map<string, number> } => {
  const spec = subscripts.replace(/\s+/g, "");
  const parts = spec.split("->");
  if (parts.length > 2) throw new ValueError(`subscripts '${subscripts}' have more than one '->'`, { op });
  const terms = parts[0]!.split(",");
  if (terms.length !== xs.length) {
    throw new ValueError(`subscripts '${subscripts}' name ${terms.length} operand${terms.length === 1 ? "" : "s"} but ${xs.length} ${xs.length === 1 ? "was" : "were"} given`, { op });
  }
  let ellipsisRank = 0;
  const inputs = terms.map((term, i) => {
    const tokens = tokenize(op, term, subscripts, `operand ${i}'s subscripts`);
    const x = xs[i]!;
    const letters = tokens.filter((t) => t !== "...").length;
    const has = tokens.includes("...");
    if (has ? letters > x.ndim : letters !== x.ndim) {
      throw new ValueError(`operand ${i} has shape ${shapeStr(x.shape)} (rank ${x.ndim}) but its subscripts '${term}' name ${letters} axes${has ? " besides the ellipsis" : ""}`, {
        op,
        hint: has ? undefined : "use '...' for leading axes you do not name",
      });
    }
    const r = x.ndim - letters;
    ellipsisRank = Math.max(ellipsisRank, has ? r : 0);
    return tokens.flatMap((t) => (t === "..." ? Array.from({ length: r }, (_, j) => ellipsisLabel(r - 1 - j)) : [t]));
  });
  const ellipsis = Array.from({ length: ellipsisRank }, (_, j) => ellipsisLabel(ellipsisRank - 1 - j));

  const sizes = new Map<string, [number, number, number]>(); // label -> [size, operand, axis]
  inputs.forEach((labels, i) => {
    const x = xs[i]!;
    labels.forEach((l, ax) => {
      const first = labels.indexOf(l);
      if (first !== ax && x.shape[first] !== x.shape[ax]) {
        throw new ShapeError(`subscript '${l}' repeats in operand ${i} ('${showLabels(labels)}', shape ${shapeStr(x.shape)}) over axes of different sizes ${x.shape[first]} and ${x.shape[ax]}`, {
          op,
          hint: "a repeated subscript takes a diagonal: its axes must have the same size",
        });
      }
      const seen = sizes.get(l);
      // A size-1 axis broadcasts against the label's size elsewhere, as in NumPy and JAX.
      if (seen && seen[0] === 1 && x.shape[ax] !== 1) sizes.set(l, [x.shape[ax]!, i, ax]);
      else if (seen && seen[0] !== x.shape[ax] && x.shape[ax] !== 1) {
        const what = l.startsWith("...") ? "an ellipsis axis" : `subscript '${l}'`;
        throw new ShapeError(
          `${what} has size ${seen[0]} in operand ${seen[1]} (axis ${seen[2]} of shape ${shapeStr(xs[seen[1]]!.shape)}) but size ${x.shape[ax]} in operand ${i} (axis ${ax} of shape ${shapeStr(x.shape)})`,
          { op },
        );
      }
      if (!seen) sizes.set(l, [x.shape[ax]!, i, ax]);
    });
  });

  let output: string[];
  if (parts.length === 2) {
    const tokens = tokenize(op, parts[1]!, subscripts, "the output");
    const letters = tokens.filter((t) => t !== "...");
    letters.forEach((l, k) => {
      if (letters.indexOf(l) !== k) throw new ValueError(`output subscript '${l}' appears more than once in '${subscripts}'`, { op });
      if (!sizes.has(l)) throw new ValueError(`output subscript '${l}' does not appear in any input of '${subscripts}'`, { op });
    });
    if (ellipsisRank > 0 && !tokens.includes("...")) {
      throw new ValueError(`the inputs of '${subscripts}' have ellipsis axes but the output has no '...' to put them`, { op, hint: "add '...' to the output (or sum those axes afterwards)" });
    }
    output = tokens.flatMap((t) => (t === "..." ? ellipsis : [t]));
  } else {
    // NumPy's implicit mode: the ellipsis axes, then the letters used exactly once, sorted.
    const count = new Map<string, number>();
    for (const labels of inputs) for (const l of labels) if (!l.startsWith("...")) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...ellipsis, ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  return { inputs, output, sizes: new Map([...sizes].map(([l, [n]]) => [l, n])) };
};

/** Takes diagonals until no label repeats within the operand. */
const diagonalize = (t: Labelled): Labelled => {
  let { x, labels } = t;
  for (;;) {
    const k = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (k < 0) return { x, labels };
    const first = labels.indexOf(labels[k]!);
    const l = labels[k]!;
    // np.diagonal drops both axes and appends the diagonal last.
    x = diagonal(x, 0, first, k);
    labels = [...labels.filter((_, i) => i !== first && i !== k), l];
  }
};

/** Sums out the labels of `t` that are not in `keep`. */
const sumOut = (t: Labelled, keep: ReadonlySet<string>): Labelled => {
  const axes = t.labels.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (axes.length === 0) return t;
  return { x: reduceSum(t.x, axes), labels: t.labels.filter((l) => keep.has(l)) };
};

/** Contracts two labelled operands, keeping the labels in `needed` (output or later operands). */
const contractPair = (a: Labelled, b: Labelled, needed: ReadonlySet<string>): Labelled => {
  const bSet = new Set(b.labels);
  const shared = a.labels.filter((l) => bSet.has(l));
  const batch = shared.filter((l) => needed.has(l));
  const contract = shared.filter((l) => !needed.has(l));
  const idx = (t: Labelled, ls: string[]) => ls.map((l) => t.labels.indexOf(l));
  const x = dotGeneral(a.x, b.x, [
    [idx(a, contract), idx(b, contract)],
    [idx(a, batch), idx(b, batch)],
  ]);
  const sharedSet = new Set(shared);
  return { x, labels: [...batch, ...a.labels.filter((l) => !sharedSet.has(l)), ...b.labels.filter((l) => !sharedSet.has(l))] };
};

const einsumSig = signature("np.einsum", ["subscripts:string!"]);

/**
 * Einstein summation, e.g. `einsum("ij,jk->ik", a, b)`, `einsum("bij,bjk->bik", x, y)`,
 * `einsum("...ij,...jk->...ik", x, y)` (batch axes broadcast), `einsum("ii->i", a)` (the
 * diagonal), `einsum("ii", a)` (the trace), `einsum("i,i", u, v)` (implicit output: the
 * ellipsis axes, then the letters used once, sorted). Operands are contracted left to right
 * with dot_general; labels no later operand or the output uses are summed as early as
 * possible. A size-1 axis broadcasts against its label's size in the other operands.
 */
export const einsum = withSignature(einsumSig, (subscripts: string, ...args: ArrayLike[]): ArrayBase => {
  const op = "np.einsum";
  if (typeof subscripts !== "string") throw new ValueError(`the first argument must be the subscripts string, got ${describeValue(subscripts)}`, { op });
  // A trailing options object is checked (einsum takes none of JAX's: out, optimize, precision, ...).
  const last = args[args.length - 1];
  if (isPlainObject(last)) parseArgs(einsumSig, [subscripts, last]);
  const xs = isPlainObject(last) ? args.slice(0, -1) : args;
  if (xs.length === 0) throw new ValueError("needs at least one operand", { op });
  const arrays = promoteArgs(...xs);
  if (arrays[0]!.dtype === "bool") throw new DTypeError("bool operands are not supported", { op, hint: "convert first, e.g. np.astype(x, 'int32') or 'float32'" });
  const { inputs, output, sizes } = parseEinsum(op, subscripts, arrays);
  const ts: Labelled[] = arrays.map((x, i) => {
    const d = diagonalize({ x, labels: inputs[i]! });
    return { x: broadcastTo(d.x, d.labels.map((l) => sizes.get(l)!)), labels: d.labels };
  });
  const neededAfter = (from: number): Set<string> => {
    const s = new Set(output);
    for (let i = from; i < ts.length; i++) for (const l of ts[i]!.labels) s.add(l);
    return s;
  };
  let acc = sumOut(ts[0]!, neededAfter(1));
  for (let i = 1; i < ts.length; i++) {
    const later = neededAfter(i + 1);
    // Labels of one side that neither the other side nor anything later uses are summed first.
    const b = sumOut(ts[i]!, new Set([...later, ...acc.labels]));
    acc = sumOut(acc, new Set([...later, ...b.labels]));
    acc = contractPair(acc, b, later);
  }
  acc = sumOut(acc, new Set(output));
  return transpose(
    acc.x,
    output.map((l) => acc.labels.indexOf(l)),
  );
});
