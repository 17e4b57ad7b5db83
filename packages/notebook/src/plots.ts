/**
 * Plots as Vega-Lite specs, rendered headlessly to SVG by `vega` (no DOM, no canvas).
 * The spec builders are plain data, so the same plots render in a browser page with
 * `vega-embed` or `vega.View`; the `plot*` functions render and display them in a notebook.
 */
import type { ArrayBase } from "@cotangent/core";
import { isArray } from "./arrays.js";
import { type MimeBundle, display } from "./display.js";

/** Numbers to plot: a JS array or a Cotangent array (flattened). */
export type Values = readonly number[] | ArrayBase;
/** A Vega-Lite specification (top-level JSON). */
export type VegaLiteSpec = Record<string, unknown>;

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
}

const numbers = (v: Values): number[] => (isArray(v) ? Array.from(v.toTypedArray(), Number) : Array.from(v));
const base = (o: PlotOptions): VegaLiteSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  ...(o.title ? { title: o.title } : {}),
  width: o.width ?? 420,
  height: o.height ?? 240,
});

export interface LineOptions extends PlotOptions {
  /** Log scale on the y axis (loss curves, gradient norms). Default false. */
  logY?: boolean;
  logX?: boolean;
  /** x values shared by every series; default 0, 1, 2, ... */
  x?: Values;
}

/** Line chart of one or several named series (`{ train: [...], test: [...] }`). */
export const lineSpec = (series: Values | Record<string, Values>, options: LineOptions = {}): VegaLiteSpec => {
  const named: Record<string, Values> = Array.isArray(series) || isArray(series) ? { y: series as Values } : (series as Record<string, Values>);
  const xs = options.x ? numbers(options.x) : null;
  const values = Object.entries(named).flatMap(([name, ys]) => numbers(ys).map((y, i) => ({ series: name, x: xs ? xs[i] : i, y })));
  const several = Object.keys(named).length > 1;
  return {
    ...base(options),
    data: { values },
    mark: { type: "line", interpolate: "linear" },
    encoding: {
      x: { field: "x", type: "quantitative", title: options.xLabel ?? "step", ...(options.logX ? { scale: { type: "log" } } : {}) },
      y: { field: "y", type: "quantitative", title: options.yLabel ?? "value", ...(options.logY ? { scale: { type: "log" } } : { scale: { zero: false } }) },
      ...(several ? { color: { field: "series", type: "nominal", title: null } } : {}),
    },
  };
};

export interface HistogramOptions extends PlotOptions {
  /** Maximum number of bins. Default 40. */
  bins?: number;
  /** Charts per row when several named arrays are given. Default 3. */
  columns?: number;
}

/** Histogram of the values of one array, or one small histogram per named array (weights or gradients per layer). */
export const histogramSpec = (data: Values | Record<string, Values>, options: HistogramOptions = {}): VegaLiteSpec => {
  const named: Record<string, Values> = Array.isArray(data) || isArray(data) ? { values: data as Values } : (data as Record<string, Values>);
  const values = Object.entries(named).flatMap(([name, vs]) => numbers(vs).filter(Number.isFinite).map((v) => ({ series: name, v })));
  const layer = {
    mark: "bar",
    encoding: {
      x: { field: "v", bin: { maxbins: options.bins ?? 40 }, type: "quantitative", title: options.xLabel ?? "value" },
      y: { aggregate: "count", type: "quantitative", title: options.yLabel ?? "count" },
    },
  };
  if (Object.keys(named).length === 1) return { ...base(options), data: { values }, ...layer };
  const { width, height, ...rest } = base({ ...options, width: options.width ?? 200, height: options.height ?? 120 });
  return {
    ...rest,
    data: { values },
    facet: { field: "series", type: "nominal", title: null, sort: Object.keys(named) },
    columns: options.columns ?? 3,
    spec: { width, height, ...layer },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
};

export interface ScatterOptions extends PlotOptions {
  /** A category or value per point, mapped to colour. */
  color?: readonly (string | number)[] | ArrayBase;
}

/** Scatter plot of y against x. */
export const scatterSpec = (x: Values, y: Values, options: ScatterOptions = {}): VegaLiteSpec => {
  const xs = numbers(x);
  const ys = numbers(y);
  const cs = options.color ? (isArray(options.color) ? numbers(options.color) : Array.from(options.color)) : null;
  const values = xs.map((xv, i) => ({ x: xv, y: ys[i], ...(cs ? { c: cs[i] } : {}) }));
  return {
    ...base(options),
    data: { values },
    mark: { type: "point", filled: true, size: 24 },
    encoding: {
      x: { field: "x", type: "quantitative", title: options.xLabel ?? "x", scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: options.yLabel ?? "y", scale: { zero: false } },
      ...(cs ? { color: { field: "c", type: cs.every((c) => typeof c === "number") ? "quantitative" : "nominal", title: null } } : {}),
    },
  };
};

/** Heat map of a matrix (a 2-D array or nested JS arrays): weights, attention, correlations. */
export const heatmapSpec = (matrix: ArrayBase | readonly (readonly number[])[], options: PlotOptions & { scheme?: string } = {}): VegaLiteSpec => {
  const rows: number[][] = isArray(matrix) ? (matrix.ndim === 2 ? matrix.toArray() : [numbers(matrix)]) : matrix.map((r) => Array.from(r));
  const values = rows.flatMap((r, i) => r.map((v, j) => ({ row: i, col: j, v })));
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const cell = Math.max(4, Math.min(24, Math.floor(420 / Math.max(cols, rows.length, 1))));
  return {
    ...base({ width: cell * cols, height: cell * rows.length, ...options }),
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "col", type: "ordinal", title: options.xLabel ?? null, axis: cols > 32 ? { labels: false, ticks: false } : {} },
      y: { field: "row", type: "ordinal", title: options.yLabel ?? null, axis: rows.length > 32 ? { labels: false, ticks: false } : {} },
      color: { field: "v", type: "quantitative", title: null, scale: { scheme: options.scheme ?? "viridis" } },
    },
  };
};

type Vega = typeof import("vega");
type VegaLite = typeof import("vega-lite");
let libs: Promise<[Vega, VegaLite]> | null = null;
// Loaded on first use: vega is an ES module (the CommonJS build reaches it through import()).
const load = () => (libs ??= Promise.all([import("vega"), import("vega-lite")]));

/** Renders a Vega-Lite spec to an SVG string, headlessly. */
export const renderSvg = async (spec: VegaLiteSpec): Promise<string> => {
  const [vega, vl] = await load();
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/** A Vega-Lite spec as a MIME bundle: the SVG, and a one-line description as text. */
export const specBundle = async (spec: VegaLiteSpec): Promise<MimeBundle> => {
  const svg = await renderSvg(spec);
  const mark = typeof spec.mark === "string" ? spec.mark : (spec.mark as { type?: string } | undefined)?.type ?? ((spec.spec as { mark?: string })?.mark ?? "chart");
  const n = ((spec.data as { values?: unknown[] })?.values ?? []).length;
  return { "text/plain": `<${mark} chart${spec.title ? ` "${spec.title}"` : ""}: ${n} points>`, "image/svg+xml": svg };
};

// Display functions return nothing, so a cell ending in one prints no second copy.
const shown = async (spec: VegaLiteSpec): Promise<void> => {
  display(await specBundle(spec));
};

/** Displays a line chart ({@link lineSpec}). */
export const plotLine = (series: Values | Record<string, Values>, options: LineOptions = {}): Promise<void> => shown(lineSpec(series, options));
/** Displays a histogram ({@link histogramSpec}). */
export const plotHistogram = (data: Values | Record<string, Values>, options: HistogramOptions = {}): Promise<void> => shown(histogramSpec(data, options));
/** Displays a scatter plot ({@link scatterSpec}). */
export const plotScatter = (x: Values, y: Values, options: ScatterOptions = {}): Promise<void> => shown(scatterSpec(x, y, options));
/** Displays a heat map ({@link heatmapSpec}). */
export const plotHeatmap = (matrix: ArrayBase | readonly (readonly number[])[], options: PlotOptions & { scheme?: string } = {}): Promise<void> => shown(heatmapSpec(matrix, options));
