/**
 * The `debugNans` / `debugInfs` check: after an equation runs on concrete arrays, a NaN
 * (or an infinity) in a float output raises {@link FloatingPointError} naming the
 * primitive, the equation as its jaxpr prints it, the user's line and, for an equation a
 * transform emitted, the forward equation it derives from.
 *
 * Every evaluator calls {@link checkEqnOutputs} (or {@link checkEagerOutputs} for eager
 * `bind`) behind one test of `debugFlags.check`, so the check costs nothing while off.
 */
import { type ArrayBase, NDArray, bufferOf } from "./array.js";
import { debugFlags } from "./config.js";
import { FloatingPointError, type SourceInfo, captureSource } from "./errors.js";
import { Eqn, type Jaxpr, Var } from "./ir/jaxpr.js";
import type { Params, Primitive } from "./ir/primitive.js";
import { printEqn } from "./ir/print.js";

/** Counts the checks made (tests use it to show that nothing is checked while the flags are off). */
export const nanCheckCounter = { checks: 0 };

interface BadValue {
  output: number;
  kind: "nan" | "inf";
  count: number;
  size: number;
}

/** The first output holding a value the flags forbid, or null. */
const findBad = (outs: readonly ArrayBase[]): BadValue | null => {
  const { nans, infs } = debugFlags;
  for (let o = 0; o < outs.length; o++) {
    const x = outs[o];
    if (!(x instanceof NDArray) || (x.dtype !== "float32" && x.dtype !== "float64")) continue;
    const buf = bufferOf(x);
    let nanCount = 0;
    let infCount = 0;
    for (let i = 0; i < buf.length; i++) {
      const v = buf[i]!;
      if (v !== v) nanCount++;
      else if (v === Infinity || v === -Infinity) infCount++;
    }
    if (nans && nanCount > 0) return { output: o, kind: "nan", count: nanCount, size: buf.length };
    if (infs && infCount > 0) return { output: o, kind: "inf", count: infCount, size: buf.length };
  }
  return null;
};

const describe = (bad: BadValue, nOuts: number, prim: string): string => {
  const what = bad.kind === "nan" ? "invalid value (nan)" : "infinite value (inf)";
  const where = nOuts > 1 ? `output ${bad.output} of ${prim}` : `the output of ${prim}`;
  return `${what} encountered in ${prim}: ${bad.count} of ${bad.size} element${bad.size === 1 ? "" : "s"} of ${where}`;
};

const HINT_NAN =
  "look at the inputs of this equation (debug.print prints traced values); common causes are log or sqrt of a value <= 0, " +
  "0/0 and inf - inf. For a gradient, guard the forward op so both branches are safe (np.where on the input, not only on the output). " +
  "Turn the check off with config.update(\"debugNans\", false)";
const HINT_INF =
  "an overflow or a division by zero: clip or rescale the value (for gradients, optim.clipByGlobalNorm), or compute in float64. " +
  "Turn the check off with config.update(\"debugInfs\", false)";

/** A higher-order equation prints its sub-jaxprs over many lines; the message shows its first and last line: `b:f32[] = scan[…] a`. */
const oneLine = (text: string): string => {
  const lines = text.split("\n");
  return lines.length === 1 ? text : `${lines[0]}…${lines[lines.length - 1]!.trim()}`;
};

const raise = (eqn: Eqn, jaxpr: Jaxpr | null, bad: BadValue, source: SourceInfo | null): never => {
  const equation = printEqn(eqn, jaxpr);
  const lines = [describe(bad, eqn.outputs.length, eqn.primitive.name), `  equation: ${oneLine(equation)}`];
  const d = eqn.derivedFrom;
  let forwardEquation: string | null = null;
  let forwardSource: string | null = null;
  if (d) {
    forwardEquation = printEqn(d.eqn, d.jaxpr);
    forwardSource = d.eqn.source?.location ?? null;
    const at = forwardSource ? ` (at ${forwardSource})` : "";
    lines.push(
      d.via === "transpose"
        ? `  in the backward pass: this equation computes part of the gradient of the forward equation\n    ${oneLine(forwardEquation)}${at}`
        : `  emitted by the jvp rule (derivative) of the forward equation\n    ${oneLine(forwardEquation)}${at}`,
    );
  }
  throw new FloatingPointError(
    lines.join("\n"),
    { primitive: eqn.primitive.name, equation, forwardEquation, forwardSource },
    { op: eqn.primitive.name, source: source ?? null, hint: bad.kind === "nan" ? HINT_NAN : HINT_INF },
  );
};

/**
 * Checks the outputs of `eqn` (evaluated on concrete arrays) against the debug flags;
 * `jaxpr` is the jaxpr holding `eqn`, used to print it with its names there. Callers test
 * `debugFlags.check` first, so this runs only with `debugNans` or `debugInfs` on.
 */
export const checkEqnOutputs = (eqn: Eqn, outs: readonly ArrayBase[], jaxpr: Jaxpr | null = null): void => {
  nanCheckCounter.checks++;
  const bad = findBad(outs);
  if (bad) raise(eqn, jaxpr, bad, eqn.source);
};

/**
 * Runs `impl` of a higher-order equation (or any equation) so that a FloatingPointError
 * raised in its sub-jaxprs (a scan or cond body) names the enclosing equation too.
 */
export const withinEqn = <T>(prim: Primitive, source: SourceInfo | null, impl: () => T): T => {
  if (!prim.subJaxprs) return impl();
  try {
    return impl();
  } catch (err) {
    if (err instanceof FloatingPointError) err.addWithin(`${prim.name}${source?.location ? ` at ${source.location}` : ""}`);
    throw err;
  }
};

/** Eager `bind` with the check: runs `prim.impl` and checks its outputs (the equation is printed with fresh names). */
export const checkedEagerImpl = (prim: Primitive, inputs: readonly NDArray[], params: Params): NDArray[] => {
  const source = prim.subJaxprs ? captureSource() : null;
  const outs = withinEqn(prim, source, () => prim.impl(inputs as NDArray[], params));
  nanCheckCounter.checks++;
  const bad = findBad(outs);
  if (!bad) return outs;
  const eqn = new Eqn(
    prim,
    inputs.map((x) => new Var(x.aval)),
    params,
    outs.map((x) => new Var(x.aval)),
    source ?? captureSource(),
  );
  return raise(eqn, null, bad, eqn.source);
};
