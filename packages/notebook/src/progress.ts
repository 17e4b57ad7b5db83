/** `progress(total)`: one output updated in place with the step, loss and rate, and an optional live loss curve. */
import { type MimeBundle, display, escapeHtml, hasLiveDisplay, newDisplayId } from "./display.js";
import { lineSpec, specBundle } from "./plots.js";

export interface ProgressOptions {
  /** Shown before the bar. */
  label?: string;
  /** Redraws a loss curve every this many steps (0: never). Default 0. */
  plotEvery?: number;
  /** Log scale for the live loss curve. Default true. */
  logY?: boolean;
  /** Clock, for tests. Default `performance.now()`. */
  now?: () => number;
}

/** What {@link progress} returns. */
export interface Progress {
  /** Records step `step` (1-based count of finished steps) and, optionally, the loss and other numbers to show. */
  update(step: number, values?: { loss?: number; [name: string]: number | undefined }): void;
  /** Marks the bar finished and waits for the last loss-curve redraw. */
  close(): Promise<void>;
  /** The losses recorded so far. */
  readonly losses: readonly number[];
  /** The bundle last displayed for the bar. */
  readonly last: MimeBundle;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toPrecision(4));

/**
 * A progress bar for a loop of `total` steps that updates one notebook output in place
 * (Jupyter's display ids) instead of printing a line per step; outside a notebook nothing
 * is printed until `close`, which prints the final line.
 */
export const progress = (total: number, options: ProgressOptions = {}): Progress => {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const barId = newDisplayId();
  const plotId = newDisplayId();
  const losses: number[] = [];
  let last: MimeBundle = { "text/plain": "" };
  let plotted = false;
  let plotting: Promise<void> = Promise.resolve();
  let lastStep = 0;
  const render = (step: number, values: Record<string, number | undefined>, done: boolean): MimeBundle => {
    const secs = Math.max(1e-9, (now() - start) / 1000);
    const rate = step / secs;
    const extras = Object.entries(values)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${fmt(v!)}`);
    const width = 30;
    const filled = Math.round((width * Math.min(step, total)) / Math.max(total, 1));
    const text = `${options.label ? `${options.label} ` : ""}[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${step}/${total}  ${extras.join("  ")}${extras.length ? "  " : ""}${rate.toFixed(1)} it/s${done ? `  done in ${secs.toFixed(1)} s` : ""}`;
    const html = `<div style="font-family:monospace">${options.label ? `${escapeHtml(options.label)} ` : ""}<progress value="${Math.min(step, total)}" max="${total}" style="width:240px;vertical-align:middle"></progress> ${step}/${total} ${escapeHtml([...extras, `${rate.toFixed(1)} it/s`].join(" · "))}${done ? ` · done in ${secs.toFixed(1)} s` : ""}</div>`;
    return { "text/plain": text, "text/html": html };
  };
  let lastValues: Record<string, number | undefined> = {};
  const redraw = () => {
    const spec = lineSpec({ loss: losses.slice() }, { title: options.label ? `${options.label}: loss` : "loss", logY: options.logY ?? true, yLabel: "loss", height: 180 });
    const update = plotted;
    plotted = true;
    plotting = plotting.then(() => specBundle(spec)).then((b) => display(b, { displayId: plotId, update }));
  };
  const live = hasLiveDisplay();
  last = render(0, {}, false);
  if (live) display(last, { displayId: barId });
  return {
    update(step, values = {}) {
      lastStep = step;
      lastValues = values;
      if (typeof values.loss === "number") losses.push(values.loss);
      last = render(step, values, false);
      if (live) display(last, { displayId: barId, update: true });
      if (live && options.plotEvery && step % options.plotEvery === 0 && losses.length > 1) redraw();
    },
    async close() {
      last = render(lastStep, lastValues, true);
      // Outside a notebook there is nothing to update in place: the final line is printed once.
      display(last, live ? { displayId: barId, update: true } : {});
      await plotting;
    },
    get losses() {
      return losses;
    },
    get last() {
      return last;
    },
  };
};
