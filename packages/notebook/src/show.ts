/** `show(value)`: arrays, jaxprs, gradient-flow reports and pytrees of these as MIME bundles. */
import { Jaxpr } from "@cotangent/core";
import { type GradientFlow, formatGradientFlow, gradientFlowSvg } from "@cotangent/nn";
import { type ArrayDisplayOptions, arrayBundle, isArray } from "./arrays.js";
import { type MimeBundle, display, escapeHtml } from "./display.js";

/** True for a jaxpr, also one made by another copy of the library. */
export const isJaxpr = (v: unknown): v is Jaxpr =>
  v instanceof Jaxpr ||
  (typeof v === "object" && v !== null && Array.isArray((v as Jaxpr).eqns) && Array.isArray((v as Jaxpr).invars) && Array.isArray((v as Jaxpr).outvars));

const isGradientFlow = (v: unknown): v is GradientFlow =>
  typeof v === "object" && v !== null && Array.isArray((v as GradientFlow).layers) && typeof (v as GradientFlow).globalGradNorm === "number";

const COLORS = { keyword: "#7a3e9d", type: "#1b7a4a", primitive: "#1f5fa8", params: "#888" };
const span = (color: string, s: string) => `<span style="color:${color}">${s}</span>`;

/**
 * Highlights JAX's jaxpr text: keywords, `:f32[3]` types, primitive names and their
 * `[params]`. Works on escaped HTML, token by token, so nested brackets inside params stay intact.
 */
export const highlightJaxpr = (text: string): string =>
  text
    .split("\n")
    .map((line) => {
      const esc = escapeHtml(line);
      const m = /^(.*?=\s)([a-z_][a-z0-9_]*)(\[.*?\](?=\s|$))?(.*)$/.exec(esc);
      const typed = (s: string) => s.replace(/:([a-z]+\d*\[[^\]]*\])/g, (_, t) => `:${span(COLORS.type, t)}`).replace(/\b(lambda|let|in)\b/g, (k) => span(COLORS.keyword, k));
      if (m && !/\blambda\b/.test(m[1]!)) return `${typed(m[1]!)}${span(COLORS.primitive, m[2]!)}${m[3] ? span(COLORS.params, m[3]) : ""}${typed(m[4]!)}`;
      return typed(esc);
    })
    .join("\n");

/** A jaxpr as a collapsible, highlighted listing (open when short) with its text as fallback. */
export const jaxprBundle = (j: Jaxpr, options: { open?: boolean } = {}): MimeBundle => {
  const text = j.toString();
  const sig = `(${j.invars.map((v) => v.aval.toString()).join(", ")}) -> (${j.outvars.map((v) => v.aval.toString()).join(", ")})`;
  const open = options.open ?? j.eqns.length <= 40;
  return {
    "text/plain": text,
    "text/html": `<details${open ? " open" : ""}><summary style="font-family:monospace;cursor:pointer">jaxpr ${escapeHtml(sig)} · ${j.eqns.length} equation${j.eqns.length === 1 ? "" : "s"}</summary><pre style="margin:4px 0 0 12px">${highlightJaxpr(text)}</pre></details>`,
  };
};

/** A gradient-flow report as its chart, with the table as text. */
export const gradientFlowBundle = (flow: GradientFlow): MimeBundle => ({
  "text/plain": formatGradientFlow(flow),
  "image/svg+xml": gradientFlowSvg(flow),
});

export type ShowOptions = ArrayDisplayOptions;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const htmlOf = (b: MimeBundle): string =>
  b["text/html"] ?? (b["image/svg+xml"] ? b["image/svg+xml"].replace(/^<\?xml[^>]*>\s*/, "") : `<pre>${escapeHtml(b["text/plain"])}</pre>`);

/**
 * The MIME bundle of a value: arrays, jaxprs, gradient-flow reports, and arrays/objects
 * (pytrees) of these. Anything else is shown as Node's `util.inspect` would, as text.
 */
export const render = (value: unknown, options: ShowOptions = {}): MimeBundle => {
  if (isArray(value)) return arrayBundle(value, options);
  if (isJaxpr(value)) return jaxprBundle(value);
  if (isGradientFlow(value)) return gradientFlowBundle(value);
  if (Array.isArray(value) || isPlainObject(value)) {
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const parts = entries.map(([k, v]) => [k, render(v, options)] as const);
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    const text = `${open}\n${parts.map(([k, b]) => `  ${k}: ${b["text/plain"].replace(/\n/g, "\n    ")}`).join(",\n")}\n${close}`;
    const rows = parts
      .map(([k, b]) => `<tr><td style="vertical-align:top;font-family:monospace;padding-right:8px;color:#666">${escapeHtml(k)}</td><td style="text-align:left">${htmlOf(b)}</td></tr>`)
      .join("");
    return { "text/plain": parts.length ? text : `${open}${close}`, "text/html": `<table style="border-collapse:collapse">${rows}</table>` };
  }
  return { "text/plain": plainText(value) };
};

const plainText = (v: unknown): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/**
 * Displays `value` (see {@link render}) in the notebook, or prints its text elsewhere.
 * Returns nothing, so that a cell ending in `show(x)` does not print a second copy; use
 * {@link render} for the bundle itself.
 */
export const show = (value: unknown, options: ShowOptions = {}): void => {
  display(render(value, options));
};
