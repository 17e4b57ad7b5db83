/**
 * @packageDocumentation
 * Cotangent notebook: rich display in Jupyter with the tslab kernel. Arrays as tables,
 * jaxprs as highlighted listings, IR graphs (Graphviz in WebAssembly), Vega-Lite plots
 * rendered to SVG, progress bars updated in place, and concise errors. Outside tslab every
 * display prints its plain-text form, so code using it still runs in scripts and tests.
 *
 * ```ts
 * import { show, showGraph, plotLine } from "@cotangent/notebook";
 * show(np.arange(12).reshape([3, 4]));
 * await showGraph(grad(f), x);
 * await plotLine({ train: losses }, { logY: true });
 * ```
 */
export { type MimeBundle, type DisplaySink, display, inTslab, hasLiveDisplay, setDisplaySink, newDisplayId } from "./display.js";
export { type ArrayDisplayOptions, isArray, caption, formatNumber, arrayHtml, arrayText, arrayBundle } from "./arrays.js";
export { type ShowOptions, show, render, isJaxpr, jaxprBundle, highlightJaxpr, gradientFlowBundle } from "./show.js";
export { showGraph, showGraphWith, graphBundle } from "./graph.js";
export {
  type Values,
  type VegaLiteSpec,
  type PlotOptions,
  type LineOptions,
  type HistogramOptions,
  type ScatterOptions,
  lineSpec,
  histogramSpec,
  scatterSpec,
  heatmapSpec,
  renderSvg,
  specBundle,
  plotLine,
  plotHistogram,
  plotScatter,
  plotHeatmap,
} from "./plots.js";
export { type ProgressOptions, type Progress, progress } from "./progress.js";
export { userFrames, formatError, errorBundle, showError, concise } from "./errors.js";
export { trackTslabCells, installStackMapping, mapCellFrames } from "./cells.js";

import { trackTslabCells as trackCells } from "./cells.js";
// In the tslab kernel, frames name the cell and the line the user typed (`In[3]:4`); elsewhere nothing happens.
trackCells();
