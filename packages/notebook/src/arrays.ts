/** Arrays as MIME bundles: an HTML table with a `float32[3,4]` caption, summarised as NumPy does. */
import type { ArrayBase } from "@cotangent/core";
import { type MimeBundle, escapeHtml } from "./display.js";

/**
 * True for a Cotangent array or tracer, also one made by another copy of the library
 * (the ESM and CommonJS builds are two copies, so `instanceof` is not enough).
 */
export const isArray = (v: unknown): v is ArrayBase =>
  typeof v === "object" &&
  v !== null &&
  ((v as Record<symbol, unknown>)[Symbol.for("cotangent.array")] === true ||
    ("aval" in v && typeof (v as { toTypedArray?: unknown }).toTypedArray === "function" && Array.isArray((v as { shape?: unknown }).shape)));

export interface ArrayDisplayOptions {
  /** Arrays with more elements than this are summarised. Default 1000, as NumPy's `threshold`. */
  threshold?: number;
  /** Items kept at each end of a summarised axis. Default 3, as NumPy's `edgeitems`. */
  edgeItems?: number;
  /** Colours the cells of a matrix by value (a heat map). Default false. */
  heatmap?: boolean;
}

/** `float32[3,4]`. */
export const caption = (x: ArrayBase): string => `${x.dtype}[${x.shape.join(",")}]`;

/** A number as the table shows it: up to 6 significant digits, exponent form when very large or small. */
export const formatNumber = (v: number, dtype: string): string => {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32" || !Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(3);
  return String(Number(v.toPrecision(6)));
};

/** Indices shown along an axis of length n; -1 marks the ellipsis. */
const shownIndices = (n: number, summarise: boolean, edge: number): number[] => {
  if (!summarise || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: edge }, (_, i) => i), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)];
};

/** A blue-to-yellow ramp (viridis end points and middle), for heat-map cells. */
const ramp = (t: number): string => {
  const stops = [
    [68, 1, 84],
    [33, 145, 140],
    [253, 231, 37],
  ];
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 2;
  const i = Math.min(1, Math.floor(u));
  const f = u - i;
  const c = stops[i]!.map((s, k) => Math.round(s + (stops[i + 1]![k]! - s) * f));
  return `rgb(${c.join(",")})`;
};

const TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px";
const CELL_STYLE = "padding:1px 6px;text-align:right;border:1px solid #ddd";

/** The HTML of an array, summarised when large. Tracers show only their type. */
export const arrayHtml = (x: ArrayBase, options: ArrayDisplayOptions = {}): string => {
  const cap = `<caption style="caption-side:top;text-align:left;font-family:monospace">${escapeHtml(caption(x))}</caption>`;
  let data: ArrayLike<number>;
  try {
    data = x.toTypedArray();
  } catch {
    return `<table style="${TABLE_STYLE}">${cap}<tr><td style="${CELL_STYLE}">(traced: no value)</td></tr></table>`;
  }
  const shape = x.shape;
  const edge = options.edgeItems ?? 3;
  const summarise = x.size > (options.threshold ?? 1000);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  let lo = Infinity;
  let hi = -Infinity;
  if (options.heatmap) for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i]!)) (lo = Math.min(lo, data[i]!)), (hi = Math.max(hi, data[i]!));
  const cell = (v: number) => {
    const bg = options.heatmap ? (() => {
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      return `;background:${ramp(t)};color:${t > 0.6 ? "#000" : "#fff"}`;
    })() : "";
    return `<td style="${CELL_STYLE}${bg}">${escapeHtml(formatNumber(v, x.dtype))}</td>`;
  };
  const dots = `<td style="${CELL_STYLE}">…</td>`;
  const matrix = (offset: number, rows: number, cols: number, rowStride: number): string => {
    const body = shownIndices(rows, summarise, edge)
      .map((r) =>
        r < 0
          ? `<tr>${shownIndices(cols, summarise, edge).map(() => `<td style="${CELL_STYLE}">⋮</td>`).join("")}</tr>`
          : `<tr>${shownIndices(cols, summarise, edge).map((c) => (c < 0 ? dots : cell(data[offset + r * rowStride + c]!))).join("")}</tr>`,
      )
      .join("");
    return body;
  };
  if (shape.length === 0) return `<table style="${TABLE_STYLE}">${cap}<tr>${cell(data[0]!)}</tr></table>`;
  if (shape.length === 1) return `<table style="${TABLE_STYLE}">${cap}${matrix(0, 1, shape[0]!, 0)}</table>`;
  if (shape.length === 2) return `<table style="${TABLE_STYLE}">${cap}${matrix(0, shape[0]!, shape[1]!, strides[0]!)}</table>`;
  // Higher rank: one matrix per index of the leading axes, labelled `[i, j, :, :]`.
  const lead = shape.slice(0, -2);
  const parts: string[] = [];
  const walk = (axis: number, prefix: number[], offset: number) => {
    if (axis === lead.length) {
      const label = `[${[...prefix.map(String), ":", ":"].join(", ")}]`;
      parts.push(`<tr><th style="text-align:left;font-weight:normal;color:#666" colspan="99">${label}</th></tr>${matrix(offset, shape.at(-2)!, shape.at(-1)!, strides.at(-2)!)}`);
      return;
    }
    for (const i of shownIndices(lead[axis]!, summarise, edge)) {
      if (i < 0) parts.push(`<tr><th style="text-align:left;font-weight:normal;color:#666" colspan="99">…</th></tr>`);
      else walk(axis + 1, [...prefix, i], offset + i * strides[axis]!);
    }
  };
  walk(0, [], 0);
  return `<table style="${TABLE_STYLE}">${cap}${parts.join("")}</table>`;
};

/** The plain-text form: the caption, then the array as `toString` prints it. */
export const arrayText = (x: ArrayBase): string => {
  try {
    return `${caption(x)}\n${x.toString()}`;
  } catch {
    return `${caption(x)} (traced)`;
  }
};

/** An array as a MIME bundle (HTML table and plain text). */
export const arrayBundle = (x: ArrayBase, options: ArrayDisplayOptions = {}): MimeBundle => ({
  "text/plain": arrayText(x),
  "text/html": arrayHtml(x, options),
});
