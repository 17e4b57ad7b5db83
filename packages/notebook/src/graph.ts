/** `showGraph`: a jaxpr's dataflow graph rendered to SVG by Graphviz compiled to WebAssembly (`@viz-js/viz`). */
import { type DotOptions, Jaxpr, makeJaxpr, toDot } from "@cotangent/core";
import { type MimeBundle, display } from "./display.js";
import { isJaxpr } from "./show.js";

type Viz = { renderString(dot: string, options: { format: string }): string };
let vizPromise: Promise<Viz> | null = null;
/** The Graphviz instance, made once (compiling the WebAssembly module takes a moment). */
const viz = (): Promise<Viz> => (vizPromise ??= import("@viz-js/viz").then((m) => m.instance()));

/** The DOT text and the rendered SVG of a jaxpr, or of `fn` traced on `args`. */
export const graphBundle = async (target: Jaxpr | ((...args: any[]) => unknown), args: unknown[] = [], options: DotOptions = {}): Promise<MimeBundle> => {
  const jaxpr = isJaxpr(target) ? target : makeJaxpr(target as (...a: any[]) => any)(...args);
  const dot = toDot(jaxpr, options);
  const svg = (await viz()).renderString(dot, { format: "svg" });
  return { "text/plain": dot, "image/svg+xml": svg };
};

/**
 * Displays the IR graph of a jaxpr, or of `fn` traced on `args` (`showGraph(f, x)`).
 * Sub-jaxprs of scan/cond/checkpoint are drawn as clusters. Its text form is the DOT source ({@link graphBundle} returns the bundle).
 */
export async function showGraph(target: Jaxpr | ((...args: any[]) => unknown), ...args: unknown[]): Promise<void> {
  display(await graphBundle(target, args));
}

/** {@link showGraph} with {@link DotOptions} (sources, params, collapse). */
export const showGraphWith = async (options: DotOptions, target: Jaxpr | ((...args: any[]) => unknown), ...args: unknown[]): Promise<void> => {
  display(await graphBundle(target, args, options));
};
