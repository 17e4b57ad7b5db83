/** The gradient-flow report as a plain-text table for terminals and logs. */
import { ValueError, describeValue } from "@cotangent/core";
import { checkFlow } from "./data.js";
import type { GradientFlow } from "./data.js";
import { count, sci } from "./format.js";

/**
 * An aligned plain-text table, one row per layer: name, parameter count, ‖param‖,
 * ‖grad‖, ‖update‖/‖param‖ (when updates were given) and flags, then the global gradient
 * norm and the thresholds that set the flags.
 *
 * ```
 * layer  params  |param|   |grad|    |update|/|param|  flags
 * [0]     2,080  1.17e+1   4.01e-2   1.02e-3
 * [2]        33  2.51e+0   3.10e-9   8.97e-8           vanishing
 * ```
 */
export const formatGradientFlow = (flow: GradientFlow): string => {
  checkFlow("nn.formatGradientFlow", flow);
  const withUpdates = flow.layers.some((l) => l.updateRatio !== null);
  const header = ["layer", "params", "|param|", "|grad|", ...(withUpdates ? ["|update|/|param|"] : []), "flags"];
  const rows = flow.layers.map((l) => [
    l.name,
    count(l.size),
    sci(l.paramNorm),
    sci(l.gradNorm),
    ...(withUpdates ? [l.updateRatio === null ? "-" : sci(l.updateRatio)] : []),
    l.flags.join(", "),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  // Names and flags read left to right; numbers line up on the right.
  const left = (c: number) => c === 0 || c === header.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((s, c) => (left(c) ? s.padEnd(widths[c]!) : s.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  const t = flow.thresholds;
  const maxGrad = Math.max(0, ...flow.layers.map((l) => l.gradNorm).filter(Number.isFinite));
  return [
    line(header),
    ...rows.map(line),
    `global |grad| ${sci(flow.globalGradNorm)}`,
    `flags: vanishing if |grad| < ${sci(t.vanishingNorm)} or < ${sci(t.vanishingRatio)} x the largest |grad| (${sci(t.vanishingRatio * maxGrad)}); exploding if |grad| > ${sci(t.explodingNorm)}; nonfinite if a gradient is NaN or infinite`,
  ].join("\n");
};
