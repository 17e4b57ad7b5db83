/**
 * The gradient-flow report as a self-contained SVG chart (a string): one horizontal bar
 * per layer for ‖grad‖ on a log scale, a dot for ‖param‖, dashed lines at the vanishing
 * and exploding thresholds, and each layer's flags written beside its bar. It displays
 * inline in notebooks and browsers, or can be written to a .svg file.
 */
import { ValueError, describeValue } from "@cotangent/core";
import { checkFlow } from "./data.js";
import type { GradientFlow, LayerFlow } from "./data.js";
import { sci } from "./format.js";

export interface SvgOptions {
  /** Total width in pixels. Default 720 (wider when long names or notes need it). */
  width?: number;
  /** Title above the chart. Default "Gradient flow". */
  title?: string;
}

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const COLORS = { ok: "#4c78a8", vanishing: "#f58518", exploding: "#e45756", nonfinite: "#b2182b", param: "#555", grid: "#ddd" };

const colorOf = (l: LayerFlow): string =>
  l.flags.includes("nonfinite") ? COLORS.nonfinite : l.flags.includes("exploding") ? COLORS.exploding : l.flags.includes("vanishing") ? COLORS.vanishing : COLORS.ok;

/** Approximate advance of one character of the 12px monospace font, for layout. */
const CHAR = 7.4;

/** Renders {@link GradientFlow} as an SVG document. */
export const gradientFlowSvg = (flow: GradientFlow, options: SvgOptions = {}): string => {
  checkFlow("nn.gradientFlowSvg", flow);
  if (options === null || typeof options !== "object") throw new ValueError(`options must be an object, got ${describeValue(options)}`, { op: "nn.gradientFlowSvg" });
  const title = options.title ?? "Gradient flow";
  const t = flow.thresholds;
  const rowH = 22;
  const top = 48;
  const noteOf = (l: LayerFlow) => `${sci(l.gradNorm)}${l.updateRatio !== null ? `  u/p ${sci(l.updateRatio)}` : ""}${l.flags.length ? `  ${l.flags.join(", ")}` : ""}`;
  const labelW = 16 + CHAR * Math.max(5, ...flow.layers.map((l) => l.name.length));
  const noteW = 16 + CHAR * Math.max(8, ...flow.layers.map((l) => noteOf(l).length));
  // The chart keeps at least 240px; the picture grows rather than clipping text.
  const width = Math.max(options.width ?? 720, Math.ceil(labelW + 240 + noteW));
  const x0 = labelW;
  const x1 = width - noteW;
  const bottom = top + rowH * Math.max(1, flow.layers.length);
  const height = bottom + 48;

  // Log10 domain covering every finite positive norm and both absolute thresholds.
  const values = flow.layers.flatMap((l) => [l.gradNorm, l.paramNorm]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.floor(Math.log10(Math.min(t.vanishingNorm || 1e-7, ...values))) - 1;
  const hi = Math.ceil(Math.log10(Math.max(t.explodingNorm || 1e3, ...values))) + 1;
  const xOf = (v: number): number => (v <= 0 ? x0 : !Number.isFinite(v) ? x1 : x0 + ((Math.log10(v) - lo) / (hi - lo)) * (x1 - x0));

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, Menlo, monospace" font-size="12">`);
  out.push(`<title>${escape(title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="8" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`);
  out.push(`<text x="8" y="34" fill="#333">bars: |grad| (log scale), dots: |param|, u/p: |update|/|param|; global |grad| ${sci(flow.globalGradNorm)}</text>`);
  // Decade grid lines and labels.
  const step = Math.max(1, Math.ceil((hi - lo) / 10));
  for (let e = lo; e <= hi; e += step) {
    const x = xOf(10 ** e).toFixed(1);
    out.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${bottom}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#666">1e${e}</text>`);
  }
  // Threshold lines, explained in a legend below the axis.
  const maxGrad = Math.max(0, ...flow.layers.map((l) => l.gradNorm).filter(Number.isFinite));
  const lines: [number, string, string][] = [
    [t.vanishingNorm, COLORS.vanishing, `vanishing < ${sci(t.vanishingNorm)}`],
    [t.vanishingRatio * maxGrad, COLORS.vanishing, `vanishing < ${sci(t.vanishingRatio)} x max (${sci(t.vanishingRatio * maxGrad)})`],
    [t.explodingNorm, COLORS.exploding, `exploding > ${sci(t.explodingNorm)}`],
  ];
  let legendX = 8;
  for (const [v, color, label] of lines) {
    if (!(v > 0)) continue;
    const x = xOf(v).toFixed(1);
    out.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${bottom}" stroke="${color}" stroke-dasharray="4 3"/>`);
    out.push(`<line x1="${legendX}" y1="${bottom + 32}" x2="${legendX + 18}" y2="${bottom + 32}" stroke="${color}" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${legendX + 24}" y="${bottom + 36}" fill="${color}">${escape(label)}</text>`);
    legendX += 24 + CHAR * label.length + 20;
  }
  // One row per layer.
  flow.layers.forEach((l, i) => {
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    out.push(`<g class="layer" data-name="${escape(l.name)}" data-flags="${l.flags.join(" ")}">`);
    out.push(`<text x="${labelW - 8}" y="${cy + 4}" text-anchor="end">${escape(l.name)}</text>`);
    const w = Math.max(0, xOf(l.gradNorm) - x0);
    out.push(`<rect x="${x0}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colorOf(l)}"><title>${escape(`${l.name}: |grad| ${sci(l.gradNorm)}, |param| ${sci(l.paramNorm)}`)}</title></rect>`);
    if (l.paramNorm > 0) out.push(`<circle cx="${xOf(l.paramNorm).toFixed(1)}" cy="${cy}" r="3.5" fill="${COLORS.param}"/>`);
    out.push(`<text x="${x1 + 8}" y="${cy + 4}" fill="${l.flags.length ? colorOf(l) : "#333"}">${escape(noteOf(l))}</text>`);
    out.push(`</g>`);
  });
  if (flow.layers.length === 0) out.push(`<text x="${x0}" y="${top + 14}" fill="#666">no float parameters</text>`);
  out.push(`</svg>`);
  return out.join("\n");
};
